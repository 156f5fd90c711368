"""Shared state of the waveform and mix views: the selected track's media, the player, live events.

One load per selection (cancel-and-replace) feeds both views, so the waveform bytes of a long mix are decoded
once. Bus events arrive on the qasync loop and are turned into Qt signals; a re-analysis or a new tracklist of
the shown track reloads it in place without interrupting playback.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from PySide6.QtCore import QObject, Signal

from backend.api import media
from backend.messaging.contracts import Envelope
from backend.services import Services
from tracktion_gui.views.extra_tasks import LatestTask, TaskSet
from tracktion_gui.views.player import PreviewPlayer

log = logging.getLogger(__name__)

EVENT_PATTERNS = (
    "track.analyzed",
    "recording.analyzed",
    "track.updated",
    "tracklist.*",
    "graph.updated",
    "job.updated",
)
FINISHED = {"done", "failed", "dead", "cancelled"}


class MediaController(QObject):
    """Loads what the views show for the selected track and relays live updates."""

    media_loaded = Signal(object)  # TrackMedia | None
    mix_changed = Signal(int)  # a recording's tracklist or candidates changed
    graph_changed = Signal(object)  # tuple of track ids
    failed = Signal(str)
    loading = Signal(int)
    tracklist_job = Signal(str, object)  # a tracklist job of the shown track ended: (status, error)

    def __init__(
        self, services: Services, parent: QObject | None = None, *, mixes_only: bool = False
    ) -> None:
        super().__init__(parent)
        self.services = services
        # The mix view keeps showing the last selected recording while other tracks are selected.
        self.mixes_only = mixes_only
        self.player = PreviewPlayer(self)
        self.track_id = -1
        self.media: media.TrackMedia | None = None
        self._load = LatestTask(self._error)
        self.tasks = TaskSet(self._error)
        self._unsubscribe: Any = None

    # ---- selection -------------------------------------------------------------------------------------

    def select(self, track_id: int) -> None:
        """Follow the library selection (-1 = none): cancels the previous track's load."""
        if (track_id == self.track_id and self.media is not None) or (
            self.mixes_only and track_id < 0
        ):
            return
        self.track_id = track_id
        if track_id < 0:
            self._load.cancel()
            self.media = None
            self.player.load(None)
            self.media_loaded.emit(None)
            return
        if not self.mixes_only:
            self.loading.emit(track_id)
        self._load.start(self._fetch(track_id, reload=False))

    async def loaded(self) -> None:
        """Wait until the current load (if any) has ended, however it ends."""
        if self._load.task is not None:
            await asyncio.wait([self._load.task])

    def reload(self) -> None:
        """Load the shown track again (after an edit or an event), keeping the playback position."""
        if self.track_id >= 0:
            self._load.start(self._fetch(self.track_id, reload=True))

    async def _fetch(self, track_id: int, *, reload: bool) -> None:
        previous = self.media
        loaded = await media.load_track_media(self.services, track_id)
        if track_id != self.track_id:
            return
        if self.mixes_only and not loaded.is_mix:
            self.track_id = previous.track_id if previous is not None else -1
            return
        self.media = loaded
        if not reload or self.player.path != loaded.path:
            self.player.load(loaded.path, loaded.duration_s)
        else:
            self.player.duration_s = loaded.duration_s
        self.media_loaded.emit(loaded)

    # ---- edits -----------------------------------------------------------------------------------------

    def move_cue(self, cue: media.Cue, position_s: float) -> None:
        """A dragged marker: store it (source=user) and reload the markers."""
        self.tasks.start(self._move_cue(cue, position_s))

    async def _move_cue(self, cue: media.Cue, position_s: float) -> None:
        await media.move_cue(
            self.services,
            self.track_id,
            position_s,
            cue_id=cue.cue_id,
            entry_id=cue.entry_id,
        )
        await self._fetch(self.track_id, reload=True)
        self.mix_changed.emit(self.track_id)

    # ---- live events -----------------------------------------------------------------------------------

    async def start_events(self) -> None:
        """Subscribe to the bus events that change what the views show."""
        self._unsubscribe = await self.services.bus.subscribe(EVENT_PATTERNS, self._on_event)

    async def stop_events(self) -> None:
        if self._unsubscribe is not None:
            await self._unsubscribe()
            self._unsubscribe = None

    async def _on_event(self, message: Envelope[Any]) -> None:
        payload = message.payload
        ids: tuple[int, ...] = tuple(getattr(payload, "track_ids", ()) or ())
        single = getattr(payload, "track_id", None)
        if single is not None:
            ids = (*ids, int(single))
        if message.type == "graph.updated":
            self.graph_changed.emit(ids)
            return
        if message.type == "job.updated":
            # A search that found nothing publishes no tracklist event: the job's end tells the view.
            if payload.kind == "tracklists" and payload.status in FINISHED and self.track_id in ids:
                self.tracklist_job.emit(payload.status, payload.error)
            return
        if self.track_id in ids:
            if message.type.startswith("tracklist."):
                self.mix_changed.emit(self.track_id)
            self.reload()

    def _error(self, exc: BaseException) -> None:
        log.warning("media view: %s", exc, exc_info=exc)
        self.failed.emit(str(exc) or type(exc).__name__)
