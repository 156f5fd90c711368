"""The sidebar: library filters with counts, watched folders with their state, and the main views."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QFont
from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem, QWidget

from tracktion_gui import theme

ENTRY_ROLE = Qt.ItemDataRole.UserRole + 2
FILTERS = (
    ("all", "All tracks"),
    ("mixes", "Mixes"),
    ("duplicates", "Duplicates"),
    ("missing", "Missing files"),
    ("errors", "Errors"),
)
STATE_MARK = {"online": "●", "offline": "○", "paused": "⏸", "scanning": "↻"}


class Sidebar(QTreeWidget):
    """Emits ``entryActivated(kind, value)``: ("filter", name), ("folder", root id) or ("view", name)."""

    entryActivated = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sidebar")
        self.setHeaderHidden(True)
        self.setRootIsDecorated(False)
        self.setIndentation(12)
        self.setMinimumWidth(180)
        self.library_group = self._group("LIBRARY")
        self.folders_group = self._group("WATCHED FOLDERS")
        self.views_group = self._group("VIEWS")
        self.filter_items: dict[str, QTreeWidgetItem] = {}
        for name, title in FILTERS:
            item = QTreeWidgetItem(self.library_group, [title])
            item.setData(0, ENTRY_ROLE, ("filter", name))
            self.filter_items[name] = item
        self.view_items: dict[str, QTreeWidgetItem] = {}
        self.expandAll()
        self.itemClicked.connect(self._clicked)
        self.itemActivated.connect(self._clicked)

    def _group(self, title: str) -> QTreeWidgetItem:
        item = QTreeWidgetItem(self, [title])
        font = QFont(item.font(0))
        font.setBold(True)
        font.setPointSizeF(max(7.0, font.pointSizeF() * 0.85))
        item.setFont(0, font)
        item.setFlags(Qt.ItemFlag.ItemIsEnabled)
        item.setForeground(0, QBrush(theme.MUTED_COLOR))
        return item

    def _clicked(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        entry: Any = item.data(0, ENTRY_ROLE)
        if entry:
            kind, value = entry
            self.entryActivated.emit(kind, str(value))

    def add_view(self, name: str, title: str) -> None:
        item = QTreeWidgetItem(self.views_group, [title])
        item.setData(0, ENTRY_ROLE, ("view", name))
        self.view_items[name] = item

    def mark_view(self, name: str) -> None:
        item = self.view_items.get(name)
        if item is not None and name != "library":
            self.setCurrentItem(item)

    def set_counts(self, counts: dict[str, int]) -> None:
        for name, title in FILTERS:
            n = counts.get(name, 0)
            self.filter_items[name].setText(0, f"{title}  ({n:,})")
            if name in ("missing", "errors"):
                color = theme.ERROR_COLOR if n and name == "errors" else None
                self.filter_items[name].setForeground(0, QBrush(color) if color else QBrush())

    def set_folders(self, folders: list[dict[str, Any]]) -> None:
        self.folders_group.takeChildren()
        for folder in folders:
            state = "paused" if folder.get("paused") else str(folder.get("state") or "online")
            mark = STATE_MARK.get(state, "●")
            count = folder.get("track_count", folder.get("tracks"))
            suffix = f"  ({count:,})" if isinstance(count, int) else ""
            item = QTreeWidgetItem(self.folders_group, [f"{mark} {folder.get('name')}{suffix}"])
            item.setToolTip(
                0,
                f"{folder.get('path')}\n{state}"
                + (f"\n{folder['last_error']}" if folder.get("last_error") else ""),
            )
            item.setData(0, ENTRY_ROLE, ("folder", folder.get("id")))
            if state == "offline" or folder.get("last_error"):
                item.setForeground(0, QBrush(theme.WARNING_COLOR))
        if not folders:
            hint = QTreeWidgetItem(self.folders_group, ["Drop a folder here"])
            hint.setForeground(0, QBrush(theme.MUTED_COLOR))
            hint.setFlags(Qt.ItemFlag.ItemIsEnabled)
        self.folders_group.setExpanded(True)
