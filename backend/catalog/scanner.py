"""Scanning roots and cataloguing changed paths: walk → decide what to read → read in parallel → write.

An unchanged file (same size and mtime as stored) costs one ``stat``. Reading runs on every core
(``reader``); writes go in batches, each batch's events are emitted once it has committed. A root that is
missing, unreadable, or suddenly empty while tracks are known under it goes *offline*: nothing under it is
marked missing. Callers choose what ``emit`` does: ``enqueue`` (CLI / app) or ``ctx.publish`` (handler).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Awaitable, Callable, Iterable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.catalog.paths import absolute, from_db
from backend.catalog.reader import Inspected, processes, read_files, start_readers
from backend.catalog.store import (
    Changes,
    FileGone,
    RootRef,
    apply_batch,
    known_files,
    mark_gone,
    stat_gone,
)
from backend.catalog.walk import Listing, Stat, stat_paths, walk
from backend.db.models import LibraryRoot, Track, utcnow
from backend.messaging.contracts import Payload
from backend.services import Services

WRITE_BATCH = 500  # tracks per transaction: writing overlaps reading; fewer commits, messages, hops
LOCK_TTL_S = 300.0
STATISTICS_AFTER = 1000  # files to read from which the planner is told of the growth

Emit = Callable[[list[Payload]], Awaitable[None]]
Transaction = Callable[[], AbstractAsyncContextManager[AsyncSession]]


@dataclass(frozen=True)
class ScanProgress:
    """Where a scan is: ``phase`` is walk, read or write; ``done``/``total`` count files of that root."""

    root: str
    phase: str
    done: int
    total: int


ProgressFn = Callable[[ScanProgress], None]
Checkpoint = Callable[[float], Awaitable[None]]


@dataclass
class ScanStats:
    """The outcome of a scan (the CLI's summary and ``--json``)."""

    roots: int = 0
    files_seen: int = 0
    added: int = 0
    updated: int = 0
    moved: int = 0
    relinked: int = 0
    removed: int = 0  # marked missing (or error rows dropped) because the file is gone
    errors: int = 0
    unchanged: int = 0
    pending: int = 0  # still being written; the watcher or the next scan reads them
    offline: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, ch: Changes) -> None:
        self.added += len(ch.added) - ch.new_errors
        self.updated += len(ch.updated)
        self.moved += len(ch.moved)
        self.relinked += len(ch.relinked)
        self.removed += len(ch.missing) + len(ch.removed)
        self.errors += ch.errors
        self.pending += ch.pending
        self.unchanged += ch.unchanged
        self.files_seen -= ch.ignored

    def merge(self, other: ScanStats) -> None:
        for name in ("roots", "files_seen", "added", "updated", "moved", "relinked", "removed",
                     "errors", "unchanged", "pending"):  # fmt: skip
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.offline.extend(other.offline)

    def as_json(self) -> dict[str, Any]:
        """The summary with exactly the keys of ``tracktion scan --json`` (relinks count as moves)."""
        return {
            "roots": self.roots,
            "files_seen": self.files_seen,
            "added": self.added,
            "updated": self.updated,
            "moved": self.moved + self.relinked,
            "removed": self.removed,
            "errors": self.errors,
            "seconds": round(self.seconds, 3),
        }


def compare(
    listing: Listing, known: dict[str, tuple[int, float, str]], full: bool
) -> tuple[dict[str, Stat], set[str]]:
    """What a scan must read (new, changed, reappeared, or all if ``full``) and which live tracks'
    files are gone (not under a folder that could not be listed: those may still be there)."""
    blocked = [d.rstrip("/") + "/" for d in listing.unreadable_dirs]
    gone = {
        p
        for p, (_s, _m, status) in known.items()
        if status != "missing"
        and p not in listing.files
        and not any(p.startswith(b) or not b[:-1] for b in blocked)
    }
    to_read: dict[str, Stat] = {}
    for path, stat in listing.files.items():
        k = known.get(path)
        if full or k is None or (k[0], k[1]) != stat or k[2] == "missing":
            to_read[path] = stat
    return to_read, gone


def root_problem(path: str) -> str | None:
    """Why a root cannot be scanned right now (None when it can): the reason shown for an offline root."""
    if not os.path.exists(path):
        return "folder not found (drive unmounted, or the folder was moved or deleted)"
    if not os.path.isdir(path):
        return "not a folder"
    try:
        with os.scandir(path) as it:
            next(it, None)
    except PermissionError:
        return "permission denied: Tracktion cannot read this folder"
    except OSError as exc:
        return f"cannot read this folder: {exc.strerror or exc}"
    return None


async def load_roots(services: Services) -> dict[int, RootRef]:
    async with services.db.read() as session:
        rows = await session.execute(select(LibraryRoot))
        return {r.id: RootRef.of(r) for r in rows.scalars()}


async def set_root_state(
    services: Services, root_id: int, state: str, error: str | None, scanned: bool = False
) -> None:
    async with services.db.unit_of_work() as session:
        root = await session.get(LibraryRoot, root_id)
        if root is None:
            return
        root.state, root.last_error = state, error
        if scanned:
            root.last_scan_at = utcnow()


class Cataloguer:
    """One catalog operation's context: the services, where events go, progress, and the settle window."""

    def __init__(
        self,
        services: Services,
        emit: Emit,
        progress: ProgressFn | None = None,
        settle_s: float | None = None,
        transaction: Transaction | None = None,
        checkpoint: Checkpoint | None = None,
    ) -> None:
        self.services = services
        self.emit = emit
        # A handler passes ctx.transaction: its follow-ups are then recorded in the same commit as the
        # change they announce (exactly once). Otherwise events go out after each commit.
        self.transaction: Transaction = transaction or services.db.unit_of_work
        self.emit_inside = transaction is not None
        self.progress = progress
        # Awaited after each committed batch with the fraction of the files to read that are written:
        # a worker's job reports its progress there (and stops there when the user cancelled it).
        self.checkpoint = checkpoint
        lib = services.settings.library
        self.settle_s = lib.settle_window_s if settle_s is None else settle_s
        self.mix_min_s = lib.mix_min_duration_s
        self.n_processes = processes(lib.scan_processes)
        # Several roots in one scan: a file moved from a root scanned first to one scanned later must
        # not be marked missing on the way, so marking waits for ``finish``.
        self.defer_gone = False
        self._deferred: list[tuple[RootRef, list[str]]] = []
        # Events of committed batches go out from one background task, in order, so publishing
        # (a broker round trip per message in services mode) overlaps reading the next files.
        self._outgoing: asyncio.Queue[list[Payload]] = asyncio.Queue()
        self._sender: asyncio.Task[None] | None = None
        self._send_error: BaseException | None = None

    def _post(self, payloads: list[Payload]) -> None:
        if not payloads:
            return
        self._outgoing.put_nowait(payloads)
        if self._sender is None or self._sender.done():
            self._sender = asyncio.create_task(self._send_loop())

    async def _send_loop(self) -> None:
        while not self._outgoing.empty():
            payloads = self._outgoing.get_nowait()
            try:
                if self._send_error is None:
                    await self.emit(payloads)
            except Exception as exc:  # surfaced by flush(); later batches are not sent after it
                self._send_error = exc
            finally:
                self._outgoing.task_done()

    async def flush(self) -> None:
        """Wait until every event posted so far is published; raises if publishing failed."""
        if self._sender is not None:
            await self._sender
        if self._send_error is not None:
            error, self._send_error = self._send_error, None
            raise error

    def _report(self, root: RootRef, phase: str, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(ScanProgress(root.path, phase, done, total))

    async def _root(self, root_id: int) -> RootRef | None:
        async with self.services.db.read() as session:
            root = await session.get(LibraryRoot, root_id)
            return RootRef.of(root) if root is not None else None

    async def _check_online(self, root: RootRef, stats: ScanStats) -> RootRef | None:
        problem = await asyncio.to_thread(root_problem, root.path)
        if problem is not None:
            await set_root_state(self.services, root.id, "offline", problem)
            stats.offline.append(root.path)
            return None
        if root.state != "online":
            await set_root_state(self.services, root.id, "online", None)
        return RootRef(root.id, root.path, "online")

    async def scan(self, root_id: int, *, full: bool = False) -> ScanStats:
        """Bring one root's tracks in step with its folder (incremental unless ``full``)."""
        started = time.monotonic()
        stats = ScanStats(roots=1)
        ref = await self._root(root_id)
        if ref is None or (root := await self._check_online(ref, stats)) is None:
            stats.seconds = time.monotonic() - started
            return stats
        self._report(root, "walk", 0, 0)
        # Off the loop: a library of 100k tracks is 100k rows and 100k stats. One thread, one after
        # the other: side by side, the query's row fetches and the walk's stats (each lets go of the
        # GIL for a moment) wait on each other and take longer than both in a row.
        listing, known, (to_read, gone) = await asyncio.to_thread(
            self._walk_and_compare, root, full
        )
        if (
            not listing.files
            and not listing.unreadable_dirs
            and any(status != "missing" for _s, _m, status in known.values())
        ):
            # A mount point with nothing under it: an unplugged drive, not thousands of deletions.
            reason = "folder is empty although tracks are known in it (drive not mounted?)"
            await set_root_state(self.services, root.id, "offline", reason)
            stats.offline.append(root.path)
            stats.seconds = time.monotonic() - started
            return stats
        stats.files_seen = len(listing.files)
        stats.unchanged = len(listing.files) - len(to_read)
        roots = await load_roots(self.services)
        roots[root.id] = root
        fallback = stat_gone(roots)

        def file_gone(root_id: int, rel_path: str) -> bool:
            if root_id == root.id:
                return rel_path in gone
            return fallback(root_id, rel_path)

        await self._read_settled(root, to_read, stats, file_gone)
        if self.defer_gone:
            self._deferred.append((root, sorted(gone)))
        else:
            await self._mark_gone(root, sorted(gone), stats)
        error = None
        if listing.unreadable_dirs:
            names = ", ".join(listing.unreadable_dirs[:5]) or "(root)"
            error = f"{len(listing.unreadable_dirs)} folder(s) could not be read: {names}"
            stats.errors += len(listing.unreadable_dirs)
        await set_root_state(self.services, root.id, "online", error, scanned=True)
        await self.flush()
        stats.seconds = time.monotonic() - started
        return stats

    async def finish(self, stats: ScanStats) -> None:
        """Mark what is still gone after every root of a multi-root scan was read (see ``defer_gone``)."""
        deferred, self._deferred = self._deferred, []
        for root, gone in deferred:
            await self._mark_gone(root, gone, stats)
        await self.flush()

    async def _mark_gone(self, root: RootRef, gone: list[str], stats: ScanStats) -> None:
        if not gone:
            return  # the usual re-scan: no write transaction for nothing
        await self._commit(stats, mark_gone, root.id, gone)  # moved tracks no longer match

    async def _commit(
        self, stats: ScanStats, change: Callable[..., Changes], *args: Any, lock: int | None = None
    ) -> Changes:
        """Run ``change(conn, *args)`` in one transaction, then account for it and announce it.

        A handler's exact transaction runs it inside its session (so its events commit with it);
        otherwise it runs in a worker thread on a connection of its own: building and writing
        hundreds of rows is CPU work that must not stall the event loop (the app's, in embedded
        mode). ``lock``: the root whose writers must take turns (scan, watcher-driven handlers).
        """
        async with contextlib.AsyncExitStack() as stack:
            if lock is not None:
                await stack.enter_async_context(
                    self.services.cache.lock(f"catalog:root:{lock}", ttl_s=LOCK_TTL_S, wait_s=600)
                )
            if self.emit_inside:
                async with self.transaction() as session:
                    ch = await session.run_sync(lambda sync: change(sync.connection(), *args))
                    await self.emit(ch.payloads())
            else:
                ch = await asyncio.to_thread(self._commit_in_thread, change, *args)
        stats.add(ch)
        if not self.emit_inside:
            self._post(ch.payloads())
        return ch

    def _walk_and_compare(
        self, root: RootRef, full: bool
    ) -> tuple[Listing, dict[str, tuple[int, float, str]], tuple[dict[str, Stat], set[str]]]:
        """The folder's files, the stored ones, and what to read / what is gone (see ``compare``)."""
        with self.services.db.read_in_thread() as conn:
            known = known_files(conn, root.id)
        if not known:  # a first scan: the readers get ready while the folder is walked
            start_readers(self.n_processes)
        listing = walk(root.path)
        return listing, known, compare(listing, known, full)

    def _commit_in_thread(self, change: Callable[..., Changes], *args: Any) -> Changes:
        with self.services.db.unit_of_work_in_thread() as conn:
            return change(conn, *args)

    async def _read_settled(
        self,
        root: RootRef,
        files: dict[str, Stat],
        stats: ScanStats,
        file_gone: FileGone,
    ) -> None:
        """Read files whose mtime is older than the settle window now, younger ones once they settle."""
        now = time.time()
        young = {p: s for p, s in files.items() if 0 <= now - s[1] < self.settle_s}
        ready = [p for p in files if p not in young]
        await self._read_and_apply(root, ready, stats, file_gone)
        if not young:
            return
        # A file whose mtime has not moved for the settle window is not being written any more.
        newest = max(s[1] for s in young.values())
        await asyncio.sleep(max(0.0, newest + self.settle_s - time.time()))
        current, _folders, _gone = await asyncio.to_thread(stat_paths, root.path, list(young))
        settled = [p for p, s in current.items() if young.get(p) == s]
        stats.pending += len(young) - len(settled)
        await self._read_and_apply(root, settled, stats, file_gone)

    async def _read_and_apply(
        self,
        root: RootRef,
        keys: list[str],
        stats: ScanStats,
        file_gone: FileGone,
    ) -> None:
        if not keys:
            return
        items = [(k, absolute(root.path, k)) for k in sorted(keys)]
        done = 0

        def on_done(n: int) -> None:
            nonlocal done
            done += n
            self._report(root, "read", done, len(items))

        buffer: list[Inspected] = []
        written = 0
        async for chunk in read_files(items, self.n_processes, on_done):
            buffer.extend(chunk)
            if len(buffer) >= WRITE_BATCH:
                await self._write(root, buffer, stats, file_gone)
                if not written and len(items) >= STATISTICS_AFTER:
                    # Many rows to come: plan the following batches' look-ups for a big table.
                    await asyncio.to_thread(self.services.db.refresh_statistics, "tracks")
                written += len(buffer)
                buffer = []
                if self.checkpoint is not None:
                    await self.checkpoint(written / len(items))
        if buffer:
            await self._write(root, buffer, stats, file_gone)

    async def _write(
        self,
        root: RootRef,
        batch: list[Inspected],
        stats: ScanStats,
        file_gone: FileGone,
    ) -> None:
        # One writer per root at a time, across processes (scan, watcher-driven handlers).
        await self._commit(stats, apply_batch, root, batch, self.mix_min_s, file_gone, lock=root.id)
        self._report(root, "write", len(batch), len(batch))

    async def changed(self, root_id: int, rel_paths: Iterable[str]) -> ScanStats:
        """Catalog paths reported as created or modified (files, or folders moved in)."""
        started = time.monotonic()
        stats = ScanStats(roots=1)
        ref = await self._root(root_id)
        if ref is None or (root := await self._check_online(ref, stats)) is None:
            return stats
        files, folders, gone = await asyncio.to_thread(stat_paths, root.path, list(rel_paths))
        for folder in folders:
            listing = await asyncio.to_thread(walk, root.path, from_db(folder))
            files.update(listing.files)
        stats.files_seen = len(files)
        to_read = await self._changed_only(root.id, files)
        stats.unchanged = len(files) - len(to_read)
        file_gone = stat_gone(await load_roots(self.services))
        await self._read_settled(root, to_read, stats, file_gone)
        if gone:
            await self._gone(root, gone, stats)
        await self.flush()
        stats.seconds = time.monotonic() - started
        return stats

    async def deleted(self, root_id: int, rel_paths: Iterable[str]) -> ScanStats:
        """Catalog paths reported as deleted (files or whole folders); those back on disk are re-read."""
        stats = ScanStats(roots=1)
        ref = await self._root(root_id)
        if ref is None or (root := await self._check_online(ref, stats)) is None:
            return stats  # a vanished root goes offline: nothing under it is marked missing
        files, folders, gone = await asyncio.to_thread(stat_paths, root.path, list(rel_paths))
        if gone:
            await self._gone(root, gone, stats)
        if files or folders:  # renamed back, or re-created since the event
            stats.merge(await self.changed(root_id, [*files, *folders]))
        await self.flush()
        return stats

    async def _gone(self, root: RootRef, gone: list[str], stats: ScanStats) -> None:
        async with self.services.db.read() as session:
            rows = await session.execute(
                select(Track.rel_path).where(Track.root_id == root.id, Track.rel_path.in_(gone))
            )
            tracks = {p for (p,) in rows.all()}
        folders = [p for p in gone if p not in tracks]  # not a track: maybe a folder that held some
        await self._commit(stats, mark_gone, root.id, sorted(tracks), folders, lock=root.id)

    async def _changed_only(self, root_id: int, files: dict[str, Stat]) -> dict[str, Stat]:
        """The files whose size/mtime differ from the stored ones (or that are new or were missing)."""
        keys = list(files)
        known: dict[str, tuple[int, float, str]] = {}
        async with self.services.db.read() as session:
            for start in range(0, len(keys), WRITE_BATCH):
                rows = await session.execute(
                    select(Track.rel_path, Track.size, Track.mtime, Track.status).where(
                        Track.root_id == root_id,
                        Track.rel_path.in_(keys[start : start + WRITE_BATCH]),
                    )
                )
                known.update({p: (s, m, st) for p, s, m, st in rows.all()})
        out: dict[str, Stat] = {}
        for path, stat in files.items():
            k = known.get(path)
            if k is None or (k[0], k[1]) != stat or k[2] == "missing":
                out[path] = stat
        return out
