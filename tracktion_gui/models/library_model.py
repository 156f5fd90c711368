"""The library table model over an id vector (see STYLE.md, "Big tables").

The model holds only the track ids in the database's sort/filter order; ``rowCount`` is their number.
Cells read a page cache keyed by id; a miss asks for the missing pages once (coalesced per paint pass)
and the rows arrive asynchronously. Sorting and filtering re-query (cancel-and-replace) and apply the
new vector with ``layoutChanged`` (no reset: the view keeps its header, selection and scroll state);
persistent indexes are remapped by id. Live updates refresh changed ids in batches.
"""

from __future__ import annotations

import functools
import time
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QBrush

from backend.analysis import keys
from backend.api.client import LibraryClient
from backend.api.library import EditOutcome
from tracktion_gui import theme
from tracktion_gui.asyncutil import Replaceable, spawn
from tracktion_gui.models.columns import BY_NAME, COLUMNS, display

PAGE = 128  # rows per fetch: a screenful or two
FIRST_ROWS = 64  # rows fetched with a new sort/filter result, before it is shown
CACHE_ROWS = 4_096  # rows kept (~3 kB each with their display strings); oldest dropped first
TRACK_ID_ROLE = Qt.ItemDataRole.UserRole.value + 1
FEW_IDS = 4  # rows_of: up to this many ids are looked up one by one (no lookup table over all ids)

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
# data(): role → index into a row's prepared ``_cells`` (display, foreground, background); -1 = per column.
CELL_SLOTS = {DISPLAY: 0, FOREGROUND: 1, BACKGROUND: 2, ALIGNMENT: -1}
RARE_ROLES = frozenset({TRACK_ID_ROLE, EDIT, TOOLTIP})
_SELECTABLE = (
    Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemNeverHasChildren
)
FLAGS = tuple(
    _SELECTABLE | Qt.ItemFlag.ItemIsEditable if c.editable else _SELECTABLE for c in COLUMNS
)
NO_FLAGS = Qt.ItemFlag.NoItemFlags
ERROR_BRUSH = QBrush(theme.ERROR_COLOR)
MUTED_BRUSH = QBrush(theme.MUTED_COLOR)
KEY_TEXT_BRUSHES = {dark: QBrush(theme.camelot_text_color(dark)) for dark in (False, True)}


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
        self._id_array: np.ndarray[Any, np.dtype[np.int64]] | None = None  # for lookups, lazily
        self.live_change = False  # the last new id vector came from a live update (not the user)
        self._dark = theme.is_dark()
        theme.follower().changed.connect(self.restyle)
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
        # Asked once per painted cell: a precomputed flag per column.
        column = index.column()
        return FLAGS[column] if index.isValid() and 0 <= column < len(FLAGS) else NO_FLAGS

    def data(self, index: Index, role: int = DISPLAY) -> Any:
        # ~2,000 calls per paint: roles the table never fills (font, check state, decoration, size)
        # return before touching the index; the rest read tuples prepared once per row.
        slot = CELL_SLOTS.get(role)
        if slot is None:
            return self._rare_data(index, role) if role in RARE_ROLES else None
        if slot < 0:
            return ALIGNMENTS[index.column()]
        row_number = index.row()
        if row_number >= len(self._ids) or row_number < 0:
            return None
        row = self._rows.get(self._ids[row_number])
        if row is None:
            if slot == 0:
                self._want(row_number)
            return None
        return row["_cells"][slot][index.column()]

    def _rare_data(self, index: Index, role: int) -> Any:
        """The track id, the edit value and the tooltip (asked per cell on demand, not per paint)."""
        track_id = self.track_id(index.row())
        if track_id is None or role == TRACK_ID_ROLE:
            return track_id
        row = self._rows.get(track_id)
        if row is None:
            return None
        name = COLUMNS[index.column()].name
        if role == EDIT:
            value = row.get(name)
            return "" if value is None else value
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

    def requery(self, live: bool = False) -> Any:
        """Re-run the search (cancel-and-replace: only the newest result is applied).

        ``live``: the library changed under the user (a scan); the view keeps its scroll anchor.
        """
        text = f"{self.base_filter} {self.text}".strip()
        return self._query.start(self._run_query(text, live), "library-query")

    async def _run_query(self, text: str, live: bool = False) -> None:
        started = time.perf_counter()
        result = await self.client.track_ids(text, self.sort_column, self.descending)
        if not live:  # a sort or filter shows the top: its rows arrive with the ids, no blank paint
            missing = [t for t in result.ids[:FIRST_ROWS] if t not in self._rows]
            if missing:
                self._store(await self.client.rows(missing, [c.name for c in COLUMNS]))
        self.queryErrors.emit(result.errors)
        self.set_ids(result.ids, live, result.array)
        self.last_query_s = time.perf_counter() - started
        self.idsLoaded.emit(len(result.ids), self.last_query_s)

    def set_ids(
        self,
        new_ids: Sequence[int],
        live: bool = False,
        array: npt.NDArray[np.int64] | None = None,
    ) -> None:
        """Apply a new id vector, keeping selected/current rows (remapped by id) where they still exist.

        ``array``: the same ids as a numpy array, when the caller has one (saves converting 100k ids).
        A live update that only adds rows after the last one is applied as an insertion (rows below
        arrive, nothing else moves); any other change re-lays the rows out.
        """
        if array is None:
            array = np.asarray(new_ids, dtype=np.int64)
        old_array = self._array()
        if np.array_equal(array, old_array):  # in C: no 100k-element comparison in Python
            return
        new_list = new_ids if isinstance(new_ids, list) else list(new_ids)  # never mutated in place
        self._generation += 1
        self._wanted_pages.clear()
        self.live_change = live
        old_count = len(old_array)
        if live and len(array) > old_count and np.array_equal(array[:old_count], old_array):
            self.beginInsertRows(QModelIndex(), old_count, len(array) - 1)
            self._ids, self._id_array = new_list, array
            self.endInsertRows()
            return
        self.layoutAboutToBeChanged.emit()
        old_ids = self._ids
        persistent = self.persistentIndexList()
        self._ids, self._id_array = new_list, array
        if persistent:
            old = [old_ids[i.row()] if 0 <= i.row() < len(old_ids) else -1 for i in persistent]
            position = self.rows_of(set(old))
            remapped = [
                QModelIndex()
                if (row := position.get(tid)) is None
                else self.createIndex(row, i.column())
                for tid, i in zip(old, persistent, strict=True)
            ]
            self.changePersistentIndexList(persistent, remapped)
        self.layoutChanged.emit()

    def _array(self) -> npt.NDArray[np.int64]:
        """The current ids as a numpy array (made once per id vector, when first needed)."""
        if self._id_array is None:
            self._id_array = np.asarray(self._ids, dtype=np.int64)
        return self._id_array

    def rows_of(self, track_ids: set[int]) -> dict[int, int]:
        """Row of each of ``track_ids`` in the current order (absent ids are left out); ~1 ms at 100k."""
        if not track_ids or not self._ids:
            return {}
        ids = self._array()
        if len(track_ids) <= FEW_IDS:  # the scroll anchor, a selection: a scan per id beats a table
            found = ((tid, np.flatnonzero(ids == tid)) for tid in track_ids)
            return {tid: int(rows[0]) for tid, rows in found if len(rows)}
        wanted = np.fromiter(track_ids, dtype=np.int64, count=len(track_ids))
        rows = np.flatnonzero(np.isin(ids, wanted, kind="table"))
        return {self._ids[r]: r for r in rows.tolist()}

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
        if "_from_tags" not in row:  # once: a second pass would see the filled values as analysed
            _fill_from_tags(row)
        notation = self.notation
        shown = tuple(display(c.name, row.get(c.name), notation) for c in COLUMNS)
        status = row.get("_status")
        base = ERROR_BRUSH if status == "error" else MUTED_BRUSH if status == "missing" else None
        fg: list[Any] = [base] * len(COLUMNS)
        bg: list[Any] = [None] * len(COLUMNS)
        key_brush = _key_brush(row.get("key"), self._dark)
        if key_brush is not None:
            bg[KEY_COLUMN] = key_brush
            fg[KEY_COLUMN] = KEY_TEXT_BRUSHES[self._dark]
        for name in row["_from_tags"]:
            if name != "key":
                fg[INDEX[name]] = MUTED_BRUSH
        row["_cells"] = (shown, tuple(fg), tuple(bg))

    def restyle(self, effective: str = "") -> None:
        """The theme changed: recolour the cached rows (Camelot cells) and repaint."""
        self._dark = effective == "dark" if effective else theme.is_dark()
        for row in self._rows.values():
            self._prepare(row)
        if self._ids:
            self.dataChanged.emit(
                self.index(0, 0), self.index(len(self._ids) - 1, len(COLUMNS) - 1)
            )

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
        rows = self.rows_of(track_ids).values()
        if rows:
            # One signal over the span: the view repaints what of it is on screen, once.
            last_column = len(COLUMNS) - 1
            self.dataChanged.emit(self.index(min(rows), 0), self.index(max(rows), last_column))

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

    def clear_rows(self) -> None:
        """Forget every cached row (they are fetched again as they are shown)."""
        self._rows.clear()
        if self._ids:
            self.dataChanged.emit(
                self.index(0, 0), self.index(len(self._ids) - 1, len(COLUMNS) - 1)
            )

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


@functools.cache
def _key_brush(camelot: str | None, dark: bool) -> QBrush | None:
    """The Camelot cell's background (24 keys × 2 themes, made once)."""
    color = theme.camelot_color(camelot, dark)
    if color is None:
        return None
    color.setAlpha(200 if dark else 150)
    return QBrush(color)


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
