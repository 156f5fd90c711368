"""Live watching of the library roots with watchfiles; publishes file.* work for the catalog handler.

A changed file is published only once it is stable: its size and mtime unchanged for the settle window
(``settings.library.settle_window_s``) — a file still being copied is never read half-written. Bursts are
debounced (``debounce_ms``) and published in batches. Deletes wait for the debounce too, and are dropped
when the root itself is gone (a deleted or unmounted root goes offline; nothing is marked missing). The
set of roots is re-read every few seconds, so roots added, paused or coming back are picked up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from dataclasses import dataclass

from sqlalchemy import select

from backend.api.commands import enqueue
from backend.catalog.formats import is_candidate
from backend.catalog.own_writes import is_own_write
from backend.catalog.paths import from_db, to_db
from backend.catalog.scanner import root_problem, set_root_state
from backend.catalog.store import RootRef, touch_stat
from backend.catalog.walk import Stat, walk
from backend.db.models import LibraryRoot
from backend.messaging.contracts import FilesChanged, FilesDeleted, Payload, ScanRequested
from backend.services import Services

log = logging.getLogger(__name__)

PUBLISH_BATCH = (
    100  # paths per FilesChanged/FilesDeleted message: spreads work over catalog workers
)


@dataclass
class _Pending:
    root_id: int
    abs_path: str
    deleted: bool
    last_change: float  # monotonic time of the last event or observed change
    stat: Stat | None = None


def _stat(path: str) -> Stat | bool | None:
    """(size, mtime) of a file; True for a folder; None when gone."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    if os.path.isdir(path):
        return True
    return (st.st_size, st.st_mtime)


class Watcher:
    """Watches every active root until ``run``'s stop event is set."""

    def __init__(
        self,
        services: Services,
        *,
        roots_poll_s: float = 2.0,
        force_polling: bool | None = None,
        initial_scan: bool = True,
    ) -> None:
        self.services = services
        lib = services.settings.library
        self.settle_s = lib.settle_window_s
        self.debounce_ms = max(1, lib.debounce_ms)
        self.tick_s = 0.1 if self.settle_s < 1 else 0.25
        self.roots_poll_s = roots_poll_s
        self.force_polling = force_polling
        self.initial_scan = initial_scan
        self.ready = asyncio.Event()  # set once the OS watch is in place
        self._roots: dict[int, RootRef] = {}  # active roots (online or offline)
        self._watched: tuple[str, ...] = ()
        self._pending: dict[str, _Pending] = {}
        self._restart = asyncio.Event()
        self._stop = asyncio.Event()
        self._catch_up = False

    @property
    def watched(self) -> tuple[str, ...]:
        """The root folders under OS watch right now."""
        return self._watched if self.ready.is_set() else ()

    async def run(self, stop: asyncio.Event) -> None:
        """Watch until ``stop`` is set."""
        self._stop = stop
        await self._refresh_roots(startup=True)
        tasks = [asyncio.create_task(self._tick_loop()), asyncio.create_task(self._supervise())]
        try:
            first = True
            while not stop.is_set():
                self._restart = asyncio.Event()
                self.ready.clear()
                self._catch_up = not first
                first = False
                self._watched = tuple(
                    sorted(r.path for r in self._roots.values() if r.state == "online")
                )
                if not self._watched:
                    self.ready.set()
                    await self._restart.wait()
                    continue
                await self._watch(self._watched)
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def _watch(self, paths: tuple[str, ...]) -> None:
        from watchfiles import Change, awatch

        try:
            async for changes in awatch(
                *paths,
                stop_event=self._restart,
                debounce=self.debounce_ms,
                step=50,
                rust_timeout=500,
                yield_on_timeout=True,
                watch_filter=None,
                ignore_permission_denied=True,
                force_polling=self.force_polling,
            ):
                if not self.ready.is_set():
                    self.ready.set()
                    if self._catch_up:
                        # Changes made while the OS watch was being replaced were not seen:
                        # an incremental scan (one stat per known file) finds them.
                        self._catch_up = False
                        roots = [r.id for r in self._roots.values() if r.path in paths]
                        await enqueue(self.services, [ScanRequested(i) for i in roots])
                now = time.monotonic()
                for change, path in changes:
                    await self._note(path, change == Change.deleted, change == Change.added, now)
        except (OSError, RuntimeError) as exc:  # a root vanished under the OS watch
            log.warning("watch interrupted (%s); re-reading the roots", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._restart.wait(), self.roots_poll_s)
            await self._refresh_roots()

    def _root_of(self, path: str) -> RootRef | None:
        best: RootRef | None = None
        for root in self._roots.values():
            if (path == root.path or path.startswith(root.path.rstrip(os.sep) + os.sep)) and (
                best is None or len(root.path) > len(best.path)
            ):
                best = root
        return best

    async def _note(self, path: str, deleted: bool, added: bool, now: float) -> None:
        root = self._root_of(path)
        if root is None:
            return
        if path == root.path:
            if deleted:
                self._restart.set()  # the root itself went away: re-read roots now
            return
        rel = os.path.relpath(path, root.path)
        if any(part.startswith(".") for part in rel.split(os.sep)):
            return
        if added and not deleted and os.path.isdir(path):
            # A folder moved or copied in: its files are watched for stability like any other.
            listing = await asyncio.to_thread(walk, path)
            for stored in listing.files:
                inner = os.path.join(path, from_db(stored))
                self._pending[inner] = _Pending(root.id, inner, False, now)
            return
        if not is_candidate(os.path.basename(path)):
            return
        entry = self._pending.get(path)
        if entry is None or entry.root_id != root.id:
            self._pending[path] = _Pending(root.id, path, deleted, now)
        else:
            entry.deleted, entry.last_change = deleted, now

    async def _tick_loop(self) -> None:
        while True:
            await asyncio.sleep(self.tick_s)
            try:
                await self._tick()
            except Exception:  # keep watching even if one publish failed; entries stay pending
                log.exception("watcher tick failed")

    async def _tick(self) -> None:
        if not self._pending:
            return
        now, wall = time.monotonic(), time.time()
        debounce_s = self.debounce_ms / 1000.0
        entries = list(self._pending.values())
        stats = await asyncio.to_thread(lambda: [_stat(e.abs_path) for e in entries])
        changed: dict[int, list[str]] = {}
        deleted: dict[int, list[str]] = {}
        gone_roots: set[int] = set()
        for entry, st in zip(entries, stats, strict=True):
            root = self._roots.get(entry.root_id)
            if root is None:
                self._pending.pop(entry.abs_path, None)
                continue
            if st is None:
                if not entry.deleted:
                    entry.deleted, entry.last_change = True, now
                if now - entry.last_change < debounce_s:
                    continue
                if entry.root_id in gone_roots or not os.path.isdir(root.path):
                    gone_roots.add(entry.root_id)
                    self._pending.pop(entry.abs_path, None)
                    continue
                deleted.setdefault(entry.root_id, []).append(self._rel(root, entry.abs_path))
                self._pending.pop(entry.abs_path, None)
                continue
            if st is True:  # a folder where a file was: it is handled by its own events
                self._pending.pop(entry.abs_path, None)
                continue
            assert not isinstance(st, bool)
            if entry.deleted or entry.stat != st:
                if entry.stat is not None or entry.deleted:
                    entry.last_change = now  # it moved since we last looked: still being written
                entry.deleted, entry.stat = False, st
                if self.settle_s > 0:
                    continue
            # Stable: unchanged since the last look, and either watched for the settle window or last
            # written longer ago than that (mtime moves with every write; a file moved in from
            # elsewhere, or finished by `cp -p`/rsync, carries an old one).
            if now - entry.last_change < self.settle_s and wall - st[1] < self.settle_s:
                continue
            self._pending.pop(entry.abs_path, None)
            if await is_own_write(self.services.cache, entry.abs_path, st[0], st[1]):
                async with self.services.db.unit_of_work() as session:
                    await touch_stat(session, root.id, self._rel(root, entry.abs_path), *st)
                continue
            changed.setdefault(entry.root_id, []).append(self._rel(root, entry.abs_path))
        for root_id in gone_roots:
            await self._root_went_away(root_id)
        await self._publish(changed, deleted)

    @staticmethod
    def _rel(root: RootRef, path: str) -> str:
        return to_db(os.path.relpath(path, root.path))

    async def _publish(self, changed: dict[int, list[str]], deleted: dict[int, list[str]]) -> None:
        payloads: list[Payload] = []
        for root_id, paths in changed.items():
            for i in range(0, len(paths), PUBLISH_BATCH):
                payloads.append(FilesChanged(root_id, tuple(sorted(paths[i : i + PUBLISH_BATCH]))))
        for root_id, paths in deleted.items():
            for i in range(0, len(paths), PUBLISH_BATCH):
                payloads.append(FilesDeleted(root_id, tuple(sorted(paths[i : i + PUBLISH_BATCH]))))
        if payloads:
            await enqueue(self.services, payloads)

    async def _root_went_away(self, root_id: int) -> None:
        root = self._roots.get(root_id)
        if root is None:
            return
        problem = await asyncio.to_thread(root_problem, root.path) or "folder not found"
        await set_root_state(self.services, root_id, "offline", problem)
        self._roots[root_id] = RootRef(root.id, root.path, "offline")
        self._restart.set()

    async def _supervise(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.roots_poll_s)
            if self._stop.is_set():
                self._restart.set()
                return
            try:
                await self._refresh_roots()
            except Exception:  # the database may be down for a moment; try again next round
                log.exception("could not re-read the library roots")

    async def _refresh_roots(self, startup: bool = False) -> None:
        """Re-read active roots; roots that vanished go offline, roots that came back get a scan."""
        async with self.services.db.read() as session:
            rows = (await session.execute(select(LibraryRoot))).scalars().all()
        current = {r.id: RootRef.of(r) for r in rows if not r.paused}
        scans: list[Payload] = []
        for root_id, root in list(current.items()):
            problem = await asyncio.to_thread(root_problem, root.path)
            state = "offline" if problem else "online"
            if problem and root.state != "offline":
                await set_root_state(self.services, root_id, "offline", problem)
            before = self._roots.get(root_id)
            if state == "online" and (
                (startup and self.initial_scan) or (before is not None and before.state != "online")
            ):
                scans.append(ScanRequested(root_id))  # catch up on what happened unwatched
            current[root_id] = RootRef(root.id, root.path, state)
        self._roots = current
        if scans:
            await enqueue(self.services, scans)
        watched = tuple(sorted(r.path for r in current.values() if r.state == "online"))
        if watched != self._watched:
            self._restart.set()


async def watch(services: Services, stop: asyncio.Event) -> None:
    """Run the watcher until ``stop`` is set (``tracktion watch``, the app, the watcher process)."""
    await Watcher(services).run(stop)
