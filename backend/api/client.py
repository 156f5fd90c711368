"""``LibraryClient``: the one object a front end talks to (the desktop app; part 2 adds media queries).

Every method is async and cheap for the caller's loop: queries go through the async database API, blocking
file work runs in executors inside the backend, work for the workers is enqueued as jobs, and live changes
arrive through :meth:`subscribe`. No Qt here, so the same client serves tests and other front ends.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from backend.api import folders as folders_api
from backend.api import jobs as jobs_api
from backend.api import library
from backend.api.commands import enqueue
from backend.api.library import EditOutcome, IdCache, IdsResult
from backend.config import Settings, save_settings
from backend.db.models import LibraryRoot
from backend.library.search import SearchIndex
from backend.messaging.contracts import Envelope, Payload
from backend.services import Services
from backend.worker.jobs import counts_by_status

EventHandler = Callable[[Envelope[Any]], Awaitable[None]]


class LibraryClient:
    """Queries, commands and live events over one deployment's :class:`Services`."""

    def __init__(self, services: Services) -> None:
        self.services = services
        # root path → (phase, done, total) of a scan running in this process.
        self.scan_progress: dict[str, tuple[str, int, int]] = {}
        self.search_index = SearchIndex()
        self.id_cache = IdCache()
        self._unsubscribe: Callable[[], Awaitable[None]] | None = None
        self._index_task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Keep the in-memory search index and id cache in step with the library (call once).

        The index loads in the background; searches use SQL until it is ready.
        """
        self._unsubscribe = await self.services.bus.subscribe(["track.*"], self._on_tracks)
        self._index_task = asyncio.create_task(self._load_index(), name="bg:search-index")

    async def _load_index(self) -> None:
        await self.search_index.load(self.services)
        self.id_cache.clear()

    async def stop(self) -> None:
        if self._unsubscribe is not None:
            await self._unsubscribe()
            self._unsubscribe = None
        if self._index_task is not None and not self._index_task.done():
            self._index_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._index_task

    async def _on_tracks(self, message: Envelope[Any]) -> None:
        self.id_cache.clear()
        await self.search_index.refresh(self.services, getattr(message.payload, "track_ids", ()))

    @property
    def settings(self) -> Settings:
        return self.services.settings

    # ---- library table and detail ----------------------------------------------------------------------

    async def track_ids(
        self, text: str = "", sort: str = "artist", descending: bool = False
    ) -> IdsResult:
        """Ids in display order for a search (errors in the query come back in ``.errors``)."""
        return await library.track_ids(
            self.services, text, sort, descending, self.search_index, self.id_cache
        )

    async def rows(self, ids: Sequence[int], columns: Sequence[str]) -> dict[int, dict[str, Any]]:
        """A page of table rows by id."""
        return await library.rows(self.services, ids, columns)

    async def track(self, track_id: int) -> dict[str, Any] | None:
        """Everything about one track (detail pane)."""
        return await library.track_detail(self.services, track_id)

    async def cover_art(self, track_id: int) -> bytes | None:
        return await library.cover_art(self.services, track_id)

    async def sidebar_counts(self) -> dict[str, int]:
        return await library.sidebar_counts(self.services)

    # ---- editing ----------------------------------------------------------------------------------------

    async def edit(self, track_ids: Sequence[int], changes: Mapping[str, Any]) -> EditOutcome:
        """Write tag ``changes`` into the files of ``track_ids`` (one undoable batch)."""
        return await self._edited(await library.edit_tags(self.services, track_ids, changes))

    async def undo(self) -> EditOutcome:
        return await self._edited(await library.undo(self.services))

    async def redo(self) -> EditOutcome:
        return await self._edited(await library.redo(self.services))

    async def _edited(self, outcome: EditOutcome) -> EditOutcome:
        # The edit's own track.updated event does this too; doing it here makes the next query exact.
        self.id_cache.clear()
        await self.search_index.refresh(self.services, outcome.written)
        return outcome

    # ---- watched folders --------------------------------------------------------------------------------

    async def folders(self) -> list[dict[str, Any]]:
        """Watched folders with state, counts, the last error and the progress of a running scan."""
        roots = await folders_api.list_roots(self.services)
        out: list[dict[str, Any]] = []
        for root in roots:
            info: dict[str, Any] = root.as_dict()
            progress = self.scan_progress.get(info["path"])
            if progress is not None:
                info["scan_phase"], done, total = progress
                info["scan_progress"] = done / total if total else 0.0
            out.append(info)
        return out

    async def add_folder(self, path: Path, *, scan: bool = True) -> dict[str, Any]:
        """Watch ``path`` and scan it now (rows appear as batches are written; analysis follows as jobs).

        Raises ``backend.api.folders.FolderError`` with a readable reason (not a folder, nested, …).
        """
        root = await folders_api.add_root(self.services, Path(path))
        info = {"id": root.id, "path": root.path, "name": root.name}
        if scan:
            await self.scan_folders([root.path])
        return info

    async def scan_folders(self, paths: list[str] | None = None, full: bool = False) -> Any:
        """Scan folders (all unpaused when None) in this process, tracking progress for the panel."""

        def progress(p: Any) -> None:
            self.scan_progress[p.root] = (p.phase, p.done, p.total)

        try:
            stats, _correlation = await folders_api.scan(
                self.services, paths, full=full, progress=progress
            )
        finally:
            for path in paths or list(self.scan_progress):
                self.scan_progress.pop(path, None)
        return stats

    async def remove_folder(self, root_id: int) -> int:
        """Stop watching a folder and forget its tracks (the files stay). Returns tracks forgotten."""
        removed: int = await folders_api.remove_root(self.services, await self._root_path(root_id))
        return removed

    async def pause_folder(self, root_id: int, paused: bool) -> None:
        await folders_api.pause_root(self.services, await self._root_path(root_id), paused)

    async def rescan_folder(self, root_id: int, full: bool = False) -> None:
        await self.scan_folders([await self._root_path(root_id)], full=full)

    async def _root_path(self, root_id: int) -> str:
        async with self.services.db.read() as session:
            root = await session.get(LibraryRoot, root_id)
        if root is None:
            raise LookupError(f"watched folder {root_id} no longer exists")
        return root.path

    # ---- jobs -------------------------------------------------------------------------------------------

    async def jobs(self, status: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
        return await jobs_api.list_jobs(self.services, status, limit)

    async def job_counts(self) -> dict[str, int]:
        async with self.services.db.read() as session:
            return await counts_by_status(session)

    async def retry_job(self, job_id: str) -> bool:
        return await jobs_api.retry_job(self.services, job_id)

    async def cancel_job(self, job_id: str) -> bool:
        return await jobs_api.cancel_job(self.services, job_id)

    async def enqueue(self, payloads: Sequence[Payload]) -> list[Envelope[Any]]:
        """Queue work for the workers (job rows first, then the messages)."""
        return await enqueue(self.services, payloads)

    # ---- live events, health, settings ------------------------------------------------------------------

    async def subscribe(
        self, patterns: Sequence[str], callback: EventHandler
    ) -> Callable[[], Awaitable[None]]:
        """Call ``callback`` for every event matching the AMQP-style ``patterns``; returns unsubscribe."""
        return await self.services.bus.subscribe(patterns, callback)

    async def health(self) -> dict[str, Any]:
        """Reachability of every service of the mode, job counts and workers (as ``tracktion status``)."""
        from backend.status import collect_status

        return await collect_status(self.settings)

    def save_settings(self, changes: dict[str, Any]) -> Settings:
        """Validate and write settings; the new values take effect for this client at once."""
        self.services.settings = save_settings(self.settings, changes)
        return self.services.settings
