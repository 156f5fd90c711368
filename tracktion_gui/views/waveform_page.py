"""The "waveform" main view: the selected track's waveform, its facts and the preview transport."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from backend.api.media import Cue, TrackMedia
from tracktion_gui.views.extra_media import MediaController
from tracktion_gui.views.player import PlayerBar
from tracktion_gui.views.waveform import WaveformView, fmt_time


def describe(media: TrackMedia) -> str:
    """One line of facts DJs look for first: BPM, key, energy, length."""
    parts = [f"<b>{media.artist + ' – ' if media.artist else ''}{media.title}</b>"]
    if media.bpm:
        parts.append(f"{media.bpm:.1f} BPM")
    if media.key or media.camelot:
        parts.append(
            " ".join(p for p in (media.camelot, f"({media.key})" if media.key else "") if p)
        )
    if media.energy is not None:
        parts.append(f"energy {media.energy:.0f}")
    parts.append(fmt_time(media.duration_s))
    if not media.analysed:
        parts.append("<i>not analysed yet</i>")
    return " · ".join(parts)


class WaveformPage(QWidget):
    """Follows the controller: shows the track, seeks the player, edits cues by dragging."""

    def __init__(self, controller: MediaController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.header = QLabel("No track selected")
        self.header.setContentsMargins(6, 4, 6, 0)
        self.waveform = WaveformView(self)
        self.bar = PlayerBar(controller.player, self)
        self.bar.install_shortcuts(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.header)
        layout.addWidget(self.waveform, 1)
        layout.addWidget(self.bar)

        controller.media_loaded.connect(self.show_media)
        controller.loading.connect(lambda _id: self.header.setText("Loading…"))
        controller.failed.connect(lambda text: self.header.setText(f"Could not load: {text}"))
        controller.player.position_changed.connect(self._position)
        self.waveform.seek_requested.connect(controller.player.seek)
        self.waveform.cue_moved.connect(self._cue_moved)

    def show_media(self, media: TrackMedia | None) -> None:
        same_track = (
            media is not None
            and self.waveform.media is not None
            and self.waveform.media.track_id == media.track_id
        )
        visible = self.waveform.visible_range()
        self.header.setText(describe(media) if media is not None else "No track selected")
        self.waveform.set_media(media)
        if same_track:  # a live update keeps the user's zoom and the playhead
            self.waveform.set_visible_range(*visible)
        self.waveform.set_playhead(self.controller.player.position())
        self.bar.cue_positions = [c.position_s for c in media.cues] if media is not None else []

    def _position(self, seconds: float) -> None:
        self.waveform.set_playhead(seconds, follow=self.controller.player.playing)

    def _cue_moved(self, cue: Cue, position_s: float) -> None:
        self.controller.move_cue(cue, position_s)
