"""The main window: sidebar, stacked main views, status bar, menus and shortcuts.

Contract with part 2 of the app: ``client``, the ``track_selected(int)`` signal, ``register_view(name,
widget, title)``, ``register_lazy_view(name, build, title)``, ``view(name)`` and ``select_track(track_id)``;
``tracktion_gui.views.extra.install(window)`` is called at start-up when that module exists.

The app shows the window before its services are connected (loads started meanwhile wait for the
database) and calls :meth:`MainWindow.start` right after the first paint. A lazy view has its sidebar entry
and menu action at once, and a placeholder in the stack until it is first shown or asked for.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QLabel,
    QMainWindow,
    QSplitter,
    QStackedWidget,
    QWidget,
)

from backend.api.client import LibraryClient
from backend.heap import freeze_startup_heap
from tracktion_gui import theme
from tracktion_gui.asyncutil import Coalescing, spawn
from tracktion_gui.live import LiveUpdates
from tracktion_gui.sidebar import Sidebar
from tracktion_gui.views.folders import FoldersView
from tracktion_gui.views.jobs import JobsView
from tracktion_gui.views.library import LibraryView

log = logging.getLogger(__name__)

# Sidebar filters of the library view (entry name → query added to the search text).
LIBRARY_FILTERS = {
    "all": "",
    "mixes": "is:mix",
    "duplicates": "is:duplicate",
    "missing": "is:missing",
    "errors": "has:error",
}


class MainWindow(QMainWindow):
    """Tracktion's main window over a :class:`LibraryClient`."""

    track_selected = Signal(int)

    def __init__(self, client: LibraryClient) -> None:
        super().__init__()
        self.client = client
        self.setWindowTitle("Tracktion")
        self.setObjectName("mainWindow")
        self.setAcceptDrops(True)
        self.resize(1400, 860)
        self.views: dict[str, QWidget] = {}
        self.view_titles: dict[str, str] = {}
        self._builders: dict[str, Callable[[], QWidget]] = {}  # lazy views not built yet
        self.ui_settings = QSettings(
            str(client.settings.home / "ui.ini"), QSettings.Format.IniFormat
        )

        self.sidebar = Sidebar(self)
        self.stack = QStackedWidget(self)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.addWidget(self.sidebar)
        self.splitter.addWidget(self.stack)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([220, 1180])
        self.setCentralWidget(self.splitter)

        self.library = LibraryView(client, self)
        self.folders = FoldersView(client, self)
        self.jobs = JobsView(client, self)
        self.register_view("library", self.library, "Library")
        self.register_view("folders", self.folders, "Watched folders")
        self.register_view("jobs", self.jobs, "Jobs")

        self._status_bar()
        self._actions()
        self.sidebar.entryActivated.connect(self._on_sidebar)
        self.library.trackSelected.connect(self.track_selected)
        self.library.message.connect(self.show_message)
        self.folders.message.connect(self.show_message)
        self.folders.changed.connect(self.refresh_sidebar)
        self.jobs.message.connect(self.show_message)
        self.live = LiveUpdates(self)
        self._status = Coalescing(self.refresh_status_now, "status")
        self._health_timer = QTimer(self)
        self._health_timer.setInterval(5000)
        self._health_timer.timeout.connect(self.refresh_health)
        self._install_extra()
        self.restore_layout()

    # ---- contract -------------------------------------------------------------------------------------

    def register_view(self, name: str, widget: QWidget, title: str) -> None:
        """Add a main view (selectable from the sidebar and with Ctrl+<n>)."""
        if name in self.views:
            raise ValueError(f"a view named {name!r} is already registered")
        self.views[name] = widget
        self.view_titles[name] = title
        self.stack.addWidget(widget)
        self.sidebar.add_view(name, title)
        number = len(self.views)
        if number <= 9 and hasattr(self, "view_menu"):
            self._add_view_action(name, title, number)

    def register_lazy_view(self, name: str, build: Callable[[], QWidget], title: str) -> None:
        """Add a main view that ``build()`` creates the first time it is shown or asked for."""
        placeholder = QWidget(self)
        placeholder.setObjectName(f"placeholder-{name}")
        self.register_view(name, placeholder, title)
        self._builders[name] = build

    def view(self, name: str) -> QWidget:
        """The main view ``name``, built now if it is a lazy view not built yet."""
        build = self._builders.get(name)
        if build is not None:
            placeholder = self.views[name]
            widget = build()  # if it raises, the placeholder stays and the next show tries again
            del self._builders[name]
            self.stack.insertWidget(self.stack.indexOf(placeholder), widget)
            if self.stack.currentWidget() is placeholder:
                self.stack.setCurrentWidget(widget)
            self.stack.removeWidget(placeholder)
            placeholder.deleteLater()
            self.views[name] = widget
        return self.views[name]

    def select_track(self, track_id: int) -> bool:
        """Select ``track_id`` in the library table (clears the filter if it hides the track)."""
        if self.library.select_track(track_id):
            return True
        spawn(self._select_after_clearing(track_id), "select-track")
        return False

    async def _select_after_clearing(self, track_id: int) -> None:
        self.library.search.blockSignals(True)
        self.library.search.clear()
        self.library.search.blockSignals(False)
        self.library.model.text = ""
        self.library.model.base_filter = ""
        await self.library.model.requery()
        self.library.select_track(track_id)

    def show_view(self, name: str) -> None:
        widget = self.view(name)
        self.stack.setCurrentWidget(widget)
        self.sidebar.mark_view(name)
        if name == "jobs":
            self.jobs.reload()
        elif name == "folders":
            self.folders.reload()

    def current_view(self) -> str:
        current = self.stack.currentWidget()
        return next((n for n, w in self.views.items() if w is current), "library")

    # ---- start-up -------------------------------------------------------------------------------------

    def _install_extra(self) -> None:
        try:
            extra: Any = importlib.import_module("tracktion_gui.views.extra")
        except ModuleNotFoundError as exc:
            if exc.name != "tracktion_gui.views.extra":
                raise
            return
        extra.install(self)

    async def start(self) -> None:
        """Load the first data (table, sidebar, status) and start live updates."""
        await self.live.start()
        await self.library.model.requery()
        await self.refresh_sidebar_now()
        await self.refresh_status_now()
        await self.refresh_health_now()
        self._health_timer.start()
        freeze_startup_heap()  # the first data is loaded: what is alive now lives as long as the app

    async def shutdown(self) -> None:
        self._health_timer.stop()
        await self.live.stop()

    # ---- sidebar and status ---------------------------------------------------------------------------

    def _on_sidebar(self, kind: str, value: str) -> None:
        if kind == "filter":
            self.show_view("library")
            self.library.model.set_base_filter(LIBRARY_FILTERS.get(value, ""))
        elif kind == "folder":
            self.show_view("library")
            self.library.model.set_base_filter(f"root:{value}")
        elif kind == "view":
            self.show_view(value)

    def refresh_sidebar(self) -> None:
        spawn(self.refresh_sidebar_now(), "sidebar")

    async def refresh_sidebar_now(self) -> None:
        counts = await self.client.sidebar_counts()
        folders = await self.client.folders()
        self.sidebar.set_counts(counts)
        self.sidebar.set_folders(folders)

    def _status_bar(self) -> None:
        bar = self.statusBar()
        self.mode_label = QLabel(self)
        self.health_label = QLabel(self)
        self.jobs_label = QLabel(self)
        for w in (self.mode_label, self.health_label, self.jobs_label):
            w.setContentsMargins(8, 0, 8, 0)
            bar.addPermanentWidget(w)
        self.mode_label.setText(f"Mode: {self.client.settings.mode}")

    def show_message(self, text: str) -> None:
        self.statusBar().showMessage(text, 8000)

    def refresh_status(self) -> None:
        """The job counts, after job events (at most one query running; a burst asks once more)."""
        self._status.request()

    async def refresh_status_now(self) -> None:
        counts = await self.client.job_counts()
        running = counts.get("running", 0)
        queued = counts.get("queued", 0) + counts.get("retrying", 0)
        failed = counts.get("failed", 0) + counts.get("dead", 0)
        text = f"Jobs: {running} running · {queued} queued"
        if failed:
            text += f" · <span style='color:#e5534b'>{failed} failed</span>"
        self.jobs_label.setText(text)
        self.mode_label.setText(f"Mode: {self.client.settings.mode}")

    def refresh_health(self) -> None:
        spawn(self.refresh_health_now(), "health")

    async def refresh_health_now(self) -> None:
        """Probe every service (on a timer: a probe opens connections, far too much for every job event)."""
        health = await self.client.health()
        down = [s for s in health.get("services", []) if not s.get("reachable")]
        if down:
            names = ", ".join(f"{s['kind']} ({s.get('error') or 'down'})" for s in down)
            self.health_label.setText(f"<span style='color:#e5534b'>Down: {names}</span>")
        else:
            self.health_label.setText("<span style='color:#3fb950'>●</span> Services OK")

    # ---- actions and shortcuts ------------------------------------------------------------------------

    def _act(self, menu: Any, text: str, shortcut: Any, slot: Any) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _actions(self) -> None:
        mb = self.menuBar()
        file_menu = mb.addMenu("&File")
        self._act(file_menu, "Add watched folder…", "Ctrl+O", self.add_folder_dialog)
        self._act(file_menu, "Open demo library", None, self.open_demo)
        self._act(file_menu, "Settings…", QKeySequence.StandardKey.Preferences, self.open_settings)
        file_menu.addSeparator()
        self._act(file_menu, "Quit", QKeySequence.StandardKey.Quit, self.close)
        edit = mb.addMenu("&Edit")
        self.find_action = self._act(edit, "Find", QKeySequence.StandardKey.Find, self._find)
        self.undo_action = self._act(
            edit, "Undo tag edit", QKeySequence.StandardKey.Undo, self.library.model.undo
        )
        self.redo_action = self._act(
            edit, "Redo tag edit", QKeySequence.StandardKey.Redo, self.library.model.redo
        )
        edit.addSeparator()
        edit_cell = self._act(edit, "Edit cell", "F2", self.library.edit_current_cell)
        bulk = self._act(edit, "Edit selected tracks…", "Ctrl+E", self.bulk_edit)
        self.library.addAction(edit_cell)
        self.library.addAction(bulk)
        self.view_menu = mb.addMenu("&View")
        for number, (name, title) in enumerate(self.view_titles.items(), start=1):
            if number <= 9:
                self._add_view_action(name, title, number)
        self.view_menu.addSeparator()
        self._act(self.view_menu, "Next view", "Ctrl+Tab", lambda: self._cycle(1))
        self._act(self.view_menu, "Previous view", "Ctrl+Shift+Tab", lambda: self._cycle(-1))
        self._act(self.view_menu, "Columns…", None, self._columns_menu)
        self._act(self.view_menu, "Refresh", "F5", self.refresh_all)

    def _add_view_action(self, name: str, title: str, number: int) -> None:
        self._act(self.view_menu, title, f"Ctrl+{number}", lambda: self.show_view(name))

    def _cycle(self, step: int) -> None:
        names = list(self.views)
        current = names.index(self.current_view())
        self.show_view(names[(current + step) % len(names)])

    def _find(self) -> None:
        self.show_view("library")
        self.library.focus_search()

    def _columns_menu(self) -> None:
        menu = self.library.column_menu()
        menu.exec(self.mapToGlobal(self.rect().center()))

    def refresh_all(self) -> None:
        self.library.model.requery()
        self.refresh_sidebar()
        self.refresh_status()
        self.refresh_health()

    def add_folder_dialog(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Watch a music folder")
        if path:
            self.add_folder(Path(path))

    def add_folder(self, path: Path) -> Any:
        """Watch ``path`` and scan it (rows appear as the catalog finds the files)."""
        return self.folders.add(path)

    def open_demo(self) -> Any:
        return self.folders.add_demo()

    def bulk_edit(self) -> None:
        from tracktion_gui.dialogs.bulk_edit import BulkEditDialog

        ids = self.library.selected_ids()
        if not ids:
            self.show_message("Select the tracks to edit first")
            return
        rows = [r for t in ids if (r := self.library.model.cached_row(t))]
        dialog = BulkEditDialog(len(ids), rows, self)
        if dialog.exec():
            changes = dialog.changes()
            if changes:
                self.library.model.edit_tracks(ids, changes)

    def open_settings(self) -> None:
        from tracktion_gui.dialogs.settings import SettingsDialog

        dialog = SettingsDialog(self.client, self)
        dialog.applied.connect(self._settings_applied)
        dialog.open()

    def _settings_applied(self) -> None:
        settings = self.client.settings
        app = QApplication.instance()
        if isinstance(app, QApplication):
            theme.apply(app, settings.ui.theme)
        self.library.model.set_notation(settings.ui.key_notation)
        self.library.detail.show_track(self.library.current_id())
        self.refresh_status()
        self.refresh_health()  # the mode or a server's address may have changed

    # ---- drag and drop of folders ---------------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        urls = event.mimeData().urls()
        if urls and all(u.isLocalFile() and Path(u.toLocalFile()).is_dir() for u in urls):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        for url in event.mimeData().urls():
            if url.isLocalFile() and Path(url.toLocalFile()).is_dir():
                self.add_folder(Path(url.toLocalFile()))
        event.acceptProposedAction()

    # ---- layout memory --------------------------------------------------------------------------------

    def restore_layout(self) -> None:
        s = self.ui_settings
        for key, restore in (
            ("geometry", self.restoreGeometry),
            ("state", self.restoreState),
            ("splitter", self.splitter.restoreState),
            ("library/splitter", self.library.splitter.restoreState),
            ("library/header", self.library.table.horizontalHeader().restoreState),
        ):
            value = s.value(key)
            if isinstance(value, QByteArray):
                restore(value)
        view = s.value("view")
        if isinstance(view, str) and view in self.views:
            self.show_view(view)

    def save_layout(self) -> None:
        s = self.ui_settings
        s.setValue("geometry", self.saveGeometry())
        s.setValue("state", self.saveState())
        s.setValue("splitter", self.splitter.saveState())
        s.setValue("library/splitter", self.library.splitter.saveState())
        s.setValue("library/header", self.library.table.horizontalHeader().saveState())
        s.setValue("view", self.current_view())
        s.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_layout()
        super().closeEvent(event)
