"""The library view: search box with the query language, the big table, and the detail pane."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from backend.api.client import LibraryClient
from backend.api.library import EditOutcome
from tracktion_gui.models.columns import COLUMNS
from tracktion_gui.models.library_model import TRACK_ID_ROLE, LibraryModel
from tracktion_gui.views.detail import DetailPane

ROW_HEIGHT = 24
SEARCH_DEBOUNCE_MS = 5  # coalesces a burst of key repeats; stale queries are cancelled anyway
QUERY_HELP = (
    "Search: free text, field:value (artist:daft), ranges (bpm:120-128, energy:>6), key:8A, "
    "key:~8A (compatible), is:mix, is:missing, is:duplicate, has:error; -term excludes"
)


class LibraryTable(QTableView):
    """The big table; rows appended below the visible ones update the scroll range without a repaint.

    Qt re-lays a view out after rows are inserted and repaints its whole viewport (~15-30 ms for a
    1440×880 table in the software raster): wasted when what is on screen did not change, as when a
    scan's tracks sort after the rows in view and arrive every few seconds.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._quiet_row_count = -1  # the next re-layout is for rows appended off screen, up to this

    def setModel(self, model: Any) -> None:
        super().setModel(model)
        model.rowsAboutToBeInserted.connect(self._before_rows_inserted)
        model.layoutAboutToBeChanged.connect(self._repaint_next_layout)
        model.modelAboutToBeReset.connect(self._repaint_next_layout)

    def _before_rows_inserted(self, _parent: QModelIndex, first: int, last: int) -> None:
        last_shown = self.rowAt(self.viewport().height() - 1)  # -1: the rows do not fill the view
        appended_off_screen = first == self.model().rowCount() and 0 <= last_shown < first
        self._quiet_row_count = last + 1 if appended_off_screen else -1

    def _repaint_next_layout(self) -> None:
        self._quiet_row_count = -1

    def doItemsLayout(self) -> None:
        # Qt calls this once after the insertion (or earlier, when something needs the geometry).
        quiet = self._quiet_row_count == self.model().rowCount()
        self._quiet_row_count = -1
        if quiet:
            self.updateGeometries()  # the new scroll range; the rows on screen are still right
        else:
            super().doItemsLayout()


class LibraryView(QWidget):
    """Search + table + detail. Emits ``trackSelected(id)`` (-1 for none) and ``message(text)``."""

    trackSelected = Signal(int)
    message = Signal(str)

    def __init__(self, client: LibraryClient, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.client = client
        self.model = LibraryModel(client, self)
        self.search = QLineEdit(self)
        self.search.setObjectName("search")
        self.search.setPlaceholderText("Search  (artist:…  bpm:120-128  key:~8A  is:mix)")
        self.search.setToolTip(QUERY_HELP)
        self.search.setClearButtonEnabled(True)
        self.query_error = QLabel(self)
        self.query_error.setObjectName("queryError")
        self.query_error.setStyleSheet("color: #e5534b;")
        self.query_error.hide()
        self.count_label = QLabel(self)
        self.count_label.setObjectName("countLabel")
        self.table = LibraryTable(self)
        self.table.setObjectName("libraryTable")
        self.detail = DetailPane(client, self)
        self._setup_table()

        top = QHBoxLayout()
        top.addWidget(self.search, 1)
        top.addWidget(self.count_label)
        left = QWidget(self)
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addLayout(top)
        left_layout.addWidget(self.query_error)
        left_layout.addWidget(self.table, 1)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.detail)
        self.splitter.setStretchFactor(0, 4)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([900, 300])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.splitter)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(SEARCH_DEBOUNCE_MS)
        self._debounce.timeout.connect(lambda: self.model.set_query(self.search.text()))
        self.search.textChanged.connect(lambda _t: self._debounce.start())
        self.model.queryErrors.connect(self._show_errors)
        self.model.idsLoaded.connect(self._on_loaded)
        self.model.editFinished.connect(self._on_edit_finished)
        self.model.layoutChanged.connect(self._emit_current)
        self._scroll_anchor: int | None = None
        self.model.layoutAboutToBeChanged.connect(self._remember_scroll)
        self.model.layoutChanged.connect(self._restore_scroll)

    def _setup_table(self) -> None:
        t = self.table
        t.setModel(self.model)
        t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        t.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        t.setEditTriggers(
            QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.SelectedClicked
        )
        t.setAlternatingRowColors(True)
        t.setShowGrid(False)
        t.setWordWrap(False)
        t.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        vh = t.verticalHeader()
        # Fixed row height: the view never measures 100k rows.
        vh.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vh.setDefaultSectionSize(ROW_HEIGHT)
        vh.hide()
        hh = t.horizontalHeader()
        hh.setSectionsMovable(True)
        hh.setHighlightSections(False)
        hh.setStretchLastSection(False)
        for i, col in enumerate(COLUMNS):
            hh.resizeSection(i, col.width)
            hh.setSectionHidden(i, not col.default_visible)
        hh.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        hh.customContextMenuRequested.connect(self._column_menu)
        t.setSortingEnabled(True)
        hh.setSortIndicator(0, Qt.SortOrder.AscendingOrder)
        t.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        t.customContextMenuRequested.connect(self._row_menu)
        t.selectionModel().currentRowChanged.connect(self._on_current)

    # ---- selection ---------------------------------------------------------------------------------

    def _on_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        track_id = current.data(TRACK_ID_ROLE) if current.isValid() else None
        tid = int(track_id) if track_id is not None else -1
        self.detail.show_track(tid)
        self.trackSelected.emit(tid)

    def _emit_current(self) -> None:
        current = self.table.currentIndex()
        if not current.isValid():
            self.detail.show_track(-1)

    def top_id(self) -> int | None:
        """The track in the top visible row."""
        return self.model.track_id(self.table.rowAt(0))

    def _remember_scroll(self) -> None:
        self._scroll_anchor = self.top_id()

    def _restore_scroll(self) -> None:
        """After new ids: a live update keeps the top row's track in place (rows arriving above it do
        not push the list down); a sort or filter shows the current track, or the top."""
        table = self.table
        table.doItemsLayout()  # the scroll range for the new row count, before positioning
        anchor = self._scroll_anchor if self.model.live_change else None
        row = self.model.rows_of({anchor}).get(anchor) if anchor is not None else None
        if row is not None:
            column = max(0, table.columnAt(0))  # the leftmost shown column: no sideways scroll
            index = self.model.index(row, column)
            table.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtTop)
        elif not self.model.live_change:
            current = table.currentIndex()
            if current.isValid():
                table.scrollTo(current, QAbstractItemView.ScrollHint.EnsureVisible)
            else:
                table.scrollToTop()

    def selected_ids(self) -> list[int]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [tid for r in rows if (tid := self.model.track_id(r)) is not None]

    def current_id(self) -> int:
        tid = self.model.track_id(self.table.currentIndex().row())
        return -1 if tid is None else tid

    def select_track(self, track_id: int) -> bool:
        """Select and scroll to a track (False when it is not in the current result)."""
        row = self.model.row_of(track_id)
        if row is None:
            return False
        index = self.model.index(row, self.table.horizontalHeader().logicalIndex(0))
        self.table.selectionModel().setCurrentIndex(
            index,
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows,
        )
        self.table.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtCenter)
        return True

    # ---- feedback ----------------------------------------------------------------------------------

    def _show_errors(self, errors: list[str]) -> None:
        self.query_error.setText("; ".join(errors))
        self.query_error.setVisible(bool(errors))

    def _on_loaded(self, count: int, seconds: float) -> None:
        self.count_label.setText(f"{count:,} tracks")
        self.message.emit(f"{count:,} tracks ({seconds * 1000:.0f} ms)")

    def _on_edit_finished(self, outcome: EditOutcome) -> None:
        problems = outcome.conflicts + outcome.errors
        if problems:
            self.message.emit("Not written: " + "; ".join(problems))
        elif outcome.written:
            n = len(outcome.written)
            self.message.emit(f"Tags written to {n} file{'s' if n != 1 else ''}")
        if self.current_id() in outcome.written:
            self.detail.show_track(self.current_id())

    # ---- menus -------------------------------------------------------------------------------------

    def _column_menu(self, pos: QPoint) -> None:
        self.column_menu().exec(self.table.horizontalHeader().mapToGlobal(pos))

    def column_menu(self) -> QMenu:
        """The column chooser: one checkable entry per column."""
        menu = QMenu("Columns", self)
        hh = self.table.horizontalHeader()
        for i, col in enumerate(COLUMNS):
            action = menu.addAction(col.title)
            action.setCheckable(True)
            action.setChecked(not hh.isSectionHidden(i))
            action.toggled.connect(lambda on, i=i: hh.setSectionHidden(i, not on))
        return menu

    def _row_menu(self, pos: QPoint) -> None:
        menu = QMenu(self)
        for action in self.actions():
            menu.addAction(action)
        menu.exec(self.table.viewport().mapToGlobal(pos))

    def add_action(self, text: str, shortcut: str | QKeySequence | None, slot: Any) -> QAction:
        action = QAction(text, self)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def edit_current_cell(self) -> None:
        index = self.table.currentIndex()
        if index.isValid():
            self.table.edit(index)

    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()
