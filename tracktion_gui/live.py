"""Live updates: bus events collected and applied to the views in batches (never one repaint per event)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer

from backend.messaging.contracts import Envelope
from tracktion_gui.asyncutil import Coalescing

if TYPE_CHECKING:
    from tracktion_gui.main_window import MainWindow

FLUSH_MS = 250  # changed rows are refreshed at most four times a second
SIDEBAR_EVERY = 4  # the sidebar's counts (the library's size) at most once a second
# Added/removed tracks re-query the table at once when the library was at rest, then at most every
# 2.5 s while they keep arriving (a scan): each re-query re-lays out and repaints the table (~15-30 ms
# at 100k rows), and the counts in the sidebar already tell the scan's progress every second.
REQUERY_STREAMING_S = 2.5
STRUCTURAL = {"track.added", "track.removed", "track.moved", "track.relinked", "track.missing"}
PATTERNS = ("track.*", "job.updated", "graph.updated", "tracklist.*", "recording.analyzed")


class LiveUpdates(QObject):
    """Subscribes to the bus and flushes changes to the window every :data:`FLUSH_MS`."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self._changed: set[int] = set()
        self._structural = False
        self._jobs = False
        self._unsubscribe: Callable[[], Awaitable[None]] | None = None
        self.timer = QTimer(self)
        self.timer.setInterval(FLUSH_MS)
        self.timer.timeout.connect(self.flush)
        self.events_seen = 0
        self._flushes = 0
        self._last_requery = float("-inf")  # time.monotonic() of the last live re-query
        # The sidebar's counts are whole-library queries: at most one running, once a second at most.
        self._sidebar = Coalescing(window.refresh_sidebar_now, "live-sidebar")
        self._sidebar_due = False

    async def start(self) -> None:
        self._unsubscribe = await self.window.client.subscribe(PATTERNS, self._on_event)
        self.timer.start()

    async def stop(self) -> None:
        self.timer.stop()
        if self._unsubscribe is not None:
            await self._unsubscribe()
            self._unsubscribe = None

    async def _on_event(self, message: Envelope[Any]) -> None:
        self.events_seen += 1
        payload = message.payload
        if message.type == "job.updated":
            self._jobs = True
            return
        if message.type in STRUCTURAL:
            self._structural = True
        ids = getattr(payload, "track_ids", None)
        if ids is None and getattr(payload, "track_id", None) is not None:
            ids = (payload.track_id,)
        if ids:
            self._changed.update(int(i) for i in ids)

    def flush(self) -> None:
        """Apply what arrived since the last flush."""
        w = self.window
        self._flushes += 1
        if self._structural:
            self._sidebar_due = True
            if time.monotonic() - self._last_requery >= REQUERY_STREAMING_S:
                self._structural = False
                self._last_requery = time.monotonic()
                w.library.model.requery(live=True)
        if self._changed:
            changed, self._changed = self._changed, set()
            w.library.model.refresh_tracks(sorted(changed))
            if w.library.current_id() in changed:
                w.library.detail.show_track(w.library.current_id())
            self._sidebar_due = True
        if self._sidebar_due and self._flushes % SIDEBAR_EVERY == 0:
            self._sidebar_due = False
            self._sidebar.request()
        if self._jobs:
            self._jobs = False
            w.refresh_status()
            if w.current_view() == "jobs":
                w.jobs.reload()
            if w.current_view() == "folders":
                w.folders.reload()
