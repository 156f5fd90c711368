"""The library table model over an id vector (see STYLE.md, "Big tables").

The model holds only the track ids in the database's sort/filter order; ``rowCount`` is their number.
Cells read a page cache keyed by id; a miss asks for the missing pages once (coalesced per paint pass)
and the rows arrive asynchronously. Sorting and filtering re-query the database; live updates refresh
changed ids in batches and keep the selection (persistent indexes are remapped by id).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QBrush, QColor

from backend.analysis import keys
from backend.api.client import LibraryClient
from backend.api.library import EditOutcome
from tracktion_gui import theme
from tracktion_gui.asyncutil import Replaceable, spawn
from tracktion_gui.models.columns import BY_NAME, COLUMNS, display

PAGE = 128  # rows per fetch: a screenful or two
CACHE_ROWS = 20_000  # rows kept (about 20 MB at most); older pages are dropped first
TRACK_ID_ROLE = Qt.ItemDataRole.UserRole.value + 1

Index = QModelIndex | QPersistentModelIndex

# Roles as plain ints: comparing PySide enum members costs more than the rest of data().
DISPLAY = Qt.ItemDataRole.DisplayRole.value
EDIT = Qt.ItemDataRole.EditRole.value
FOREGROUND = Qt.ItemDataRole.ForegroundRole.value
BACKGROUND = Qt.ItemDataRole.BackgroundRole.value
ALIGNMENT = Qt.ItemDataRole.TextAlignmentRole.value
TOOLTIP = Qt.ItemDataRole.ToolTipRole.value
INDEX = {c.name: i for i, c in enumerate(COLUMNS)}
KEY_COLUMN = INDEX["key"]
_RIGHT = int((Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter).value)
_CENTER = int((Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter).value)
ALIGNMENTS = tuple(_RIGHT if c.numeric else _CENTER if c.name == "key" else None for c in COLUMNS)
ERROR_BRUSH = QBrush(theme.ERROR_COLOR)
MUTED_BRUSH = QBrush(theme.MUTED_COLOR)
KEY_TEXT_BRUSH = QBrush(QColor("#111111"))


class LibraryModel(QAbstractTableModel):
    """Rows = track ids; columns = :data:`COLUMNS`."""

    idsLoaded = Signal(int, float)  # row count, query seconds
    queryErrors = Signal(list)
    editFinished = Signal(object)  # EditOutcome

    def __init__(self, client: LibraryClient, parent: Any = None) -> None:
        super().__init__(parent)
        self.client = client
        self.notation: str = client.settings.ui.key_notation
        self._ids: list[int] = []
        self._rows: OrderedDict[int, dict[str, Any]] = OrderedDict()
        self._wanted_pages: set[int] = set()
        self._loading_pages: set[int] = set()
        self._generation = 0
        self.text = ""
        self.base_filter = ""
        self.sort_column = "artist"
        self.descending = False
        self._query = Replaceable()
        self._fetch_timer = QTimer(self)
        self._fetch_timer.setSingleShot(True)
        self._fetch_timer.setInterval(0)
        self._fetch_timer.timeout.connect(self._fetch_wanted)
        self.last_query_s = 0.0

    # ---- Qt model API ------------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._ids)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(COLUMNS):
            col = COLUMNS[section]
            if role == Qt.ItemDataRole.DisplayRole:
                return col.title
            if role == Qt.ItemDataRole.TextAlignmentRole and col.numeric:
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        base = super().flags(index)
        if index.isValid() and COLUMNS[index.column()].editable:
            return base | Qt.ItemFlag.ItemIsEditable
        return base

    def data(self, index: Index, role: int = DISPLAY) -> Any:
        # Called ~2,000 times per paint: plain ints for roles, everything per row precomputed.
        row_number = index.row()
        if row_number >= len(self._ids) or row_number < 0:
            return None
        track_id = self._ids[row_number]
        if role == TRACK_ID_ROLE:
            return track_id
        row = self._rows.get(track_id)
        if row is None:
            if role == DISPLAY:
                self._want(row_number)
            return None
        column = index.column()
        if role == DISPLAY:
            return row["_display"][column]
        if role == FOREGROUND:
            return row["_fg"][column]
        if role == BACKGROUND:
            return row["_bg"] if column == KEY_COLUMN else None
        if role == ALIGNMENT:
            return ALIGNMENTS[column]
        if role == EDIT:
            value = row.get(COLUMNS[column].name)
            return "" if value is None else value
        if role == TOOLTIP:
            name = COLUMNS[column].name
            if name in row["_from_tags"]:
                return "From the file's tags (not analysed yet)"
            if row.get("_error"):
                return f"{row.get('_status')}: {row['_error']}"
        return None

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or not index.isValid():
            return False
        col = COLUMNS[index.column()]
        if not col.editable:
            return False
        current = self._rows.get(self._ids[index.row()], {}).get(col.name)
        text = str(value).strip()
        if (current is None and text == "") or str(current if current is not None else "") == text:
            return False
        self.edit_tracks([self._ids[index.row()]], {col.name: text or None})
        return True

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(COLUMNS):
            return
        self.sort_column = COLUMNS[column].name
        self.descending = order == Qt.SortOrder.DescendingOrder
        self.requery()

    # ---- ids ----------------------------------------------------------------------------------------

    def track_id(self, row: int) -> int | None:
        return self._ids[row] if 0 <= row < len(self._ids) else None

    def row_of(self, track_id: int) -> int | None:
        try:
            return self._ids.index(track_id)
        except ValueError:
            return None

    @property
    def ids(self) -> list[int]:
        return self._ids

    def set_query(self, text: str) -> None:
        self.text = text
        self.requery()

    def set_base_filter(self, text: str) -> None:
        """The sidebar's filter (is:mix, is:missing, …), combined with the search text."""
        self.base_filter = text
        self.requery()

    def requery(self) -> Any:
        """Re-run the search in the database (cancel-and-replace: only the newest result is applied)."""
        text = f"{self.base_filter} {self.text}".strip()
        return self._query.start(self._run_query(text), "library-query")

    async def _run_query(self, text: str) -> None:
        started = time.perf_counter()
        result = await self.client.track_ids(text, self.sort_column, self.descending)
        self.queryErrors.emit(result.errors)
        self.set_ids(result.ids)
        self.last_query_s = time.perf_counter() - started
        self.idsLoaded.emit(len(result.ids), self.last_query_s)

    def set_ids(self, new_ids: Sequence[int]) -> None:
        """Apply a new id vector, keeping selected/current rows (remapped by id) where they still exist."""
        new_ids = list(new_ids)
        if new_ids == self._ids:
            return
        self._generation += 1
        self._wanted_pages.clear()
        self.layoutAboutToBeChanged.emit()
        old_ids = self._ids
        persistent = self.persistentIndexList()
        self._ids = new_ids
        if persistent:
            position = {tid: row for row, tid in enumerate(new_ids)}
            remapped = []
            for idx in persistent:
                row = position.get(old_ids[idx.row()]) if idx.row() < len(old_ids) else None
                remapped.append(
                    self.createIndex(row, idx.column()) if row is not None else QModelIndex()
                )
            self.changePersistentIndexList(persistent, remapped)
        self.layoutChanged.emit()

    # ---- page cache ---------------------------------------------------------------------------------

    def _want(self, row: int) -> None:
        page = row // PAGE
        if page not in self._loading_pages and page not in self._wanted_pages:
            self._wanted_pages.add(page)
            self._fetch_timer.start()

    def _fetch_wanted(self) -> None:
        pages = sorted(self._wanted_pages - self._loading_pages)
        self._wanted_pages.clear()
        if pages:
            self._loading_pages.update(pages)
            spawn(self._load_pages(pages, self._generation), "library-pages")

    async def _load_pages(self, pages: list[int], generation: int) -> None:
        try:
            ids = [tid for p in pages for tid in self._ids[p * PAGE : (p + 1) * PAGE]]
            fetched = await self.client.rows(ids, [c.name for c in COLUMNS])
        finally:
            self._loading_pages.difference_update(pages)
        self._store(fetched)
        if generation != self._generation:
            self._emit_rows_changed(set(fetched))
            return
        for p in pages:
            first, last = p * PAGE, min(len(self._ids), (p + 1) * PAGE) - 1
            if first <= last:
                self.dataChanged.emit(self.index(first, 0), self.index(last, len(COLUMNS) - 1))

    def _prepare(self, row: dict[str, Any]) -> None:
        """Format a row once: display strings, brushes and the key colour for every column."""
        _fill_from_tags(row)
        notation = self.notation
        row["_display"] = tuple(display(c.name, row.get(c.name), notation) for c in COLUMNS)
        status = row.get("_status")
        base = ERROR_BRUSH if status == "error" else MUTED_BRUSH if status == "missing" else None
        fg: list[Any] = [base] * len(COLUMNS)
        color = theme.camelot_color(row.get("key"))
        row["_bg"] = None
        if color is not None:
            color.setAlpha(150)
            row["_bg"] = QBrush(color)
            fg[KEY_COLUMN] = KEY_TEXT_BRUSH
        for name in row["_from_tags"]:
            if name != "key":
                fg[INDEX[name]] = MUTED_BRUSH
        row["_fg"] = tuple(fg)

    def _store(self, fetched: dict[int, dict[str, Any]]) -> None:
        for tid, row in fetched.items():
            self._prepare(row)
            self._rows[tid] = row
            self._rows.move_to_end(tid)
        while len(self._rows) > CACHE_ROWS:
            self._rows.popitem(last=False)

    def _emit_rows_changed(self, track_ids: set[int]) -> None:
        """dataChanged for the rows of these ids (only those the view could be showing)."""
        if not track_ids:
            return
        rows = [r for r, tid in enumerate(self._ids) if tid in track_ids]
        for r in rows:
            self.dataChanged.emit(self.index(r, 0), self.index(r, len(COLUMNS) - 1))

    def refresh_tracks(self, track_ids: Sequence[int]) -> Any:
        """Re-read changed rows that are cached (live updates, after edits)."""
        cached = [t for t in track_ids if t in self._rows]
        if cached:
            return spawn(self._refresh(cached), "library-refresh")
        return None

    async def _refresh(self, track_ids: list[int]) -> None:
        fetched = await self.client.rows(track_ids, [c.name for c in COLUMNS])
        for tid in set(track_ids) - set(fetched):
            self._rows.pop(tid, None)
        self._store(fetched)
        self._emit_rows_changed(set(track_ids))

    def cached_row(self, track_id: int) -> dict[str, Any] | None:
        return self._rows.get(track_id)

    def set_notation(self, notation: str) -> None:
        self.notation = notation
        for row in self._rows.values():
            self._prepare(row)
        col = [c.name for c in COLUMNS].index("key")
        if self._ids:
            self.dataChanged.emit(self.index(0, col), self.index(len(self._ids) - 1, col))

    # ---- editing ------------------------------------------------------------------------------------

    def edit_tracks(self, track_ids: Sequence[int], changes: dict[str, Any]) -> Any:
        """Write ``changes`` to the files of ``track_ids`` (emits editFinished with the outcome)."""
        return spawn(self._edit(list(track_ids), changes), "library-edit")

    async def _edit(self, track_ids: list[int], changes: dict[str, Any]) -> None:
        outcome = await self.client.edit(track_ids, changes)
        await self._after_edit(outcome, track_ids)

    async def _after_edit(self, outcome: EditOutcome, track_ids: list[int]) -> None:
        await self._refresh(list(set(track_ids) | set(outcome.written)))
        self.editFinished.emit(outcome)

    def undo(self) -> Any:
        return spawn(self._replay(True), "library-undo")

    def redo(self) -> Any:
        return spawn(self._replay(False), "library-redo")

    async def _replay(self, undo: bool) -> None:
        outcome = await (self.client.undo() if undo else self.client.redo())
        await self._after_edit(outcome, outcome.written)


def _fill_from_tags(row: dict[str, Any]) -> None:
    """Until analysis has run, show the file's own BPM/key tags (muted, with a tooltip saying so)."""
    from_tags = []
    if row.get("bpm") is None and row.get("bpm_tag"):
        row["bpm"] = row["bpm_tag"]
        from_tags.append("bpm")
    if row.get("key") is None and row.get("key_tag"):
        try:
            row["key"] = keys.parse_key(str(row["key_tag"])).camelot
            from_tags.append("key")
        except keys.KeyParseError:
            pass
    row["_from_tags"] = tuple(from_tags)


def column_index(name: str) -> int:
    return [c.name for c in COLUMNS].index(name)


__all__ = ["BY_NAME", "COLUMNS", "PAGE", "TRACK_ID_ROLE", "LibraryModel", "column_index"]
