"""Keeps a process's k-NN index and the graph store in step with the library.

The index lives in memory (float32 numpy arrays); it is built once per process from the analysed tracks in
the relational database, then changed incrementally: each change rewrites the SIMILAR and HARMONIC edges of
exactly the tracks whose neighbour lists moved. One lock serialises changes, so edges written for a track
always reflect the latest index state.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.config import GraphSettings
from backend.db.models import AnalysisResult, Track, Tracklist
from backend.db.session import Database
from backend.graph.edges import edges_for
from backend.graph.knn import KnnIndex, TrackPoint
from backend.graph.port import EdgeKind, GraphStore, TrackNode

log = logging.getLogger(__name__)

CHUNK = 500
WRITE_BATCH = 1000  # sources per replace_edges call (one transaction each)


def node_of(t: Track) -> TrackNode:
    """The graph's view of a track row."""
    return TrackNode(
        id=t.id,
        title=t.title,
        artist=t.artist,
        label=t.label,
        genre=t.genre,
        bpm=t.bpm,
        camelot=t.camelot,
        energy=t.energy,
        duration_s=t.duration_s,
    )


def features_of(data: dict[str, Any] | None) -> list[float] | None:
    """The analysis feature vector, or None when the result has none (or a malformed one)."""
    raw = (data or {}).get("features")
    if not isinstance(raw, list) or not raw:
        return None
    try:
        return [float(x) for x in raw]
    except (TypeError, ValueError):
        return None


async def load_points(
    session: AsyncSession, track_ids: Sequence[int] | None = None
) -> list[tuple[Track, TrackPoint]]:
    """Analysed tracks (all, or ``track_ids``) with their points; tracks without a vector are left out."""
    query = (
        select(Track, AnalysisResult.data)
        .join(
            AnalysisResult,
            (AnalysisResult.fingerprint == Track.fingerprint)
            & (AnalysisResult.algorithm_version == Track.analysis_version),
        )
        # Missing files keep their place (see the handler), so they stay in the index too.
        .where(Track.is_mix.is_(False))
        .order_by(Track.id)
    )
    out: list[tuple[Track, TrackPoint]] = []
    chunks = (
        [None]
        if track_ids is None
        else [track_ids[i : i + CHUNK] for i in range(0, len(track_ids), CHUNK)]
    )
    for chunk in chunks:
        q = query if chunk is None else query.where(Track.id.in_(list(chunk)))
        for track, data in await session.execute(q):
            vec = features_of(data)
            if vec is None:
                continue
            out.append((track, TrackPoint(track.id, vec, track.bpm, track.camelot, track.energy)))
    return out


def _one_length(points: list[TrackPoint]) -> list[TrackPoint]:
    """Vectors of an older analysis version may differ in length: keep the most common length."""
    dims = {len(p.features or ()) for p in points}
    if len(dims) <= 1:
        return points
    common = max(dims, key=lambda d: sum(len(p.features or ()) == d for p in points))
    return [p for p in points if len(p.features or ()) == common]


class GraphMaintainer:
    """The index plus the writes that keep the store's SIMILAR/HARMONIC edges equal to it."""

    def __init__(self, db: Database, store: GraphStore, settings: GraphSettings) -> None:
        self.db = db
        self.store = store
        self.settings = settings
        self.index = KnnIndex(
            k=settings.k_neighbours,
            tempo_tolerance_pct=settings.tempo_tolerance_pct,
            energy_boost=settings.energy_boost_moves,
        )
        self._loaded = False
        self._lock = asyncio.Lock()

    async def _ensure_loaded(self) -> None:
        if self._loaded:
            return
        async with self.db.read() as session:
            rows = await load_points(session)
        points = _one_length([p for _, p in rows])
        # Restore from the saved edges (O(n)); tracks the store does not know yet are inserted.
        kinds: tuple[EdgeKind, ...] = ("similar", "harmonic")
        stored: dict[str, Mapping[int, Sequence[tuple[int, float]]]] = {
            kind: await self.store.stored_lists(kind) for kind in kinds
        }
        known = sum(p.track_id in stored["similar"] for p in points)
        if points and known < len(points) // 2:
            # Mostly new (first start, or after `graph rebuild` was asked for): one bulk build is
            # cheaper than many inserts. CPU work: keep the event loop responsive.
            await asyncio.to_thread(self.index.build, points)
            changed = set(self.index.track_ids)
        else:
            changed = await asyncio.to_thread(self.index.restore, points, stored)
        self._loaded = True
        log.info("graph index ready: %d tracks, %d lists rewritten", len(self.index), len(changed))
        await self._write(changed)

    async def rebuild(self) -> int:
        """Rebuild the index from scratch (O(n²)) and rewrite every track's similarity edges."""
        async with self._lock:
            async with self.db.read() as session:
                rows = await load_points(session)
            await self.store.upsert_tracks([node_of(t) for t, _ in rows])
            await asyncio.to_thread(self.index.build, _one_length([p for _, p in rows]))
            self._loaded = True
            await self._write(self.index.track_ids)
            return len(self.index)

    async def tracks_changed(self, track_ids: Sequence[int]) -> set[int]:
        """Tracks (re)analysed or edited: insert or move them; returns the ids whose edges changed."""
        async with self._lock:
            await self._ensure_loaded()
            async with self.db.read() as session:
                rows = await load_points(session, track_ids)
            await self.store.upsert_tracks([node_of(t) for t, _ in rows])
            changed: set[int] = set()
            for _, point in rows:
                try:
                    changed |= self.index.insert(point)
                except ValueError as exc:  # a vector of another length (older analysis version)
                    log.warning("graph: %s", exc)
            await self._write(changed)
            return changed

    async def tracks_removed(self, track_ids: Iterable[int]) -> set[int]:
        """Tracks deleted from the library: drop them; returns the ids whose edges changed."""
        async with self._lock:
            await self._ensure_loaded()
            changed: set[int] = set()
            removed = set(track_ids)
            for tid in removed:
                changed |= self.index.remove(tid)
                await self.store.remove_track(tid)
            changed -= removed
            await self._write(changed)
            return changed

    async def tracklist_applied(self, recording_id: int, tracklist_id: int) -> list[int]:
        """Record the set a tracklist describes; returns the linked track ids in play order."""
        async with self.db.read() as session:
            tracklist = await session.get(Tracklist, tracklist_id)
            if tracklist is None or tracklist.status != "applied":
                return []
            entries = await tracklist.awaitable_attrs.entries
            ids = [e.linked_track_id for e in entries]
            wanted = {i for i in ids if i is not None} | {recording_id}
            tracks = (await session.scalars(select(Track).where(Track.id.in_(wanted)))).all()
        known = {t.id for t in tracks}
        await self.store.upsert_tracks([node_of(t) for t in tracks])
        sequence = [i if i in known else None for i in ids]
        await self.store.record_set(recording_id, sequence)
        return [i for i in sequence if i is not None]

    async def _write(self, sources: Iterable[int]) -> None:
        ids = sorted(s for s in sources if s in self.index)
        kinds: tuple[EdgeKind, ...] = ("similar", "harmonic")
        for start in range(0, len(ids), WRITE_BATCH):
            batch = ids[start : start + WRITE_BATCH]
            for kind in kinds:
                rows = edges_for(
                    self.index,
                    kind,
                    batch,
                    tolerance_pct=self.settings.tempo_tolerance_pct,
                    energy_boost=self.settings.energy_boost_moves,
                )
                await self.store.replace_edges(kind, rows)


__all__ = ["GraphMaintainer", "features_of", "load_points", "node_of"]
