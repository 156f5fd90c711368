"""GUI test set-up: offscreen Qt, one shared QApplication, the qasync loop, and failing on slot errors.

pytest-qt gives the session's single QApplication (``qapp``); every async test runs on a qasync loop over
it, so coroutines and Qt events interleave exactly as in the app. Exceptions raised in Qt slots or in
background tasks reach ``sys.excepthook``; the autouse fixture below collects them and fails the test.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
import qasync

import tracktion_gui  # noqa: F401  (installs the PySide6 refcount guard, even for tests without a window)
from backend.audio.encode import encode, tone


@pytest.fixture(scope="session")
def event_loop_policy(qapp: Any) -> asyncio.AbstractEventLoopPolicy:
    """Async GUI tests run on a qasync loop over the shared QApplication, as the app does.

    (pytest-asyncio's newer loop-factory hook ends the loop through ``asyncio.Runner``, which qasync's
    loop does not survive; the policy fixture works, so its deprecation warning is silenced below.)
    """
    return qasync.DefaultQEventLoopPolicy()


def pytest_collection_modifyitems(items: list[Any]) -> None:
    for item in items:
        if "tests/gui/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.filterwarnings('ignore:Overriding the "event_loop_policy"'))


@pytest.fixture(autouse=True)
def fail_on_slot_errors() -> Iterator[list[BaseException]]:
    """Collect exceptions from slots and background tasks; any of them fails the test."""
    errors: list[BaseException] = []
    previous = sys.excepthook

    def hook(kind: type[BaseException], exc: BaseException, tb: Any) -> None:
        errors.append(exc)
        previous(kind, exc, tb)

    sys.excepthook = hook
    try:
        yield errors
    finally:
        sys.excepthook = previous
    if errors:
        pytest.fail(f"exception in a slot or background task: {errors[0]!r}", pytrace=False)


def make_music(folder: Path, specs: list[dict[str, Any]]) -> list[Path]:
    """Small real audio files (1 s) with tags; ``fmt`` picks the format (default mp3)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, spec in enumerate(specs):
        spec = dict(spec)
        fmt = spec.pop("fmt", "mp3")
        ext = {"alac": ".m4a", "ogg": ".ogg", "opus": ".opus"}.get(fmt, "." + fmt)
        path = folder / f"{i:02d} {spec.get('title', 'track')}{ext}"
        encode(path, tone(1.0, seed=i, freq=220 + 40 * i), 22050, fmt, spec)
        # An hour old: "stable" for the scanner's settle window, like music already on a disk.
        old = time.time() - 3600
        os.utime(path, (old, old))
        paths.append(path)
    return paths


async def next_signal(signal: Any, check: Any = None, timeout_s: float = 20.0) -> tuple[Any, ...]:
    """Wait for the next emission of a Qt ``signal`` whose arguments pass ``check``."""
    future: asyncio.Future[tuple[Any, ...]] = asyncio.get_running_loop().create_future()

    def slot(*args: Any) -> None:
        if not future.done() and (check is None or check(*args)):
            future.set_result(args)

    signal.connect(slot)
    try:
        return await asyncio.wait_for(future, timeout_s)
    finally:
        signal.disconnect(slot)


async def rows_become(window: Any, count: int, timeout_s: float = 30.0) -> None:
    """Wait until the library table shows ``count`` rows (live updates re-query as tracks arrive)."""
    model = window.library.model
    if model.rowCount() == count:
        return
    await next_signal(model.idsLoaded, lambda n, _s: n == count, timeout_s)


# Closed windows stay referenced until the session ends: deleting a window whose Qt children still have
# queued events or Python wrappers mid-session crashed the offscreen event loop under PySide6 6.12.
_closed_windows: list[Any] = []


@pytest.fixture(params=["embedded", "services"])
def open_window(request: pytest.FixtureRequest, qapp: Any, make_settings: Any) -> Any:
    """``async with open_window() as window``: the real main window over one deployment.

    Embedded: SQLite, in-process bus, catalog workers and the folder watcher in this process (as the
    app runs them). Services: PostgreSQL + RabbitMQ + Redis with this test's database and prefixes
    (``open_deployment``); the worker kinds run here as the worker processes would, over RabbitMQ.
    The window lives inside the test's own coroutine (not an async fixture): qasync steps background
    tasks only while its loop runs, and pytest-asyncio runs fixtures and the test in separate
    ``run_until_complete`` calls.
    """
    from backend.worker.local import local_workers
    from tests.conftest import open_deployment
    from tracktion_gui.app import open_app_services
    from tracktion_gui.asyncutil import cancel_all
    from tracktion_gui.main_window import MainWindow

    mode = request.param
    qapp.setQuitOnLastWindowClosed(False)  # closing the window must not end the test's loop

    @asynccontextmanager
    async def opener(kinds: tuple[str, ...] = ("catalog",), **library: Any) -> AsyncIterator[Any]:
        # A long settle window: the watcher leaves a file alone for 30 s after an outside change,
        # so the conflict test decides when the library learns about it (test files are an hour old).
        values = {"settle_window_s": 30, "debounce_ms": 50, **library}
        async with (
            open_deployment(request, make_settings, mode, library=values) as deployment,
            open_app_services(deployment.settings, worker_kinds=list(kinds)) as client,
            AsyncExitStack() as stack,
        ):
            if mode == "services":  # open_app_services starts workers only in embedded mode
                await stack.enter_async_context(local_workers(client.services, list(kinds)))
            w = MainWindow(client)
            await w.start()
            w.show()
            try:
                yield w
            finally:
                await w.shutdown()
                await cancel_all()
                w.close()
                _closed_windows.append(w)  # deleted at exit, not mid-session (see below)

    return opener
