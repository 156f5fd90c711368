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
    """Open the services, show the window, and run until quit; returns the exit status."""
    from PySide6.QtWidgets import QMessageBox

    from backend.services import ServiceUnavailable
    from tracktion_gui import theme

    theme.apply(app, settings.ui.theme)
    quit_future: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def on_quit() -> None:
        if not quit_future.done():
            quit_future.set_result(None)

    app.aboutToQuit.connect(on_quit)
    app.lastWindowClosed.connect(on_quit)
    _install_signal_handlers(on_quit)
    try:
        async with open_app_services(settings) as client:
            return await _run_window(app, client, screenshot, demo, quit_future)
    except ServiceUnavailable as exc:
        if screenshot is not None:
            print(f"tracktion: {exc}", file=sys.stderr)
            return 4
        box = QMessageBox(
            QMessageBox.Icon.Critical,
            "Tracktion cannot start",
            f"{exc.service} is down.\n\n{exc}\n\nStart the servers (docker compose up) or "
            'switch to embedded mode in the config file (mode = "embedded").',
        )
        box.exec()
        return 4


@asynccontextmanager
async def open_app_services(
    settings: Any, *, worker_kinds: list[Any] | None = None, watch: bool = True
) -> AsyncIterator[Any]:
    """Services + (embedded) in-process workers and watcher, closed in reverse order at the end.

    ``worker_kinds`` limits the in-process workers (default: every kind in this build).
    """
    from backend.api.client import LibraryClient
    from backend.services import open_services

    services = await open_services(settings)
    async with AsyncExitStack() as stack:
        stack.push_async_callback(services.close)
        if settings.mode == "embedded":
            from backend.worker.local import local_workers

            await stack.enter_async_context(local_workers(services, worker_kinds))
            if watch:
                await stack.enter_async_context(_watcher(services))
        client = LibraryClient(services)
        await client.start()
        stack.push_async_callback(client.stop)
        yield client


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
    app: Any, client: Any, screenshot: Path | None, demo: bool, quit_future: asyncio.Future[None]
) -> int:
    from tracktion_gui.asyncutil import cancel_all
    from tracktion_gui.main_window import MainWindow

    window = MainWindow(client)
    try:
        await window.start()
        if screenshot is not None:
            from tracktion_gui.screenshot import render_all

            if demo:
                await _ensure_demo(window)
            return await render_all(window, screenshot)
        window.show()
        if demo:
            await _ensure_demo(window)
        elif not await client.folders():
            _first_run(window)
        await quit_future
        return 0
    finally:
        window.save_layout()
        await window.shutdown()
        await cancel_all()


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
