"""The jobs panel: queued, running and failed work with progress, retry, cancel and readable errors."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from backend.api.client import LibraryClient
from tracktion_gui import theme
from tracktion_gui.asyncutil import Coalescing, spawn
from tracktion_gui.views.widgets import PROGRESS_ROLE, ProgressDelegate

HEADERS = ("Status", "Job", "Progress", "Attempts", "Error", "Worker", "Created")
STATUS_FILTERS = {"All": None, "Open": "open", "Failed": "failed", "Done": "done"}
OPEN = {"queued", "running", "retrying"}
FAILED = {"failed", "dead"}

Index = QModelIndex | QPersistentModelIndex


WHAT = {
    "analysis.requested": "Analyse",
    "analysis.batch": "Queue analysis",
    "file.scan": "Scan folder",
    "file.changed": "Read changed files",
    "file.deleted": "Handle deleted files",
    "tracklist.requested": "Find tracklist",
    "recording.analyzed": "Find tracklist for mix",
    "track.analyzed": "Update graph",
    "track.moved": "Update graph (moved)",
    "track.removed": "Update graph (removed)",
    "track.missing": "Update graph (missing)",
    "tracklist.applied": "Link tracklist",
}


def describe(job: dict[str, Any]) -> str:
    """A job in words: kind "analysis:analysis.requested", title "analysis.requested #12" → "Analyse track #12"."""
    message_type = job["kind"].split(":", 1)[-1]
    what = WHAT.get(message_type, message_type)
    title = job.get("title") or ""
    detail = title[len(message_type) :].strip() if title.startswith(message_type) else title
    if job.get("track") and (detail.startswith("#") or not detail):
        detail = f"“{job['track']}”"  # the track by name; its id means nothing to a user
    elif detail.startswith("#"):
        detail = f"track {detail}"
    return f"{what} {detail}".strip()


class JobsModel(QAbstractTableModel):
    """A few hundred job rows (the newest); small enough for a plain list."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.jobs: list[dict[str, Any]] = []

    def set_jobs(self, jobs: list[dict[str, Any]]) -> None:
        self.beginResetModel()
        self.jobs = jobs
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.jobs)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return HEADERS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        job = self.jobs[index.row()]
        col = HEADERS[index.column()]
        if role == PROGRESS_ROLE and col == "Progress":
            return job["progress"] if job["status"] == "running" else None
        if role == Qt.ItemDataRole.DisplayRole:
            return {
                "Status": job["status"],
                "Job": describe(job),
                "Progress": "100%" if job["status"] == "done" else "",
                "Attempts": str(job.get("attempts") or 0),
                "Error": (job.get("error") or "").splitlines()[0] if job.get("error") else "",
                "Worker": job.get("worker") or "",
                "Created": (job.get("created_at") or "")[:19].replace("T", " "),
            }[col]
        if role == Qt.ItemDataRole.ToolTipRole and job.get("error"):
            return job["error"]
        if role == Qt.ItemDataRole.ForegroundRole and col in ("Status", "Error"):
            if job["status"] in FAILED:
                return QBrush(theme.ERROR_COLOR)
            if job["status"] == "done":
                return QBrush(theme.OK_COLOR)
            if job["status"] == "retrying":
                return QBrush(theme.WARNING_COLOR)
        return None


class JobsView(QWidget):
    """The jobs panel. ``message(text)`` reports what retry/cancel did."""

    message = Signal(str)

    def __init__(self, client: LibraryClient, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.client = client
        self.model = JobsModel(self)
        self.table = QTableView(self)
        self.table.setObjectName("jobsTable")
        self.table.setModel(self.model)
        self.table.setItemDelegateForColumn(HEADERS.index("Progress"), ProgressDelegate(self))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(24)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        hh = self.table.horizontalHeader()
        for i, w in enumerate((80, 320, 110, 70, 380, 150, 150)):
            hh.resizeSection(i, w)
        hh.setSectionResizeMode(HEADERS.index("Error"), QHeaderView.ResizeMode.Stretch)
        self.filter = QComboBox(self)
        self.filter.addItems(list(STATUS_FILTERS))
        self.filter.currentTextChanged.connect(lambda _t: self.reload())
        self.retry_button = QPushButton("Retry", self)
        self.cancel_button = QPushButton("Cancel", self)
        self.retry_button.clicked.connect(self.retry_selected)
        self.cancel_button.clicked.connect(self.cancel_selected)
        self.error_text = QLabel(self)
        self.error_text.setObjectName("jobError")
        self.error_text.setWordWrap(True)
        self.error_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.summary = QLabel(self)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Show:"))
        bar.addWidget(self.filter)
        bar.addWidget(self.summary, 1)
        bar.addWidget(self.retry_button)
        bar.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.error_text)
        self.table.selectionModel().currentRowChanged.connect(self._show_error)
        self._load = Coalescing(self._reload, "jobs-load")

    def reload(self) -> Any:
        return self._load.request()

    async def _reload(self) -> None:
        wanted = STATUS_FILTERS[self.filter.currentText()]
        jobs = await self.client.jobs(limit=500)
        if wanted == "open":
            jobs = [j for j in jobs if j["status"] in OPEN]
        elif wanted == "failed":
            jobs = [j for j in jobs if j["status"] in FAILED]
        elif wanted == "done":
            jobs = [j for j in jobs if j["status"] == "done"]
        selected = set(self.selected_ids())
        self.model.set_jobs(jobs)
        for row, job in enumerate(jobs):
            if job["id"] in selected:
                self.table.selectRow(row)
        counts = await self.client.job_counts()
        self.summary.setText(
            "   ".join(f"{k}: {v}" for k, v in sorted(counts.items())) or "No jobs yet"
        )

    def selected_ids(self) -> list[str]:
        rows = {i.row() for i in self.table.selectionModel().selectedRows()}
        return [self.model.jobs[r]["id"] for r in sorted(rows) if r < len(self.model.jobs)]

    def _show_error(self, current: QModelIndex, _prev: QModelIndex) -> None:
        if not current.isValid() or current.row() >= len(self.model.jobs):
            self.error_text.clear()
            return
        job = self.model.jobs[current.row()]
        if job.get("error"):
            self.error_text.setText(f"<b>Why it failed:</b> {job['error']}")
        else:
            self.error_text.clear()

    def retry_selected(self) -> Any:
        return spawn(self._act(self.client.retry_job, "retried"), "jobs-retry")

    def cancel_selected(self) -> Any:
        return spawn(self._act(self.client.cancel_job, "cancelled"), "jobs-cancel")

    async def _act(self, action: Any, verb: str) -> None:
        ids = self.selected_ids()
        done = 0
        for job_id in ids:
            done += bool(await action(job_id))
        skipped = len(ids) - done
        text = f"{done} job{'s' if done != 1 else ''} {verb}"
        if skipped:
            text += f"; {skipped} could not be {verb} (not in a state that allows it)"
        self.message.emit(text)
        await self._reload()
