"""Starting the desktop app: the one place that creates the QApplication and starts qasync.

The backend's services are opened inside the running loop; in embedded mode the app also runs every
worker kind and the folder watcher in-process, so the app alone is the whole pipeline.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> int:
    """Entry point for ``python -m tracktion_gui`` (same options as ``tracktion gui``)."""
    parser = argparse.ArgumentParser(prog="tracktion-gui")
    parser.add_argument("--home", type=Path, default=None)
    parser.add_argument("--screenshot", type=Path, default=None)
    parser.add_argument("--demo", action="store_true")
    return run_from_cli(parser.parse_args(argv))


def run_from_cli(args: argparse.Namespace) -> int:
    """Run the app until its window closes (or, with ``--screenshot DIR``, until the PNGs are written)."""
    screenshot: Path | None = getattr(args, "screenshot", None)
    if screenshot is not None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import qasync
    from PySide6.QtWidgets import QApplication

    from backend.config import load_settings

    settings = load_settings(getattr(args, "home", None))
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    app.setApplicationName("Tracktion")
    icon = _icon_path()
    if icon is not None:
        from PySide6.QtGui import QIcon

        app.setWindowIcon(QIcon(str(icon)))
    app.setOrganizationName("Tracktion")
    # Quitting resolves run_app's quit future instead of stopping Qt's loop under a pending coroutine
    # (that would skip the orderly shutdown and end in "Event loop stopped before Future completed").
    app.setQuitOnLastWindowClosed(False)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    demo = bool(getattr(args, "demo", False))
    try:
        with loop:
            code = loop.run_until_complete(run_app(app, settings, screenshot=screenshot, demo=demo))
    finally:
        asyncio.set_event_loop(None)
    # Tear the Qt objects down while the interpreter is fully alive: collecting them during
    # interpreter finalization crashes some Qt add-ons (multimedia, OpenGL) in PySide6.
    import gc

    gc.collect()
    app.processEvents()
    return int(code)


async def run_app(app: Any, settings: Any, *, screenshot: Path | None, demo: bool) -> int:
    """Show the window, then connect the services and load the data; run until quit (exit status).

    The window is built before any I/O and painted first; its loads wait until the database is migrated
    and the services are connected. In embedded mode the in-process workers (whose handler modules import
    SciPy) and the folder watcher start after the first data is on screen.
    """
    from backend.api.client import LibraryClient
    from backend.services import ServiceUnavailable, prepare_services
    from tracktion_gui import theme
    from tracktion_gui.main_window import MainWindow

    theme.apply(app, settings.ui.theme)
    quit_future: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def on_quit() -> None:
        if not quit_future.done():
            quit_future.set_result(None)

    app.aboutToQuit.connect(on_quit)
    app.lastWindowClosed.connect(on_quit)
    _install_signal_handlers(on_quit)
    client = LibraryClient(prepare_services(settings))
    window = MainWindow(client)
    try:
        if screenshot is None:
            await _show_and_paint(window)
        # Usually a fraction of a second; longer when an old library is backed up and migrated.
        opening = "Opening the library…"
        window.statusBar().showMessage(opening)
        async with connected(client):
            try:
                await window.start()
                if window.statusBar().currentMessage() == opening:  # not replaced by the table's
                    window.statusBar().clearMessage()
                # A start-up milestone: the first data is on screen (the cold-start probe reports it).
                window.setProperty(READY_PROPERTY, True)
                async with background_work(client.services):
                    return await _run_window(window, screenshot, demo, quit_future)
            finally:
                from tracktion_gui.asyncutil import cancel_all

                window.save_layout()
                await window.shutdown()
                await cancel_all()
    except ServiceUnavailable as exc:
        from tracktion_gui.asyncutil import cancel_all

        await cancel_all()  # the window's loads, still waiting for the database that never opened
        if screenshot is not None:
            print(f"tracktion: {exc}", file=sys.stderr)
            return 4
        from PySide6.QtWidgets import QMessageBox

        box = QMessageBox(
            QMessageBox.Icon.Critical,
            "Tracktion cannot start",
            f"{exc.service} is down.\n\n{exc}\n\nStart the servers (docker compose up) or "
            'switch to embedded mode in the config file (mode = "embedded").',
            parent=window if window.isVisible() else None,
        )
        box.exec()
        window.close()
        return 4


READY_PROPERTY = "tracktionReady"


async def _show_and_paint(window: Any, timeout_s: float = 2.0) -> None:
    """Show the window and wait for its first paint, so it is on screen before any start-up I/O.

    Bounded: a window that starts minimised or on a hidden workspace may not paint yet.
    """
    from PySide6.QtCore import QEvent, QObject

    painted: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    class _FirstPaint(QObject):
        def eventFilter(self, obj: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint and not painted.done():
                painted.set_result(None)
            return False

    watcher = _FirstPaint(window)
    window.installEventFilter(watcher)
    window.show()
    try:
        await asyncio.wait_for(painted, timeout_s)
    except TimeoutError:
        log.debug("the main window did not paint within %.1f s", timeout_s)
    finally:
        window.removeEventFilter(watcher)
        watcher.deleteLater()


@asynccontextmanager
async def open_app_services(
    settings: Any, *, worker_kinds: list[Any] | None = None, watch: bool = True
) -> AsyncIterator[Any]:
    """Services + (embedded) in-process workers and watcher, closed in reverse order at the end.

    ``worker_kinds`` limits the in-process workers (default: every kind in this build).
    """
    from backend.api.client import LibraryClient
    from backend.services import prepare_services

    client = LibraryClient(prepare_services(settings))
    async with connected(client), background_work(client.services, worker_kinds, watch=watch):
        yield client


@asynccontextmanager
async def connected(client: Any) -> AsyncIterator[None]:
    """The client's services migrated and connected, and the client started; all closed at the end."""
    from backend.services import connect_services

    await connect_services(client.services)
    try:
        await client.start()
        try:
            yield
        finally:
            await client.stop()
    finally:
        await client.services.close()


@asynccontextmanager
async def background_work(
    services: Any, worker_kinds: list[Any] | None = None, *, watch: bool = True
) -> AsyncIterator[None]:
    """Embedded mode: every worker kind (or ``worker_kinds``) in this process, and the folder watcher."""
    if services.settings.mode != "embedded":
        yield
        return
    from backend.heap import freeze_startup_heap
    from backend.worker.local import available_kinds, local_workers
    from backend.worker.runtime import load_handlers

    # The handler modules import SciPy & co. (~2 s): loaded off the GUI thread, which stays responsive.
    if not worker_kinds:
        worker_kinds = list(await asyncio.to_thread(available_kinds))
    kinds = worker_kinds
    await asyncio.to_thread(lambda: [load_handlers(kind) for kind in kinds])
    freeze_startup_heap()  # the handlers' modules (SciPy & co.) are permanent too
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(local_workers(services, kinds))
        if watch:
            await stack.enter_async_context(_watcher(services))
        yield


@asynccontextmanager
async def _watcher(services: Any) -> AsyncIterator[None]:
    """The catalog's folder watcher, when this build has one."""
    from backend.catalog import watcher
    from tracktion_gui.asyncutil import spawn

    stop = asyncio.Event()
    task = spawn(watcher.watch(services, stop), "bg:watcher")
    try:
        yield
    finally:
        stop.set()
        try:
            await asyncio.wait_for(task, 10)
        except (TimeoutError, asyncio.CancelledError):
            task.cancel()


async def _run_window(
    window: Any, screenshot: Path | None, demo: bool, quit_future: asyncio.Future[None]
) -> int:
    if screenshot is not None:
        from tracktion_gui.screenshot import render_all

        if demo:
            await _ensure_demo(window)
        return await render_all(window, screenshot)
    if demo:
        await _ensure_demo(window)
    elif not await window.client.folders():
        _first_run(window)
    await quit_future
    return 0


async def _ensure_demo(window: Any, timeout_s: float = 300.0) -> None:
    """Add the demo library (once) and wait until the in-process workers have worked through it."""
    home_demo = window.client.settings.home / "demo"
    folders = await window.client.folders()
    if not any(Path(f["path"]) == home_demo.resolve() for f in folders):
        await window.folders.add_demo()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(_workers_idle(window.client), timeout_s)
    await window.library.model.requery()
    await window.refresh_sidebar_now()


async def _workers_idle(client: Any) -> None:
    """Return when no job of a worker kind running in this process is open (others never finish)."""
    from backend.worker.local import available_kinds

    kinds = set(available_kinds())
    while True:
        jobs = await client.jobs(limit=1000)
        if not any(
            j["status"] in ("queued", "running", "retrying") and j["kind"].split(":")[0] in kinds
            for j in jobs
        ):
            return
        await asyncio.sleep(0.5)  # polling a status the workers write; a screenshot run only


def _first_run(window: Any) -> None:
    from tracktion_gui.dialogs.first_run import FirstRunDialog

    dialog = FirstRunDialog(window.client.settings, window)
    if window.client.settings.mode == "services":
        dialog.check()

    def done(result: int) -> None:
        if not result:
            return
        for path in dialog.folders:
            window.add_folder(path)
        if dialog.demo:
            window.open_demo()

    dialog.finished.connect(done)
    dialog.open()


def _icon_path() -> Path | None:
    """The app icon: in the frozen bundle (sys._MEIPASS) or the source tree's resources/."""
    base = Path(getattr(sys, "_MEIPASS", Path(__file__).resolve().parents[1]))
    for name in ("tracktion.png", "tracktion.svg"):
        path = base / "resources" / "icons" / name
        if path.exists():
            return path
    return None


def _install_signal_handlers(on_quit: Any) -> None:
    # Ctrl+C / SIGTERM quit cleanly: the same path as closing the window (services drained and closed).
    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
        asyncio.get_running_loop().add_signal_handler(signal.SIGINT, on_quit)
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, on_quit)


if __name__ == "__main__":
    sys.exit(main())
