"""Watched folders (library roots) for the CLI and the desktop app: add, remove, list, pause, scan."""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select

from backend.api.commands import enqueue
from backend.catalog.scanner import Cataloguer, ProgressFn, ScanStats
from backend.db.models import LibraryRoot, Track
from backend.messaging.contracts import Payload, TracksRemoved
from backend.services import Services


class FolderError(ValueError):
    """A folder request that cannot be done; the message says why."""


@dataclass(frozen=True)
class RootInfo:
    """A root as the app and the CLI show it."""

    id: int
    path: str
    name: str
    state: str
    paused: bool
    tracks: int
    missing: int
    errors: int
    last_scan_at: str | None
    last_error: str | None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def normalise(path: str | os.PathLike[str]) -> str:
    """Absolute, normalised path (symlinks kept: a root may be a link to a drive that changes)."""
    return os.path.normpath(os.path.abspath(os.path.expanduser(os.fspath(path))))


def _contains(parent: str, child: str) -> bool:
    return child == parent or child.startswith(parent.rstrip(os.sep) + os.sep)


async def list_roots(services: Services) -> list[RootInfo]:
    """Every root with its track counts."""
    async with services.db.read() as session:
        roots = (await session.execute(select(LibraryRoot).order_by(LibraryRoot.path))).scalars()
        counts = await session.execute(
            select(Track.root_id, Track.status, func.count()).group_by(Track.root_id, Track.status)
        )
        by_root: dict[int, dict[str, int]] = {}
        for root_id, status, n in counts.all():
            by_root.setdefault(root_id, {})[status] = int(n)
        out = []
        for r in roots:
            c = by_root.get(r.id, {})
            out.append(
                RootInfo(
                    r.id,
                    r.path,
                    r.name,
                    r.state,
                    r.paused,
                    sum(c.values()),
                    c.get("missing", 0),
                    c.get("error", 0),
                    r.last_scan_at.isoformat() if r.last_scan_at else None,
                    r.last_error,
                )
            )
        return out


async def find_root(services: Services, path: str | os.PathLike[str]) -> LibraryRoot | None:
    """The root that is, or contains, ``path``."""
    target = normalise(path)
    async with services.db.read() as session:
        roots = (await session.execute(select(LibraryRoot))).scalars().all()
    best = [r for r in roots if _contains(r.path, target)]
    return max(best, key=lambda r: len(r.path)) if best else None


async def add_root(services: Services, path: str | os.PathLike[str]) -> LibraryRoot:
    """Watch a folder; returns the existing root if it is already one. Nested roots are refused."""
    target = normalise(path)
    if not os.path.isdir(target):
        raise FolderError(f"{target} is not a folder")
    async with services.db.unit_of_work() as session:
        roots = (await session.execute(select(LibraryRoot))).scalars().all()
        for root in roots:
            if root.path == target:
                return root
            if _contains(root.path, target):
                raise FolderError(f"{target} is already inside the watched folder {root.path}")
            if _contains(target, root.path):
                raise FolderError(
                    f"{target} contains the watched folder {root.path}; remove that one first"
                )
        root = LibraryRoot(path=target, name=os.path.basename(target) or target, state="online")
        session.add(root)
        await session.flush()
        return root


async def remove_root(services: Services, path: str | os.PathLike[str]) -> int:
    """Stop watching a folder and forget its tracks (files are not touched). Returns tracks removed."""
    target = normalise(path)
    async with services.db.unit_of_work() as session:
        root = (
            await session.execute(select(LibraryRoot).where(LibraryRoot.path == target))
        ).scalar_one_or_none()
        if root is None:
            raise FolderError(f"{target} is not a watched folder")
        ids = list(
            (await session.execute(select(Track.id).where(Track.root_id == root.id))).scalars()
        )
        await session.execute(delete(Track).where(Track.root_id == root.id))
        await session.delete(root)
    if ids:
        await enqueue(services, _removed(ids))
    return len(ids)


def _removed(ids: list[int]) -> list[Payload]:
    return [TracksRemoved(tuple(ids[i : i + 500])) for i in range(0, len(ids), 500)]


async def pause_root(services: Services, path: str | os.PathLike[str], paused: bool = True) -> None:
    """Pause (or resume) watching and scanning a folder; its tracks stay as they are."""
    target = normalise(path)
    async with services.db.unit_of_work() as session:
        root = (
            await session.execute(select(LibraryRoot).where(LibraryRoot.path == target))
        ).scalar_one_or_none()
        if root is None:
            raise FolderError(f"{target} is not a watched folder")
        root.paused = paused


async def purge_missing(services: Services, path: str | os.PathLike[str] | None = None) -> int:
    """Forget tracks marked missing (under one root, or everywhere). Returns how many."""
    query = select(Track.id).where(Track.status == "missing")
    if path is not None:
        root = await find_root(services, path)
        if root is None:
            raise FolderError(f"{normalise(path)} is not in a watched folder")
        query = query.where(Track.root_id == root.id)
    async with services.db.unit_of_work() as session:
        ids = list((await session.execute(query)).scalars())
        if ids:
            await session.execute(delete(Track).where(Track.id.in_(ids)))
    if ids:
        await enqueue(services, _removed(ids))
    return len(ids)


async def duplicates(services: Services) -> list[list[int]]:
    """Groups of live track ids that share an audio fingerprint (the same audio at several paths)."""
    async with services.db.read() as session:
        dup_fps = (
            select(Track.fingerprint)
            .where(Track.status == "ok", Track.fingerprint.is_not(None))
            .group_by(Track.fingerprint)
            .having(func.count() > 1)
        )
        rows = await session.execute(
            select(Track.fingerprint, Track.id)
            .where(Track.status == "ok", Track.fingerprint.in_(dup_fps))
            .order_by(Track.fingerprint, Track.id)
        )
        groups: dict[str, list[int]] = {}
        for fp, track_id in rows.all():
            groups.setdefault(fp or "", []).append(track_id)
    return list(groups.values())


async def scan(
    services: Services,
    paths: list[str] | None = None,
    *,
    full: bool = False,
    progress: ProgressFn | None = None,
    settle_s: float | None = None,
    correlation_id: str | None = None,
) -> tuple[ScanStats, str]:
    """Scan the given folders (added as roots when needed) or every unpaused root.

    Returns the summary and the correlation id of everything the scan set off (for ``wait_settled``).
    """
    correlation_id = correlation_id or str(uuid.uuid4())
    root_ids: list[int] = []
    if paths:
        for path in paths:
            root = await find_root(services, path) or await add_root(services, path)
            if root.id not in root_ids:
                root_ids.append(root.id)
    else:
        async with services.db.read() as session:
            rows = await session.execute(
                select(LibraryRoot.id).where(LibraryRoot.paused.is_(False)).order_by(LibraryRoot.id)
            )
            root_ids = list(rows.scalars())

    async def emit(payloads: list[Payload]) -> None:
        if payloads:
            await enqueue(services, payloads, correlation_id)

    started = time.monotonic()
    catalog = Cataloguer(services, emit, progress, settle_s)
    catalog.defer_gone = len(root_ids) > 1
    total = ScanStats()
    for root_id in root_ids:
        total.merge(await catalog.scan(root_id, full=full))
    await catalog.finish(total)
    total.seconds = time.monotonic() - started
    return total, correlation_id
