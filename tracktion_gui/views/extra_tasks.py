"""Background work of the part-2 views on the qasync loop: cancel-and-replace loads and tracked commands.

Built on ``tracktion_gui.asyncutil.spawn`` (strong references, and ``idle()`` — used by the screenshot mode
and the tests — waits for these tasks too). Selecting another track cancels the previous track's load
(FeelUOwn's task.py pattern). A failure is shown by the view that started the task (its ``on_error``) and
logged with its traceback, instead of vanishing into "Task exception was never retrieved".
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from tracktion_gui.asyncutil import spawn

log = logging.getLogger(__name__)

ErrorCallback = Callable[[BaseException], None]


async def _guarded(coro: Coroutine[Any, Any, Any], on_error: ErrorCallback | None) -> Any:
    try:
        return await coro
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        log.warning("view task failed: %s", exc, exc_info=exc)
        if on_error is None:
            raise
        on_error(exc)
        return None


def _close(coro: Coroutine[Any, Any, Any]) -> None:
    """A task cancelled before it started never ran its coroutine: close it ("never awaited" otherwise)."""
    coro.close()


class LatestTask:
    """At most one running task: starting a new one cancels the one before."""

    def __init__(self, on_error: ErrorCallback | None = None, name: str = "view-load") -> None:
        self.task: asyncio.Task[Any] | None = None
        self._on_error = on_error
        self._name = name

    def start(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        self.cancel()
        self.task = spawn(_guarded(coro, self._on_error), self._name)
        self.task.add_done_callback(lambda _t: _close(coro))
        return self.task

    def cancel(self) -> None:
        if self.task is not None and not self.task.done():
            self.task.cancel()

    @property
    def running(self) -> bool:
        return self.task is not None and not self.task.done()


class TaskSet:
    """Fire-and-forget commands (cue edits, enqueues, saves), each kept alive until it finishes."""

    def __init__(self, on_error: ErrorCallback | None = None, name: str = "view-command") -> None:
        self.tasks: set[asyncio.Task[Any]] = set()
        self._on_error = on_error
        self._name = name

    def start(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = spawn(_guarded(coro, self._on_error), self._name)
        task.add_done_callback(lambda _t: _close(coro))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    def cancel_all(self) -> None:
        for task in list(self.tasks):
            task.cancel()
