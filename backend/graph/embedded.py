"""The embedded graph store: edges in the relational database's ``graph_edges`` table, algorithms in Python.

The ``tracks`` table provides the track nodes (artist, label and genre nodes are derived from its columns),
so ``upsert_tracks`` has nothing to write. Works on SQLite (desktop) and PostgreSQL alike.
Besides the three edge kinds of the port, ``played_in`` rows (track → the recording it was played in)
remember which tracks a set contained, so recording a set again can first forget what it said before.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
from sqlalchemy import and_, delete, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.models import GraphEdge, Track, utcnow
from backend.db.session import Database
from backend.graph import algorithms as alg
from backend.graph.algorithms import RawEdge
from backend.graph.base import StoreBase
from backend.graph.port import (
    EDGE_KINDS,
    EdgeKind,
    EdgeRow,
    Neighbour,
    NeighbourFilter,
    TrackNode,
    Transition,
)

CHUNK = 500  # ids per IN (...) list: well below SQLite's bound-parameter limit
STREAM_ROWS = 500  # rows per slice of a whole-graph read: each slice holds the GIL briefly
PLAYED_IN = "played_in"


def transition_score(count: int) -> float:
    """1 set → 0.5, 2 → 0.75, 3 → 0.875 …: each further set adds confidence, with diminishing returns."""
    return round(1.0 - 0.5**count, 6)


def transition_reason(count: int) -> str:
    return f"played in sequence in {count} set{'s' if count != 1 else ''}"


def _chunks(ids: Sequence[int]) -> Iterator[list[int]]:
    unique = sorted(set(ids))
    for i in range(0, len(unique), CHUNK):
        yield unique[i : i + CHUNK]


def _normalised_data(row: EdgeRow) -> dict[str, Any]:
    """A transition's sets are kept sorted with their count beside them, as both stores show them."""
    data = dict(row.data)
    if row.kind == "transition":
        sets = sorted(int(s) for s in data.get("sets", []))
        data.update(sets=sets, count=len(sets))
    return data


class EmbeddedGraphStore(StoreBase):
    """Graph store over the relational database (see the module docstring)."""

    def __init__(
        self, db: Database, *, tempo_tolerance_pct: float = 6.0, energy_boost: bool = True
    ) -> None:
        super().__init__(tempo_tolerance_pct=tempo_tolerance_pct, energy_boost=energy_boost)
        self.db = db

    async def ensure_schema(self) -> None:
        """The table comes from the migrations; fail early and clearly if they have not run."""
        async with self.db.read() as session:
            await session.execute(select(GraphEdge.id).limit(1))

    async def upsert_tracks(self, rows: Sequence[TrackNode]) -> None:
        """Nothing to do: the tracks table is the node table."""

    async def upsert_edges(self, rows: Sequence[EdgeRow]) -> None:
        """Insert or update edges, one per (source, target, kind)."""
        self._changed()
        if not rows:
            return
        async with self.db.unit_of_work() as session:
            await self._upsert(session, rows)

    async def _upsert(self, session: AsyncSession, rows: Sequence[EdgeRow]) -> None:
        dedup = {(r.source_id, r.target_id, r.kind): r for r in rows}
        values = [
            {
                "source_id": r.source_id,
                "target_id": r.target_id,
                "kind": r.kind,
                "score": float(r.score),
                "reasons": list(r.reasons),
                "data": _normalised_data(r),
            }
            for r in dedup.values()
        ]
        if not values:
            return
        insert = postgresql.insert if self.db.dialect == "postgresql" else sqlite.insert
        stmt = insert(GraphEdge)
        stmt = stmt.on_conflict_do_update(
            index_elements=["source_id", "target_id", "kind"],
            set_={
                "score": stmt.excluded.score,
                "reasons": stmt.excluded.reasons,
                "data": stmt.excluded.data,
                "updated_at": utcnow(),
            },
        )
        # One cached statement executed for many parameter sets (SQLAlchemy batches them).
        await session.execute(stmt, values)

    async def replace_edges(
        self, kind: EdgeKind, rows_by_source: Mapping[int, Sequence[EdgeRow]]
    ) -> None:
        """Make the given rows the complete outgoing ``kind`` edges of each source."""
        self._changed()
        if not rows_by_source:
            return
        async with self.db.unit_of_work() as session:
            for chunk in _chunks(list(rows_by_source)):
                await session.execute(
                    delete(GraphEdge).where(GraphEdge.kind == kind, GraphEdge.source_id.in_(chunk))
                )
            rows = [r for rs in rows_by_source.values() for r in rs]
            await self._upsert(session, rows)

    async def remove_track(self, track_id: int) -> None:
        """Delete every edge touching the track (the catalog owns the track row itself)."""
        self._changed()
        async with self.db.unit_of_work() as session:
            await session.execute(
                delete(GraphEdge).where(
                    or_(GraphEdge.source_id == track_id, GraphEdge.target_id == track_id)
                )
            )

    async def record_set(self, set_id: int, track_ids: Sequence[int | None]) -> None:
        """PLAYED_IN rows and TRANSITION edges for a set; ``None`` is an unknown track (breaks the chain)."""
        self._changed()
        async with self.db.unit_of_work() as session:
            old_members = (
                await session.scalars(
                    select(GraphEdge.source_id).where(
                        GraphEdge.kind == PLAYED_IN, GraphEdge.target_id == set_id
                    )
                )
            ).all()
            await self._forget_set(session, set_id, list(old_members))
            positions, pairs = alg.set_sequence(track_ids)
            for tid, pos_list in positions.items():
                session.add(
                    GraphEdge(
                        source_id=tid,
                        target_id=set_id,
                        kind=PLAYED_IN,
                        score=1.0,
                        reasons=[],
                        data={"positions": pos_list},
                    )
                )
            for a, b in pairs:
                edge = (
                    await session.scalars(
                        select(GraphEdge).where(
                            GraphEdge.source_id == a,
                            GraphEdge.target_id == b,
                            GraphEdge.kind == "transition",
                        )
                    )
                ).one_or_none()
                if edge is None:
                    edge = GraphEdge(source_id=a, target_id=b, kind="transition", data={})
                    session.add(edge)
                sets = sorted({*edge.data.get("sets", []), set_id}) if edge.data else [set_id]
                edge.data = {"sets": sets, "count": len(sets)}
                edge.score = transition_score(len(sets))
                edge.reasons = [transition_reason(len(sets))]

    async def _forget_set(self, session: AsyncSession, set_id: int, members: list[int]) -> None:
        for chunk in _chunks(members):
            rows = (
                await session.scalars(
                    select(GraphEdge).where(
                        GraphEdge.kind == "transition", GraphEdge.source_id.in_(chunk)
                    )
                )
            ).all()
            for edge in rows:
                sets = [s for s in (edge.data or {}).get("sets", []) if s != set_id]
                if len(sets) == len((edge.data or {}).get("sets", [])):
                    continue
                if not sets:
                    await session.delete(edge)
                else:
                    edge.data = {"sets": sets, "count": len(sets)}
                    edge.score = transition_score(len(sets))
                    edge.reasons = [transition_reason(len(sets))]
        await session.execute(
            delete(GraphEdge).where(GraphEdge.kind == PLAYED_IN, GraphEdge.target_id == set_id)
        )
        await session.flush()

    async def neighbours(
        self,
        track_id: int,
        kinds: Sequence[EdgeKind] = EDGE_KINDS,
        filters: NeighbourFilter | None = None,
        limit: int = 25,
    ) -> list[Neighbour]:
        """Related tracks, best score first (ties by id)."""
        edges = await self._expand([track_id], kinds)
        others = {e.source for e in edges} | {e.target for e in edges}
        tracks = await self._track_nodes(sorted(others - {track_id}))
        return alg.best_neighbours(track_id, edges, tracks, filters, limit)

    async def transitions(self, track_id: int | None = None, limit: int = 100) -> list[Transition]:
        """Proven transitions, most played first."""
        stmt = select(GraphEdge).where(GraphEdge.kind == "transition")
        if track_id is not None:
            stmt = stmt.where(or_(GraphEdge.source_id == track_id, GraphEdge.target_id == track_id))
        async with self.db.read() as session:
            rows = (await session.scalars(stmt)).all()
        out = [
            Transition(
                r.source_id,
                r.target_id,
                int((r.data or {}).get("count", 1)),
                tuple((r.data or {}).get("sets", [])),
            )
            for r in rows
        ]
        out.sort(key=lambda t: (-t.count, t.source_id, t.target_id))
        return out[:limit]

    async def stored_lists(self, kind: EdgeKind) -> dict[int, list[tuple[int, float]]]:
        """Every source's outgoing ``kind`` edges as (target, distance)."""
        out: dict[int, list[tuple[int, float]]] = {}
        async with self.db.read() as session:
            rows = await session.execute(
                select(
                    GraphEdge.source_id, GraphEdge.target_id, GraphEdge.score, GraphEdge.data
                ).where(GraphEdge.kind == kind)
            )
            for source, target, score, data in rows:
                dist = (data or {}).get("distance", 1.0 - float(score))
                out.setdefault(int(source), []).append((int(target), float(dist)))
        return out

    async def close(self) -> None:
        """The database belongs to the caller's services; nothing to close here."""

    # ---- primitives for the shared queries -----------------------------------------------------------

    async def _expand(
        self, ids: Sequence[int], kinds: Sequence[EdgeKind], *, light: bool = False
    ) -> list[RawEdge]:
        out: list[RawEdge] = []
        cols: Any = (GraphEdge.source_id, GraphEdge.target_id, GraphEdge.kind, GraphEdge.score)
        if not light:
            cols = (*cols, GraphEdge.reasons, GraphEdge.data)
        async with self.db.read() as session:
            for chunk in _chunks(ids):
                rows = await session.execute(
                    select(*cols).where(
                        and_(
                            GraphEdge.kind.in_(list(kinds)),
                            or_(GraphEdge.source_id.in_(chunk), GraphEdge.target_id.in_(chunk)),
                        )
                    )
                )
                for row in rows:
                    if light:
                        out.append(RawEdge(row[0], row[1], row[2], float(row[3])))
                    else:
                        out.append(
                            RawEdge(
                                row[0],
                                row[1],
                                row[2],
                                float(row[3]),
                                tuple(row[4] or ()),
                                dict(row[5] or {}),
                            )
                        )
        # An edge with both ends in different chunks is read twice; keep one.
        unique = {(e.source, e.target, e.kind): e for e in out}
        return list(unique.values())

    async def _track_nodes(self, ids: Sequence[int]) -> dict[int, TrackNode]:
        out: dict[int, TrackNode] = {}
        cols: Any = (
            Track.id,
            Track.title,
            Track.artist,
            Track.label,
            Track.genre,
            Track.bpm,
            Track.camelot,
            Track.energy,
            Track.duration_s,
        )
        async with self.db.read() as session:
            for chunk in _chunks(ids):
                for row in await session.execute(select(*cols).where(Track.id.in_(chunk))):
                    out[row[0]] = TrackNode(*row)
        return out

    async def _cluster_edges(self) -> alg.EdgeArrays:
        query = select(GraphEdge.source_id, GraphEdge.target_id, GraphEdge.score).where(
            GraphEdge.kind.in_(list(EDGE_KINDS))
        )

        def read() -> alg.EdgeArrays:
            # Millions of rows in a big library: read in a thread on the database's own connection,
            # straight into arrays, so the event loop (the app's GUI) never holds them.
            with self.db.read_in_thread() as conn:
                result = conn.execution_options(yield_per=STREAM_ROWS).execute(query)
                parts = [alg.edge_arrays(rows) for rows in result.partitions()]
            if not parts:
                return alg.edge_arrays(())
            src, dst, score = zip(*parts, strict=True)
            return np.concatenate(src), np.concatenate(dst), np.concatenate(score)

        return await asyncio.to_thread(read)


__all__ = ["EmbeddedGraphStore", "transition_reason", "transition_score"]
