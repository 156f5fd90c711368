"""The detail pane: tags, analysis values, cover art, file properties and errors of the current track."""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QLabel, QScrollArea, QVBoxLayout, QWidget

from backend.api.client import LibraryClient
from tracktion_gui.asyncutil import Replaceable
from tracktion_gui.models.columns import display, format_key

COVER_PX = 160


def _row(label: str, value: Any) -> str:
    if value in (None, "", [], {}):
        return ""
    return (
        f"<tr><td style='color:#8a8d93; padding-right:10px'>{html.escape(label)}</td>"
        f"<td>{html.escape(str(value))}</td></tr>"
    )


def _section(title: str, rows: list[str]) -> str:
    body = "".join(r for r in rows if r)
    if not body:
        return ""
    return f"<h4 style='margin:10px 0 2px 0'>{html.escape(title)}</h4><table>{body}</table>"


def _alternative_bpm(analysis: dict[str, Any], bpm: float | None) -> str | None:
    """The analysis's second tempo candidate (or half/double time when it gave none)."""
    for key in ("bpm_alternative", "bpm_alt", "alternative_bpm"):
        if analysis.get(key):
            return display("bpm", analysis[key])
    candidates = analysis.get("bpm_candidates") or analysis.get("tempo_candidates")
    if isinstance(candidates, list) and len(candidates) > 1:
        second = candidates[1]
        value = second.get("bpm") if isinstance(second, dict) else second
        if value:
            return display("bpm", value)
    if bpm:
        return f"{display('bpm', bpm / 2)} / {display('bpm', bpm * 2)} (half / double)"
    return None


def render_html(track: dict[str, Any], notation: str) -> str:
    """The pane's text for one track (plain HTML, so it is cheap and selectable)."""
    analysis = track.get("analysis") or {}
    title = html.escape(track.get("title") or track.get("rel_path") or "")
    artist = html.escape(track.get("artist") or "Unknown artist")
    parts = [f"<h2 style='margin:0'>{title}</h2><div style='font-size:13px'>{artist}</div>"]
    status = track.get("status")
    if status in ("error", "missing") or track.get("last_error"):
        reason = track.get("last_error") or ("file not found" if status == "missing" else "")
        parts.append(
            f"<p style='color:#e5534b'><b>{html.escape(str(status))}</b>: "
            f"{html.escape(str(reason))}</p>"
        )
    parts.append(
        _section(
            "Analysis",
            [
                _row("BPM", display("bpm", track.get("bpm"))),
                _row("Alternative", _alternative_bpm(analysis, track.get("bpm"))),
                _row("Key", format_key(track.get("camelot"), notation)),
                _row("Energy", display("energy", track.get("energy"))),
                _row("Loudness", f"{track['loudness_lufs']:.1f} LUFS")
                if track.get("loudness_lufs") is not None
                else "",
                _row("Analysed", track.get("analysis_version")),
            ],
        )
    )
    parts.append(
        _section(
            "Tags",
            [
                _row("Album", track.get("album")),
                _row("Album artist", track.get("album_artist")),
                _row("Genre", track.get("genre")),
                _row("Year", track.get("year")),
                _row("Track", track.get("track_no")),
                _row("Label", track.get("label")),
                _row("BPM tag", display("bpm_tag", track.get("bpm_tag"))),
                _row("Key tag", track.get("key_tag")),
                _row("ISRC", track.get("isrc")),
                _row("Comment", track.get("comment")),
            ],
        )
    )
    size = track.get("size") or 0
    parts.append(
        _section(
            "File",
            [
                _row("Path", track.get("abs_path")),
                _row("Format", track.get("format")),
                _row("Codec", track.get("codec")),
                _row("Duration", display("duration", track.get("duration_s"))),
                _row("Bitrate", display("bitrate", track.get("bitrate"))),
                _row("Sample rate", display("sample_rate", track.get("sample_rate"))),
                _row("Bit depth", track.get("bit_depth")),
                _row("Channels", track.get("channels")),
                _row("Size", f"{size / 1_000_000:.1f} MB" if size else None),
                _row("Status", status),
            ],
        )
    )
    return "".join(parts)


class DetailPane(QScrollArea):
    """Shows one track; loads are cancel-and-replace so fast arrowing through the table stays cheap."""

    def __init__(self, client: LibraryClient, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("detailPane")
        self.client = client
        self.track_id = -1
        self.track: dict[str, Any] | None = None
        self._load = Replaceable()
        inner = QWidget(self)
        layout = QVBoxLayout(inner)
        self.cover = QLabel(inner)
        self.cover.setFixedSize(COVER_PX, COVER_PX)
        self.cover.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.cover.setStyleSheet("border: 1px solid palette(mid); border-radius: 4px;")
        self.text = QLabel(inner)
        self.text.setObjectName("detailText")
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.text.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.cover, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(self.text, 1)
        layout.addStretch()
        self.setWidget(inner)
        self.setWidgetResizable(True)
        self.setMinimumWidth(240)
        self._empty()

    def _empty(self) -> None:
        self.cover.setText("No track")
        self.cover.setPixmap(QPixmap())
        self.text.setText("<p style='color:gray'>Select a track to see its details.</p>")

    def show_track(self, track_id: int) -> None:
        if track_id < 0 and self.track_id < 0:
            return  # already empty: every live update without a current row asks again (relayout)
        self.track_id = track_id
        if track_id < 0:
            self._load.cancel()
            self.track = None
            self._empty()
            return
        self._load.start(self._fetch(track_id), "detail-load")

    async def _fetch(self, track_id: int) -> None:
        track = await self.client.track(track_id)
        if track_id != self.track_id:
            return
        self.track = track
        if track is None:
            self._empty()
            return
        self.text.setText(render_html(track, self.client.settings.ui.key_notation))
        cover = await self.client.cover_art(track_id) if track.get("has_cover") else None
        if track_id != self.track_id:
            return
        pixmap = QPixmap()
        if cover and pixmap.loadFromData(cover):
            self.cover.setPixmap(
                pixmap.scaled(
                    COVER_PX,
                    COVER_PX,
                    Qt.AspectRatioMode.KeepAspectRatio,
                    Qt.TransformationMode.SmoothTransformation,
                )
            )
        else:
            self.cover.setPixmap(QPixmap())
            self.cover.setText("No cover")
