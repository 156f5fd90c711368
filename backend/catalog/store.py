"""The catalog's writes: turning read files into track rows, and what changed into batched events.

Identity rules (why a track keeps its id): a file at a known path is that path's track (its tags or audio
changed); a file at a new path whose fingerprint belongs to a missing track, or to a track whose file is
gone from disk, *is* that track, moved or relinked (id, analysis, cues, edits and graph links follow);
otherwise it is new — a duplicate when another live file has the same fingerprint.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from backend.catalog.paths import absolute
from backend.catalog.reader import Inspected
from backend.catalog.tags import TagRecord
from backend.db.models import LibraryRoot, Track, utcnow
from backend.messaging.contracts import (
    AnalysisRequested,
    Payload,
    TracksAdded,
    TracksMissing,
    TracksMoved,
    TracksRelinked,
    TracksRemoved,
    TracksUpdated,
)

EVENT_BATCH = 500  # track ids per event message
MAX_MOVE_CANDIDATES = 16
MOVE_WINDOW_S = 120.0  # a file missing for less than this that reappears elsewhere was moved  # stat at most this many same-fingerprint tracks when looking for a move


@dataclass
class Changes:
    """Track ids per kind of change, and the analysis to request; turned into messages by ``payloads``."""

    added: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    moved: list[int] = field(default_factory=list)
    relinked: list[int] = field(default_factory=list)
    missing: list[int] = field(default_factory=list)
    removed: list[int] = field(default_factory=list)
    errors: int = 0
    new_errors: int = 0  # of ``added``: rows created for unreadable files
    unchanged: int = 0
    pending: int = 0
    ignored: int = 0
    analysis: list[AnalysisRequested] = field(default_factory=list)

    def merge(self, other: Changes) -> None:
        for name in ("added", "updated", "moved", "relinked", "missing", "removed", "analysis"):
            getattr(self, name).extend(getattr(other, name))
        self.errors += other.errors
        self.new_errors += other.new_errors
        self.unchanged += other.unchanged
        self.pending += other.pending
        self.ignored += other.ignored

    def payloads(self) -> list[Payload]:
        """Batched track.* events followed by the analysis requests."""
        out: list[Payload] = []
        kinds: Sequence[tuple[type[Any], list[int]]] = (
            (TracksAdded, self.added),
            (TracksUpdated, self.updated),
            (TracksMoved, self.moved),
            (TracksRelinked, self.relinked),
            (TracksMissing, self.missing),
            (TracksRemoved, self.removed),
        )
        for cls, ids in kinds:
            for start in range(0, len(ids), EVENT_BATCH):
                out.append(cls(track_ids=tuple(ids[start : start + EVENT_BATCH])))
        out.extend(self.analysis)
        return out


@dataclass(frozen=True)
class RootRef:
    """The bits of a root the catalog needs, detached from any session."""

    id: int
    path: str
    state: str

    @staticmethod
    def of(root: LibraryRoot) -> RootRef:
        return RootRef(root.id, root.path, root.state)


def _apply_columns(track: Track, item: Inspected, mix_min_s: float) -> None:
    for name, value in (item.columns or {}).items():
        setattr(track, name, value)
    track.size, track.mtime, track.fingerprint = item.size, item.mtime, item.fingerprint
    track.status, track.last_error, track.missing_since = "ok", None, None
    track.is_mix = (track.duration_s or 0.0) >= mix_min_s


_COMPARED = ("fingerprint", "status", "title", "artist", "album", "album_artist", "genre", "date",
             "track_no", "disc_no", "bpm_tag", "key_tag", "comment", "label", "isrc", "compilation",
             "has_cover", "extra_tags", "duration_s", "codec", "format")  # fmt: skip


def _snapshot(track: Track) -> tuple[Any, ...]:
    return tuple(getattr(track, name) for name in _COMPARED)


def _analysis(track: Track, mix_min_s: float) -> AnalysisRequested:
    assert track.fingerprint is not None
    return AnalysisRequested(
        track_id=track.id,
        fingerprint=track.fingerprint,
        is_long=(track.duration_s or 0.0) >= mix_min_s,
    )


async def apply_batch(
    session: AsyncSession,
    root: RootRef,
    results: list[Inspected],
    mix_min_s: float,
    file_gone: Callable[[Track], bool],
) -> Changes:
    """Write one batch of read files under ``root``; ``file_gone(track)`` says if a track's file is gone."""
    ch = Changes()
    keys = [r.key for r in results]
    rows = await session.execute(
        select(Track).where(Track.root_id == root.id, Track.rel_path.in_(keys))
    )
    existing = {t.rel_path: t for t in rows.scalars()}
    fps = {r.fingerprint for r in results if r.fingerprint and r.key not in existing}
    by_fp: dict[str, list[Track]] = {}
    if fps:
        ids = [t.id for t in existing.values()]
        rows = await session.execute(
            select(Track).where(Track.fingerprint.in_(fps), Track.id.not_in(ids))
        )
        for t in rows.scalars():
            by_fp.setdefault(t.fingerprint or "", []).append(t)
    fresh: list[dict[str, Any]] = []
    for item in results:
        if item.ignored:
            ch.ignored += 1
            continue
        if item.unstable:
            ch.pending += 1
            continue
        track = existing.get(item.key)
        if item.error is not None:
            ch.errors += 1
            if track is None:
                fresh.append(_new_row(root.id, item, mix_min_s))
                ch.new_errors += 1
                continue
            if track.status != "error" or track.last_error != item.error:
                ch.updated.append(track.id)
            track.status, track.last_error = "error", item.error
            track.size, track.mtime = item.size, item.mtime
            continue
        if track is not None:
            old_fp, was_missing = track.fingerprint, track.status == "missing"
            before = _snapshot(track)
            _apply_columns(track, item, mix_min_s)
            if was_missing and old_fp == item.fingerprint:
                ch.relinked.append(track.id)
            elif _snapshot(track) != before:
                ch.updated.append(track.id)
            else:
                ch.unchanged += 1  # re-read (new mtime, or --full) but nothing we store changed
            if old_fp != item.fingerprint:
                ch.analysis.append(_analysis(track, mix_min_s))
            continue
        match = _find_moved(by_fp.get(item.fingerprint or "", []), file_gone)
        if match is not None:
            by_fp[item.fingerprint or ""].remove(match)
            relinked = match.status == "missing" and not _recently(match.missing_since)
            match.root_id, match.rel_path = root.id, item.key
            _apply_columns(match, item, mix_min_s)
            (ch.relinked if relinked else ch.moved).append(match.id)
            continue
        fresh.append(_new_row(root.id, item, mix_min_s))
    if fresh:
        # One multi-row INSERT … RETURNING: the ORM's per-attribute bookkeeping for thousands of new
        # rows would cost more than reading the files did.
        # (Plain executemany, then ids by path: RETURNING in parameter order is row-at-a-time on SQLite.)
        await session.flush()
        await session.execute(insert(Track), fresh)
        found = await session.execute(
            select(Track.rel_path, Track.id).where(
                Track.root_id == root.id, Track.rel_path.in_([r["rel_path"] for r in fresh])
            )
        )
        new_ids: dict[str, int] = {path: track_id for path, track_id in found.all()}
        for row in fresh:
            track_id = new_ids[row["rel_path"]]
            ch.added.append(track_id)
            if row["status"] == "ok":
                ch.analysis.append(
                    AnalysisRequested(
                        track_id=track_id,
                        fingerprint=row["fingerprint"],
                        is_long=(row["duration_s"] or 0.0) >= mix_min_s,
                    )
                )
    return ch


_RECORD_DEFAULTS: dict[str, Any] = TagRecord(format="").columns() | {"format": None}


def _new_row(root_id: int, item: Inspected, mix_min_s: float) -> dict[str, Any]:
    """Column values of a new track (every row has every key: one executemany statement)."""
    row = dict(_RECORD_DEFAULTS)
    row["extra_tags"] = {}
    row.update(item.columns or {})
    row.update(
        root_id=root_id,
        rel_path=item.key,
        size=item.size,
        mtime=item.mtime,
        fingerprint=item.fingerprint,
        status="ok" if item.error is None else "error",
        last_error=item.error,
        is_mix=(row["duration_s"] or 0.0) >= mix_min_s,
    )
    return row


def _recently(when: dt.datetime | None) -> bool:
    """Missing for less than MOVE_WINDOW_S: the watcher saw the delete before the create of a move."""
    if when is None:
        return False
    if when.tzinfo is None:  # SQLite hands back naive UTC
        when = when.replace(tzinfo=dt.UTC)
    return (utcnow() - when).total_seconds() < MOVE_WINDOW_S


def _find_moved(candidates: list[Track], file_gone: Callable[[Track], bool]) -> Track | None:
    """A same-fingerprint track that lost its file: missing ones first, then live ones gone from disk."""
    for track in candidates:
        if track.status == "missing":
            return track
    for track in candidates[:MAX_MOVE_CANDIDATES]:
        if track.status != "missing" and file_gone(track):
            return track
    return None


def stat_gone(roots: dict[int, RootRef]) -> Callable[[Track], bool]:
    """``file_gone`` by one ``stat``; tracks of offline or unknown roots are never considered gone."""

    def gone(track: Track) -> bool:
        root = roots.get(track.root_id)
        if root is None or root.state != "online":
            return False
        return not os.path.exists(absolute(root.path, track.rel_path))

    return gone


async def mark_gone(
    session: AsyncSession, root_id: int, paths: Sequence[str], folders: Sequence[str] = ()
) -> Changes:
    """Tracks at ``paths`` (or under ``folders``) whose file is gone: marked missing, history kept.

    Rows that never were readable audio (status error) are deleted instead: there is nothing to keep.
    """
    ch = Changes()
    conditions: list[ColumnElement[bool]] = []
    for start in range(0, len(paths), EVENT_BATCH):
        conditions.append(Track.rel_path.in_(list(paths[start : start + EVENT_BATCH])))
    for folder in folders:
        conditions.append(Track.rel_path.startswith(folder.rstrip("/") + "/", autoescape=True))
    for condition in conditions:
        rows = await session.execute(
            select(Track.id, Track.status).where(
                Track.root_id == root_id, condition, Track.status != "missing"
            )
        )
        broken: list[int] = []
        for track_id, status in rows.all():
            (broken if status == "error" else ch.missing).append(track_id)
        if broken:
            await session.execute(delete(Track).where(Track.id.in_(broken)))
            ch.removed.extend(broken)
    for start in range(0, len(ch.missing), EVENT_BATCH):
        await session.execute(
            update(Track)
            .where(Track.id.in_(ch.missing[start : start + EVENT_BATCH]))
            .values(status="missing", missing_since=utcnow())
        )
    return ch


async def known_files(session: AsyncSession, root_id: int) -> dict[str, tuple[int, float, str]]:
    """Every track path of a root with (size, mtime, status): the incremental scan's baseline."""
    rows = await session.execute(
        select(Track.rel_path, Track.size, Track.mtime, Track.status).where(
            Track.root_id == root_id
        )
    )
    return {path: (size, mtime, status) for path, size, mtime, status in rows.all()}


async def touch_stat(
    session: AsyncSession, root_id: int, rel_path: str, size: int, mtime: float
) -> bool:
    """Record a new size/mtime without reading the file (Tracktion's own tag write); True if found."""
    result = await session.execute(
        update(Track)
        .where(Track.root_id == root_id, Track.rel_path == rel_path)
        .values(size=size, mtime=mtime)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
