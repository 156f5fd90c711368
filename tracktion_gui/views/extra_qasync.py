"""Work-around for a PySide6 6.12 crash: Qt signals emitted from Python threads corrupt reference counts.

qasync's ``call_soon_threadsafe`` wakes the GUI thread by emitting a Qt signal from the calling thread.
Every ``asyncio.to_thread`` / executor result and every aiosqlite query resolves its future that way, and
with PySide6 6.12 a few hundred such emits are enough for CPython to abort ("Fatal Python error:
bool_dealloc", or at exit after a QThread warning). Reproduced without qasync: a QObject's no-argument
signal emitted 2,000 times from a ``threading.Thread`` aborts the interpreter.

:func:`install` replaces the loop's ``call_soon_threadsafe`` with the classic self-pipe: the calling thread
appends to a deque and writes one byte to a socket; a QSocketNotifier in the GUI thread drains the deque.
No Qt object is touched from a foreign thread. Idempotent; the app calls it once the loop runs.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import socket
from collections.abc import Callable
from contextvars import Context
from typing import Any

from PySide6.QtCore import QSocketNotifier

_ATTR = "_tracktion_threadsafe_pipe"


def install(loop: asyncio.AbstractEventLoop) -> None:
    """Make ``loop.call_soon_threadsafe`` safe under PySide6 (see the module docstring)."""
    if getattr(loop, _ATTR, None) is not None:
        return
    reader, writer = socket.socketpair()
    reader.setblocking(False)
    writer.setblocking(False)
    pending: collections.deque[tuple[Callable[..., Any], tuple[Any, ...], Context | None]]
    pending = collections.deque()
    notifier = QSocketNotifier(reader.fileno(), QSocketNotifier.Type.Read)

    def drain() -> None:
        with contextlib.suppress(BlockingIOError, InterruptedError):
            while reader.recv(4096):
                pass
        while pending:
            callback, args, context = pending.popleft()
            loop.call_soon(callback, *args, context=context)

    def call_soon_threadsafe(
        callback: Callable[..., Any], *args: Any, context: Context | None = None
    ) -> asyncio.Handle:
        pending.append((callback, args, context))
        # A full socket buffer already guarantees a wake-up: dropping the byte is fine.
        with contextlib.suppress(BlockingIOError, InterruptedError):
            writer.send(b"\0")
        return asyncio.Handle(lambda: None, (), loop)  # callers only ever cancel it, rarely

    notifier.activated.connect(drain)
    loop.call_soon_threadsafe = call_soon_threadsafe  # type: ignore[method-assign,assignment]
    setattr(loop, _ATTR, (reader, writer, notifier, pending))
