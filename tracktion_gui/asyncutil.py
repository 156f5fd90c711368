"""Background coroutines for the GUI: strong references, errors surfaced, and a way to wait for quiet.

Qt slots are synchronous; they start coroutines on the qasync loop with :func:`spawn`. A task that fails
is reported through ``sys.excepthook`` (the app shows it in the status bar; the tests fail on it), never
swallowed. :func:`idle` lets the screenshot mode and the tests wait until every started task is done.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Callable, Coroutine
from typing import Any

_tasks: set[asyncio.Task[Any]] = set()
_changed: asyncio.Event | None = None


def _event() -> asyncio.Event:
    global _changed
    if _changed is None:
        _changed = asyncio.Event()
    return _changed


def spawn(coro: Coroutine[Any, Any, Any], name: str | None = None) -> asyncio.Task[Any]:
    """Run ``coro`` on the loop, keeping a strong reference until it ends (asyncio keeps only weak ones)."""
    task = asyncio.get_event_loop().create_task(coro, name=name)
    _tasks.add(task)
    task.add_done_callback(_done)
    return task


def _done(task: asyncio.Task[Any]) -> None:
    _tasks.discard(task)
    _event().set()
    if task.cancelled():
        return
    exc = task.exception()
    if exc is not None:
        sys.excepthook(type(exc), exc, exc.__traceback__)


class Replaceable:
    """Cancel-and-replace for user-driven loads: starting a new one cancels the previous one."""

    def __init__(self) -> None:
        self.task: asyncio.Task[Any] | None = None

    def start(self, coro: Coroutine[Any, Any, Any], name: str | None = None) -> asyncio.Task[Any]:
        self.cancel()
        self.task = spawn(coro, name)
        return self.task

    def cancel(self) -> None:
        if self.task is not None and not self.task.done():
            self.task.cancel()


class Coalescing:
    """Refreshes that must not cancel each other: a request while one runs schedules one more run.

    The returned task finishes only after a run that started after the latest request, so awaiting
    it always yields fresh data (the jobs and folders panels reload this way on every event burst).
    """

    def __init__(self, factory: Callable[[], Coroutine[Any, Any, Any]], name: str) -> None:
        self.factory = factory
        self.name = name
        self.task: asyncio.Task[Any] | None = None
        self._again = False

    def request(self) -> asyncio.Task[Any]:
        if self.task is not None and not self.task.done():
            self._again = True
            return self.task
        self.task = spawn(self._run(), self.name)
        return self.task

    async def _run(self) -> None:
        while True:
            self._again = False
            await self.factory()
            if not self._again:
                return


def pending() -> int:
    """How many spawned tasks are still running."""
    return len(_tasks)


BACKGROUND = "bg:"  # name prefix of tasks that live as long as the window (watchers, timers)


async def idle(timeout_s: float = 10.0) -> bool:
    """Wait until every spawned task except the ``bg:`` ones has finished; False on timeout."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while any(not t.get_name().startswith(BACKGROUND) for t in _tasks):
        remaining = deadline - loop.time()
        if remaining <= 0:
            return False
        ev = _event()
        ev.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(ev.wait(), remaining)
    return True


async def cancel_all() -> None:
    """Cancel every spawned task except the ``bg:`` ones (their owners stop them) and wait for them."""
    doomed = [t for t in _tasks if not t.get_name().startswith(BACKGROUND)]
    for task in doomed:
        task.cancel()
    if doomed:
        await asyncio.gather(*doomed, return_exceptions=True)


async def qt_turn(times: int = 2) -> None:
    """Let Qt handle what is already posted (layouts, paints) without re-entering the loop.

    ``QApplication.processEvents()`` inside a coroutine would run other tasks re-entrantly; a zero
    timer fires only after the events queued before it, which is what we want.
    """
    from PySide6.QtCore import QTimer

    for _ in range(times):
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        QTimer.singleShot(0, lambda f=future: f.done() or f.set_result(None))
        await future
