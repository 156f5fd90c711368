"""The "mix" main view: a long recording's waveform, its timelines and its tracklist.

The tracklist entries are the waveform's cue markers (drag one to correct its cue; it is stored with source
"user"). Clicking a row seeks the preview there; double-clicking a row linked to a library track opens it.
"Find tracklist" asks the tracklists worker to search; candidates it was not sure about are listed with
their confidence and applied on request; the applied tracklist exports as a CUE sheet.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from backend.api import media
from tracktion_gui.views.extra_media import MediaController
from tracktion_gui.views.extra_tasks import LatestTask, TaskSet
from tracktion_gui.views.mix_timelines import Timelines
from tracktion_gui.views.player import PlayerBar
from tracktion_gui.views.waveform import CUE_COLOURS, WaveformView, fmt_time
from tracktion_gui.views.waveform_page import describe

COLUMNS = ("Time", "Track", "Label", "Cue", "Confidence", "Library")


def entry_cues(entries: tuple[media.MixEntry, ...]) -> list[media.Cue]:
    """Markers for the entries with a cue ("w/" rows share their main row's start)."""
    return [
        media.Cue(
            e.cue_s,
            f"{e.position or ''}. {e.display}".lstrip(". "),
            "tracklist",
            e.cue_source or "site",
            entry_id=e.entry_id,
        )
        for e in entries
        if e.cue_s is not None and not e.with_previous
    ]


class MixPage(QWidget):
    """Waveform + timelines + tracklist table + find/apply/export controls for the selected recording."""

    def __init__(
        self,
        controller: MediaController,
        select_track: Callable[[int], None] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.controller = controller
        self.select_track = select_track or (lambda _id: None)
        self.info: media.MixInfo | None = None
        self.job_error: str | None = None
        self.media: media.TrackMedia | None = None
        self.load = LatestTask(self._error, name="mix-load")
        self.tasks = TaskSet(self._error, name="mix-command")

        self.header = QLabel("Select a recording")
        self.find_button = QPushButton("Find tracklist")
        self.candidates = QComboBox()
        self.candidates.setMinimumWidth(260)
        self.apply_button = QPushButton("Apply")
        self.export_button = QPushButton("Export CUE…")
        self.status = QLabel("")
        controls = QHBoxLayout()
        for w in (self.find_button, self.candidates, self.apply_button, self.export_button):
            controls.addWidget(w)
        controls.addWidget(self.status, 1)

        self.waveform = WaveformView(self, cues_editable=True)
        self.timelines = Timelines()
        self.timelines.link_to(self.waveform.zoom)
        self.waveform.reserve_left_axis(self.timelines.AXIS_WIDTH)
        self.bar = PlayerBar(controller.player, self)
        self.bar.install_shortcuts(self)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        for col in (0, 2, 3, 4, 5):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)

        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(self.waveform, 1)
        top_layout.addWidget(self.timelines)
        top_layout.addWidget(self.bar)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(top)
        split.addWidget(self.table)
        split.setSizes([420, 300])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.header)
        layout.addLayout(controls)
        layout.addWidget(split, 1)

        controller.media_loaded.connect(self.show_media)
        controller.mix_changed.connect(self._mix_changed)
        controller.tracklist_job.connect(self._job_finished)
        controller.player.position_changed.connect(self._position)
        self.waveform.seek_requested.connect(controller.player.seek)
        self.waveform.cue_moved.connect(controller.move_cue)
        self.table.cellClicked.connect(self._row_clicked)
        self.table.cellDoubleClicked.connect(self._row_opened)
        self.find_button.clicked.connect(self.find_tracklist)
        self.apply_button.clicked.connect(self.apply_selected)
        self.export_button.clicked.connect(self._ask_export)
        self._update_buttons()

    # ---- data ------------------------------------------------------------------------------------------

    def show_media(self, loaded: media.TrackMedia | None) -> None:
        same = (
            loaded is not None and self.media is not None and self.media.track_id == loaded.track_id
        )
        visible = self.waveform.visible_range()
        self.media = loaded
        self.header.setText(describe(loaded) if loaded else "Select a recording")
        self.waveform.set_media(loaded)
        if loaded is not None and not same:
            self.waveform.set_visible_range(0.0, min(loaded.duration_s, 600.0) or 1.0)
        elif same:
            self.waveform.set_visible_range(*visible)
        self.timelines.set_segments(loaded.timeline if loaded else ())
        if not same:
            self.job_error = None
        if loaded is None:
            self.info = None
            self._show_info()
            return
        self.load.start(self._load(loaded.track_id))

    def _mix_changed(self, track_id: int) -> None:
        if self.media is not None and track_id == self.media.track_id:
            self.load.start(self._load(track_id))

    def _job_finished(self, status: str, error: str | None) -> None:
        """A find/apply job ended: show its outcome (a failure's reason stays visible)."""
        self.job_error = error if status != "done" else None
        if self.media is not None:
            self.load.start(self._load(self.media.track_id))

    async def _load(self, track_id: int) -> None:
        info = await media.load_mix(self.controller.services, track_id)
        if self.media is None or self.media.track_id != track_id:
            return
        self.info = info
        self._show_info()

    def _show_info(self) -> None:
        entries = self.info.applied.entries if self.info and self.info.applied else ()
        self.table.setRowCount(len(entries))
        for row, entry in enumerate(entries):
            cells = (
                fmt_time(entry.cue_s) if entry.cue_s is not None else "?",
                ("w/ " if entry.with_previous else "") + entry.display,
                entry.label or "",
                entry.cue_source or "",
                f"{entry.confidence:.0%}" if entry.confidence is not None else "",
                "open ▸" if entry.linked_track_id else "",
            )
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, entry.entry_id)
                if col == 3 and entry.cue_source in CUE_COLOURS:
                    # The marker's colour as a tint behind the text: readable in light and dark themes.
                    tint = QColor(CUE_COLOURS[entry.cue_source])
                    tint.setAlpha(90)
                    item.setBackground(tint)
                self.table.setItem(row, col, item)
        if entries:
            self.waveform.set_cues(entry_cues(entries))
            self.bar.cue_positions = [e.cue_s for e in entries if e.cue_s is not None]
        elif self.media is not None:
            self.bar.cue_positions = [c.position_s for c in self.media.cues]
        self.candidates.clear()
        for cand in self.info.candidates if self.info else ():
            self.candidates.addItem(f"{cand.title} — {cand.confidence:.0%}", cand.tracklist_id)
        applied = self.info.applied if self.info else None
        if applied is not None:
            self.status.setText(
                f"{applied.title or 'Tracklist'} · {len(entries)} tracks · {applied.confidence:.0%}"
            )
        elif self.info and self.info.candidates:
            self.status.setText(f"{len(self.info.candidates)} candidates: pick one and apply")
        else:
            self.status.setText("No tracklist yet")
        if self.job_error:
            self.status.setText(f"{self.status.text()} — last search failed: {self.job_error}")
        self._update_buttons()

    def _update_buttons(self) -> None:
        has_track = self.media is not None
        self.find_button.setEnabled(has_track)
        self.apply_button.setEnabled(self.candidates.count() > 0)
        self.candidates.setEnabled(self.candidates.count() > 0)
        self.export_button.setEnabled(bool(self.info and self.info.applied))

    # ---- actions ---------------------------------------------------------------------------------------

    def find_tracklist(self) -> None:
        if self.media is None:
            return
        self.job_error = None
        self.status.setText("Searching 1001tracklists… (see Jobs)")
        self.tasks.start(media.find_tracklist(self.controller.services, self.media.track_id))

    def apply_selected(self) -> None:
        tracklist_id = self.candidates.currentData()
        if self.media is None or tracklist_id is None:
            return
        self.status.setText("Applying… (see Jobs)")
        self.tasks.start(
            media.apply_candidate(self.controller.services, self.media.track_id, int(tracklist_id))
        )

    def _ask_export(self) -> None:
        if self.media is None or self.media.path is None:
            return
        default = str(self.media.path.with_suffix(".cue"))
        name, _ = QFileDialog.getSaveFileName(self, "Export CUE sheet", default, "CUE (*.cue)")
        if name:
            self.export(Path(name))

    def export(self, dest: Path | None = None) -> None:
        if self.media is None:
            return
        self.tasks.start(self._export(self.media.track_id, dest))

    async def _export(self, track_id: int, dest: Path | None) -> None:
        written = await media.export_cue(self.controller.services, track_id, dest)
        self.status.setText(f"CUE sheet written: {written}")

    def _row_clicked(self, row: int, _col: int) -> None:
        entry = self._entry(row)
        if entry is not None and entry.cue_s is not None:
            self.controller.player.seek(entry.cue_s)
            t0, t1 = self.waveform.visible_range()
            if not t0 <= entry.cue_s <= t1:
                span = t1 - t0
                self.waveform.set_visible_range(entry.cue_s - span * 0.1, entry.cue_s + span * 0.9)

    def _row_opened(self, row: int, _col: int) -> None:
        entry = self._entry(row)
        if entry is not None and entry.linked_track_id:
            self.select_track(entry.linked_track_id)

    def _entry(self, row: int) -> media.MixEntry | None:
        entries = self.info.applied.entries if self.info and self.info.applied else ()
        return entries[row] if 0 <= row < len(entries) else None

    def _position(self, seconds: float) -> None:
        self.waveform.set_playhead(seconds, follow=self.controller.player.playing)

    def _error(self, exc: BaseException) -> None:
        self.status.setText(f"Failed: {exc}")
