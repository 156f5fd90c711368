"""The catalog's writes: turning read files into track rows, and what changed into batched events.

Identity rules (why a track keeps its id): a file at a known path is that path's track (its tags or audio
changed); a file at a new path whose fingerprint belongs to a missing track, or to a track whose file is
gone from disk, *is* that track, moved or relinked (id, analysis, cues, edits and graph links follow);
otherwise it is new — a duplicate when another live file has the same fingerprint.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ARRAY,
    Connection,
    RowMapping,
    Select,
    Table,
    all_,
    any_,
    bindparam,
    delete,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from backend.catalog.paths import absolute
from backend.catalog.reader import Inspected
from backend.catalog.tags import TagRecord
from backend.db.bulk import insert_many
from backend.db.models import LibraryRoot, Track, utcnow
from backend.messaging.contracts import (
    AnalysisBatch,
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
MOVE_WINDOW_S = 120.0  # a file missing for less than this that reappears elsewhere was moved

tracks: Table = Track.__table__  # type: ignore[assignment]


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
        """Batched track.* events followed by the analysis to request, batched too (``AnalysisBatch``)."""
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
        for start in range(0, len(self.analysis), EVENT_BATCH):
            out.append(analysis_batch(self.analysis[start : start + EVENT_BATCH]))
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


_COMPARED = ("fingerprint", "status", "title", "artist", "album", "album_artist", "genre", "date",
             "track_no", "disc_no", "bpm_tag", "key_tag", "comment", "label", "isrc", "compilation",
             "has_cover", "extra_tags", "duration_s", "codec", "format")  # fmt: skip
# What a batch needs to know about a stored track: identity, what `_COMPARED` compares, move rules.
_KNOWN = (tracks.c.id, tracks.c.root_id, tracks.c.rel_path, tracks.c.last_error,
          tracks.c.missing_since, *(tracks.c[name] for name in _COMPARED))  # fmt: skip

_UPDATE_BY_ID = update(tracks).where(tracks.c.id == bindparam("b_id"))
_MOVE_COLUMNS = (tracks.c.id, tracks.c.root_id, tracks.c.rel_path, tracks.c.status,
                 tracks.c.missing_since, tracks.c.fingerprint)  # fmt: skip


@dataclass(frozen=True)
class _Lookups:
    """A batch's look-ups, built once per database kind with their lists bound at execution: building
    an IN clause of 500 literals per batch costs more than running it. PostgreSQL gets one array
    parameter (``= ANY``); elsewhere the list expands into one parameter per item."""

    stored_at: Select[Any]  # stored rows of a root at these paths
    ids_at: Select[Any]  # ids of a root's rows at these paths
    move_candidates: Select[Any]  # rows with these fingerprints, but for these ids


@lru_cache(maxsize=4)
def _lookups(dialect: str) -> _Lookups:
    def among(column: ColumnElement[Any], name: str) -> ColumnElement[bool]:
        if dialect == "postgresql":
            return column == any_(bindparam(name, type_=ARRAY(column.type)))
        return column.in_(bindparam(name, expanding=True))

    def outside(column: ColumnElement[Any], name: str) -> ColumnElement[bool]:
        if dialect == "postgresql":
            return column != all_(bindparam(name, type_=ARRAY(column.type)))
        return column.not_in(bindparam(name, expanding=True))

    at_paths = (tracks.c.root_id == bindparam("root_id"), among(tracks.c.rel_path, "paths"))
    return _Lookups(
        stored_at=select(*_KNOWN).where(*at_paths),
        ids_at=select(tracks.c.rel_path, tracks.c.id).where(*at_paths),
        move_candidates=select(*_MOVE_COLUMNS).where(
            among(tracks.c.fingerprint, "fps"), outside(tracks.c.id, "exclude")
        ),
    )


FileGone = Callable[
    [int, str], bool
]  # (root id, stored path) → is that track's file gone from disk?


def _read_values(item: Inspected, mix_min_s: float) -> dict[str, Any]:
    """Column values of a successfully read file (every key, so one executemany covers a batch)."""
    row = dict(_RECORD_DEFAULTS)
    row["extra_tags"] = {}
    row.update(item.columns or {})
    row.update(
        size=item.size,
        mtime=item.mtime,
        fingerprint=item.fingerprint,
        status="ok",
        last_error=None,
        missing_since=None,
        is_mix=(row["duration_s"] or 0.0) >= mix_min_s,
    )
    return row


def analysis_batch(requests: Sequence[AnalysisRequested]) -> AnalysisBatch:
    return AnalysisBatch(
        track_ids=tuple(r.track_id for r in requests),
        fingerprints=tuple(r.fingerprint for r in requests),
        long_ids=tuple(r.track_id for r in requests if r.is_long),
    )


def _analysis(track_id: int, values: Mapping[str, Any], mix_min_s: float) -> AnalysisRequested:
    return AnalysisRequested(
        track_id=track_id,
        fingerprint=values["fingerprint"],
        is_long=(values["duration_s"] or 0.0) >= mix_min_s,
    )


def apply_batch(
    conn: Connection,
    root: RootRef,
    results: list[Inspected],
    mix_min_s: float,
    file_gone: FileGone,
) -> Changes:
    """Write one batch of read files under ``root``; ``file_gone`` says if a track's file is gone.

    Core statements on a plain connection (a SELECT of the stored rows, one executemany per kind of
    write): the ORM's per-object bookkeeping for a few hundred rows costs as much as reading the files.
    Synchronous, so a scan runs it in a worker thread, off the event loop (``Database.unit_of_work_in_
    thread``), and a handler inside its own transaction (``AsyncSession.run_sync``).
    """
    ch = Changes()
    keys = [r.key for r in results]
    lookups = _lookups(conn.dialect.name)
    rows = conn.execute(lookups.stored_at, {"root_id": root.id, "paths": keys})
    existing = {r.rel_path: r for r in rows.mappings()}
    fps = {r.fingerprint for r in results if r.fingerprint and r.key not in existing}
    moves = _MoveCandidates(conn, fps, [t["id"] for t in existing.values()], file_gone)
    fresh: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []  # stored tracks re-read, moved or relinked: every column
    broken: list[dict[str, Any]] = []  # stored tracks that became unreadable: status and stat only
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
                fresh.append(_error_row(root.id, item))
                ch.new_errors += 1
                continue
            if track["status"] != "error" or track["last_error"] != item.error:
                ch.updated.append(track["id"])
            broken.append({"b_id": track["id"], "status": "error", "last_error": item.error,
                           "size": item.size, "mtime": item.mtime})  # fmt: skip
            continue
        values = _read_values(item, mix_min_s)
        if track is not None:
            if track["status"] == "missing" and track["fingerprint"] == item.fingerprint:
                ch.relinked.append(track["id"])
            elif any(values[name] != track[name] for name in _COMPARED):
                ch.updated.append(track["id"])
            else:
                ch.unchanged += 1  # re-read (new mtime, or --full) but nothing we store changed
            if track["fingerprint"] != item.fingerprint:
                ch.analysis.append(_analysis(track["id"], values, mix_min_s))
            changed.append(values | {"b_id": track["id"], "root_id": root.id, "rel_path": item.key})
            continue
        match = moves.take(item.fingerprint or "")
        if match is not None:
            relinked = match["status"] == "missing" and not _recently(match["missing_since"])
            changed.append(values | {"b_id": match["id"], "root_id": root.id, "rel_path": item.key})
            (ch.relinked if relinked else ch.moved).append(match["id"])
            continue
        fresh.append(values | {"root_id": root.id, "rel_path": item.key})
    for params in (changed, broken):
        if params:  # executemany: the SET clause is the parameters' keys (the same in each list)
            conn.execute(_UPDATE_BY_ID, params)
    if fresh:
        # One bulk insert (executemany, or COPY on PostgreSQL), then the ids by path: COPY returns
        # nothing, and RETURNING in parameter order is row-at-a-time on SQLite.
        insert_many(conn, tracks, fresh)
        paths = [r["rel_path"] for r in fresh]
        found = conn.execute(lookups.ids_at, {"root_id": root.id, "paths": paths})
        new_ids: dict[str, int] = {path: track_id for path, track_id in found.all()}
        for row in fresh:
            track_id = new_ids[row["rel_path"]]
            ch.added.append(track_id)
            if row["status"] == "ok":
                ch.analysis.append(_analysis(track_id, row, mix_min_s))
    return ch


_RECORD_DEFAULTS: dict[str, Any] = TagRecord(format="").columns() | {"format": None}


def _error_row(root_id: int, item: Inspected) -> dict[str, Any]:
    """A new track for a file that could not be read: the reason is shown to the user."""
    row = dict(_RECORD_DEFAULTS)
    row.update(
        extra_tags={},
        root_id=root_id,
        rel_path=item.key,
        size=item.size,
        mtime=item.mtime,
        fingerprint=item.fingerprint,
        status="error",
        last_error=item.error,
        missing_since=None,
        is_mix=False,
    )
    return row


def _recently(when: dt.datetime | None) -> bool:
    """Missing for less than MOVE_WINDOW_S: the watcher saw the delete before the create of a move."""
    if when is None:
        return False
    if when.tzinfo is None:  # SQLite hands back naive UTC
        when = when.replace(tzinfo=dt.UTC)
    return (utcnow() - when).total_seconds() < MOVE_WINDOW_S


class _MoveCandidates:
    """Stored tracks that a new file with the same fingerprint may be (moved or relinked).

    Missing tracks first, then live ones whose file is gone from disk. Each live candidate is asked
    once per batch: one that still has its file is dropped for the rest of the batch, so a folder of
    identical copies does not make every new copy look at, and stat, every earlier one.
    """

    def __init__(
        self, conn: Connection, fps: set[str], exclude: list[int], file_gone: FileGone
    ) -> None:
        self.missing: dict[str, list[RowMapping]] = {}
        self.live: dict[str, list[RowMapping]] = {}
        self._file_gone = file_gone
        if not fps:
            return
        query = _lookups(conn.dialect.name).move_candidates
        rows = conn.execute(query, {"fps": list(fps), "exclude": exclude})
        for t in rows.mappings():
            group = self.missing if t["status"] == "missing" else self.live
            group.setdefault(t["fingerprint"], []).append(t)

    def take(self, fingerprint: str) -> RowMapping | None:
        """The track a new file with ``fingerprint`` is, if any (it is not offered again)."""
        missing = self.missing.get(fingerprint)
        if missing:
            return missing.pop()
        live = self.live.get(fingerprint)
        while live:
            track = live.pop()
            if self._file_gone(track["root_id"], track["rel_path"]):
                return track
        return None


def stat_gone(roots: dict[int, RootRef]) -> FileGone:
    """``file_gone`` by one ``stat``; tracks of offline or unknown roots are never considered gone."""

    def gone(root_id: int, rel_path: str) -> bool:
        root = roots.get(root_id)
        if root is None or root.state != "online":
            return False
        return not os.path.exists(absolute(root.path, rel_path))

    return gone


def mark_gone(
    conn: Connection, root_id: int, paths: Sequence[str], folders: Sequence[str] = ()
) -> Changes:
    """Tracks at ``paths`` (or under ``folders``) whose file is gone: marked missing, history kept.

    Rows that never were readable audio (status error) are deleted instead: there is nothing to keep.
    """
    ch = Changes()
    conditions: list[ColumnElement[bool]] = []
    for start in range(0, len(paths), EVENT_BATCH):
        conditions.append(tracks.c.rel_path.in_(list(paths[start : start + EVENT_BATCH])))
    for folder in folders:
        conditions.append(tracks.c.rel_path.startswith(folder.rstrip("/") + "/", autoescape=True))
    for condition in conditions:
        rows = conn.execute(
            select(tracks.c.id, tracks.c.status).where(
                tracks.c.root_id == root_id, condition, tracks.c.status != "missing"
            )
        )
        broken: list[int] = []
        for track_id, status in rows.all():
            (broken if status == "error" else ch.missing).append(track_id)
        if broken:
            conn.execute(delete(tracks).where(tracks.c.id.in_(broken)))
            ch.removed.extend(broken)
    for start in range(0, len(ch.missing), EVENT_BATCH):
        conn.execute(
            update(tracks)
            .where(tracks.c.id.in_(ch.missing[start : start + EVENT_BATCH]))
            .values(status="missing", missing_since=utcnow())
        )
    return ch


def known_files(conn: Connection, root_id: int) -> dict[str, tuple[int, float, str]]:
    """Every track path of a root with (size, mtime, status): the incremental scan's baseline."""
    rows = conn.execute(
        select(tracks.c.rel_path, tracks.c.size, tracks.c.mtime, tracks.c.status).where(
            tracks.c.root_id == root_id
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
