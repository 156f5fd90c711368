"""Watched folders: add (dialog or drop), remove, pause; state, counts, scan progress and errors."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from backend.api.client import LibraryClient
from backend.api.folders import FolderError
from tracktion_gui import theme
from tracktion_gui.asyncutil import Coalescing, spawn
from tracktion_gui.views.widgets import PROGRESS_ROLE, ProgressDelegate

HEADERS = ("Folder", "State", "Tracks", "Scan", "Last scan", "Problem")
ROOT_ID_ROLE = Qt.ItemDataRole.UserRole + 4


def _count(folder: dict[str, Any]) -> str:
    for key in ("track_count", "tracks", "count"):
        if isinstance(folder.get(key), int):
            return f"{folder[key]:,}"
    return ""


def _progress(folder: dict[str, Any]) -> float | None:
    value = folder.get("scan_progress", folder.get("progress"))
    return float(value) if isinstance(value, int | float) and 0 <= value < 1 else None


class FoldersView(QWidget):
    """The watched-folders panel. ``changed`` fires after add/remove/pause."""

    message = Signal(str)
    changed = Signal()

    def __init__(self, client: LibraryClient, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.client = client
        self.setAcceptDrops(True)
        self.tree = QTreeWidget(self)
        self.tree.setObjectName("foldersTree")
        self.tree.setHeaderLabels(list(HEADERS))
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.tree.setItemDelegateForColumn(HEADERS.index("Scan"), ProgressDelegate(self))
        for i, w in enumerate((380, 90, 80, 120, 150, 300)):
            self.tree.setColumnWidth(i, w)
        self.add_button = QPushButton("Add folder…", self)
        self.demo_button = QPushButton("Add demo library", self)
        self.remove_button = QPushButton("Remove", self)
        self.pause_button = QPushButton("Pause / resume", self)
        self.rescan_button = QPushButton("Rescan", self)
        self.add_button.clicked.connect(self._add_dialog)
        self.demo_button.clicked.connect(self.add_demo)
        self.remove_button.clicked.connect(self.remove_selected)
        self.pause_button.clicked.connect(self.toggle_pause_selected)
        self.rescan_button.clicked.connect(self.rescan_selected)
        hint = QLabel("Drop folders anywhere on the window to watch them.", self)
        hint.setStyleSheet("color: gray;")
        bar = QHBoxLayout()
        for b in (self.add_button, self.demo_button):
            bar.addWidget(b)
        bar.addStretch()
        for b in (self.rescan_button, self.pause_button, self.remove_button):
            bar.addWidget(b)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(bar)
        layout.addWidget(self.tree, 1)
        layout.addWidget(hint)
        self.folders: list[dict[str, Any]] = []
        self._load = Coalescing(self._reload, "folders-load")
        self._progress_timer = QTimer(self)
        self._progress_timer.setInterval(500)
        self._progress_timer.timeout.connect(self._tick)

    def reload(self) -> Any:
        return self._load.request()

    async def _reload(self) -> None:
        self.folders = await self.client.folders()
        self._fill()

    def _fill(self) -> None:
        selected = set(self.selected_ids())
        self.tree.clear()
        for folder in self.folders:
            state = "paused" if folder.get("paused") else str(folder.get("state") or "online")
            progress = _progress(folder)
            item = QTreeWidgetItem(
                [
                    str(folder.get("path")),
                    state,
                    _count(folder),
                    "" if progress is None else f"{progress:.0%}",
                    str(folder.get("last_scan_at") or "never")[:19].replace("T", " "),
                    str(folder.get("last_error") or ""),
                ]
            )
            item.setData(0, ROOT_ID_ROLE, folder.get("id"))
            item.setData(HEADERS.index("Scan"), PROGRESS_ROLE, progress)
            item.setTextAlignment(2, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if state == "offline":
                item.setForeground(1, QBrush(theme.WARNING_COLOR))
            elif state == "online":
                item.setForeground(1, QBrush(theme.OK_COLOR))
            if folder.get("last_error"):
                item.setForeground(5, QBrush(theme.ERROR_COLOR))
                item.setToolTip(5, str(folder["last_error"]))
            self.tree.addTopLevelItem(item)
            item.setSelected(folder.get("id") in selected)

    def selected_ids(self) -> list[int]:
        return [int(i.data(0, ROOT_ID_ROLE)) for i in self.tree.selectedItems()]

    # ---- commands ------------------------------------------------------------------------------------

    def _add_dialog(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Watch a music folder")
        if path:
            self.add(Path(path))

    def add(self, path: Path) -> Any:
        return spawn(self._add(path), "folders-add")

    async def _add(self, path: Path) -> None:
        self.message.emit(f"Watching {path} — scanning…")
        self._progress_timer.start()
        try:
            await self.client.add_folder(path)
        except FolderError as exc:
            self.message.emit(f"Not added: {exc}")
        else:
            self.message.emit(f"Scanned {path}")
        await self._reload()
        self.changed.emit()

    def _tick(self) -> None:
        """While a scan runs in this process, show its progress twice a second."""
        if self.client.scan_progress:
            self.reload()
        else:
            self._progress_timer.stop()

    def add_demo(self) -> Any:
        return spawn(self._add_demo(), "folders-demo")

    async def _add_demo(self) -> None:
        target = self.client.settings.home / "demo"
        self.message.emit("Creating the demo library…")
        await create_demo(target)
        await self._add(target)

    def remove_selected(self) -> Any:
        return spawn(self._each(self.client.remove_folder, "Stopped watching"), "folders-rm")

    def toggle_pause_selected(self) -> Any:
        async def toggle(root_id: int) -> None:
            folder = next((f for f in self.folders if f.get("id") == root_id), {})
            await self.client.pause_folder(root_id, not folder.get("paused"))

        return spawn(self._each(toggle, "Paused/resumed"), "folders-pause")

    def rescan_selected(self) -> Any:
        self._progress_timer.start()
        return spawn(self._each(self.client.rescan_folder, "Rescanned"), "folders-rescan")

    async def _each(self, action: Any, verb: str) -> None:
        ids = self.selected_ids()
        for root_id in ids:
            await action(root_id)
        if ids:
            self.message.emit(f"{verb} {len(ids)} folder{'s' if len(ids) != 1 else ''}")
        await self._reload()
        self.changed.emit()


async def create_demo(target: Path) -> Path:
    """Write the demo library into ``target`` (once), off the GUI thread."""
    if target.exists() and any(target.iterdir()):
        return target
    from backend.catalog.demo import write_demo_library

    target.mkdir(parents=True, exist_ok=True)
    await asyncio.get_running_loop().run_in_executor(None, write_demo_library, target)
    return target
