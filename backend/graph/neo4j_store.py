"""The Neo4j graph store: the official async driver, managed transactions, statements from ``cypher.py``.

Writes are batched ``UNWIND`` + ``MERGE`` (idempotent) inside ``execute_write``; reads use ``execute_read``
so the driver retries transient failures and routes to the right cluster member. ``dialect="arcadedb"``
skips the few statements ArcadeDB lacks (``cypher.ARCADEDB_SKIPS``) — the tests run this adapter against
ArcadeDB over Bolt, and against a real Neo4j when one is configured.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import neo4j

from backend.graph import algorithms as alg
from backend.graph import cypher
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

Dialect = Literal["neo4j", "arcadedb"]
BATCH = (
    1000  # rows per UNWIND: big enough to amortise round trips, small enough for one transaction
)


def _track(record: Mapping[str, Any]) -> TrackNode:
    return TrackNode(
        id=int(record["id"]),
        title=record["title"],
        artist=record["artist"],
        label=record["label"],
        genre=record["genre"],
        bpm=record["bpm"],
        camelot=record["camelot"],
        energy=record["energy"],
        duration_s=record["duration_s"],
    )


def _edge_data(record: Mapping[str, Any]) -> dict[str, Any]:
    """Edge data as the port shows it: the JSON ``data`` text, plus sets/count of a transition."""
    raw = record["data"]
    data: dict[str, Any] = json.loads(raw) if isinstance(raw, str) and raw else {}
    if record["sets"] is not None:
        sets = sorted(int(s) for s in record["sets"])
        data.update(sets=sets, count=len(sets))
    return data


def _batches(rows: Sequence[Any]) -> list[Sequence[Any]]:
    return [rows[i : i + BATCH] for i in range(0, len(rows), BATCH)]


class Neo4jGraphStore(StoreBase):
    """Graph store on Neo4j (or anything that speaks its Bolt protocol and Cypher)."""

    def __init__(
        self,
        driver: neo4j.AsyncDriver,
        database: str,
        *,
        dialect: Dialect = "neo4j",
        tempo_tolerance_pct: float = 6.0,
        energy_boost: bool = True,
    ) -> None:
        super().__init__(tempo_tolerance_pct=tempo_tolerance_pct, energy_boost=energy_boost)
        self.driver = driver
        self.database = database
        self.dialect = dialect

    @classmethod
    def connect(
        cls, uri: str, user: str, password: str, database: str, **kwargs: Any
    ) -> Neo4jGraphStore:
        """Open a driver for ``uri`` (connections are made lazily, on first use)."""
        driver = neo4j.AsyncGraphDatabase.driver(uri, auth=(user, password))
        return cls(driver, database, **kwargs)

    async def close(self) -> None:
        """Close the driver and its connections."""
        await self.driver.close()

    # ---- plumbing ------------------------------------------------------------------------------------

    async def _write(self, statements: Sequence[tuple[str, dict[str, Any]]]) -> None:
        """Run statements in one managed write transaction (retried as a whole on transient errors)."""
        self._changed()

        async def work(tx: neo4j.AsyncManagedTransaction) -> None:
            for query, params in statements:
                result = await tx.run(query, params)
                await result.consume()

        async with self.driver.session(database=self.database) as session:
            await session.execute_write(work)

    async def _read(self, query: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        async def work(tx: neo4j.AsyncManagedTransaction) -> list[dict[str, Any]]:
            result = await tx.run(query, params)
            return [record.data() async for record in result]

        async with self.driver.session(database=self.database) as session:
            return await session.execute_read(work)

    # ---- writes --------------------------------------------------------------------------------------

    async def ensure_schema(self) -> None:
        """Create constraints and indexes if missing (schema commands run in auto-commit transactions)."""
        async with self.driver.session(database=self.database) as session:
            for statement in cypher.SCHEMA_STATEMENTS:
                if self.dialect == "arcadedb" and statement in cypher.ARCADEDB_SKIPS:
                    continue
                result = await session.run(statement)
                await result.consume()

    async def upsert_tracks(self, rows: Sequence[TrackNode]) -> None:
        """MERGE track nodes and re-link their artist, label and genre nodes."""
        for batch in _batches(list(rows)):
            params = {
                "rows": [
                    {
                        "id": t.id,
                        "title": t.title,
                        "artist": t.artist,
                        "label": t.label,
                        "genre": t.genre,
                        "bpm": t.bpm,
                        "camelot": t.camelot,
                        "energy": t.energy,
                        "duration_s": t.duration_s,
                    }
                    for t in batch
                ]
            }
            await self._write(
                [
                    (cypher.UPSERT_TRACKS, params),
                    (cypher.CLEAR_ENTITY_LINKS, {"ids": [t.id for t in batch]}),
                    (cypher.LINK_ARTISTS, params),
                    (cypher.LINK_LABELS, params),
                    (cypher.LINK_GENRES, params),
                ]
            )

    @staticmethod
    def _edge_params(rows: Sequence[EdgeRow]) -> list[dict[str, Any]]:
        out = []
        for r in rows:
            data = dict(r.data)
            sets = [int(s) for s in data.pop("sets", [])]
            data.pop("count", None)
            out.append(
                {
                    "source": r.source_id,
                    "target": r.target_id,
                    "score": float(r.score),
                    "reasons": list(r.reasons),
                    "data": json.dumps(data, sort_keys=True),
                    "sets": sets,
                }
            )
        return out

    def _upserts(self, rows: Sequence[EdgeRow]) -> list[tuple[str, dict[str, Any]]]:
        dedup = {(r.source_id, r.target_id, r.kind): r for r in rows}
        out: list[tuple[str, dict[str, Any]]] = []
        for kind in EDGE_KINDS:
            of_kind = [r for r in dedup.values() if r.kind == kind]
            for batch in _batches(of_kind):
                out.append((cypher.UPSERT_BY_KIND[kind], {"rows": self._edge_params(batch)}))
        return out

    async def upsert_edges(self, rows: Sequence[EdgeRow]) -> None:
        """MERGE edges (one per source, target and kind) and set their score, reasons and data."""
        if rows:
            await self._write(self._upserts(rows))

    async def replace_edges(
        self, kind: EdgeKind, rows_by_source: Mapping[int, Sequence[EdgeRow]]
    ) -> None:
        """Delete the sources' outgoing ``kind`` edges and write the new ones, in one transaction."""
        if not rows_by_source:
            return
        sources = sorted(rows_by_source)
        statements = [
            (cypher.DELETE_OUTGOING_BY_KIND[kind], {"sources": list(batch)})
            for batch in _batches(sources)
        ]
        statements += self._upserts([r for s in sources for r in rows_by_source[s]])
        await self._write(statements)

    async def remove_track(self, track_id: int) -> None:
        """Delete the track node and all its relationships."""
        await self._write([(cypher.REMOVE_TRACK, {"id": track_id})])

    async def record_set(self, set_id: int, track_ids: Sequence[int | None]) -> None:
        """Forget what the set said before, then link its tracks and count its transitions."""
        positions, pairs = alg.set_sequence(track_ids)
        await self._write(
            [
                (cypher.FORGET_SET_TRANSITIONS, {"set_id": set_id}),
                (cypher.FORGET_SET_PLAYED_IN, {"set_id": set_id}),
                (
                    cypher.ADD_PLAYED_IN,
                    {
                        "set_id": set_id,
                        "rows": [{"id": t, "positions": p} for t, p in positions.items()],
                    },
                ),
                (
                    cypher.ADD_TRANSITIONS,
                    {"set_id": set_id, "pairs": [{"source": a, "target": b} for a, b in pairs]},
                ),
            ]
        )

    # ---- reads ---------------------------------------------------------------------------------------

    async def neighbours(
        self,
        track_id: int,
        kinds: Sequence[EdgeKind] = EDGE_KINDS,
        filters: NeighbourFilter | None = None,
        limit: int = 25,
    ) -> list[Neighbour]:
        """Related tracks, best score first (ties by id)."""
        f = filters or NeighbourFilter()
        records = await self._read(
            cypher.NEIGHBOURS,
            {
                "id": track_id,
                "types": [cypher.TYPE_OF_KIND[k] for k in kinds],
                "bpm_min": f.bpm_min,
                "bpm_max": f.bpm_max,
                "camelot": list(f.camelot) if f.camelot is not None else None,
                "genre": f.genre,
                "min_score": f.min_score,
                "limit": limit,
            },
        )
        return [
            Neighbour(
                _track(r),
                cypher.KIND_OF_TYPE[r["kind"]],  # type: ignore[arg-type]
                float(r["score"]),
                tuple(r["reasons"] or ()),
                "out" if r["direction"] == "out" else "in",
                _edge_data(r),
            )
            for r in records
        ]

    async def transitions(self, track_id: int | None = None, limit: int = 100) -> list[Transition]:
        """Proven transitions, most played first."""
        records = await self._read(cypher.TRANSITIONS, {"id": track_id, "limit": limit})
        return [
            Transition(
                int(r["source"]),
                int(r["target"]),
                int(r["count"] or 0),
                tuple(sorted(int(s) for s in (r["sets"] or ()))),
            )
            for r in records
        ]

    async def stored_lists(self, kind: EdgeKind) -> dict[int, list[tuple[int, float]]]:
        """Every source's outgoing ``kind`` edges as (target, distance)."""
        out: dict[int, list[tuple[int, float]]] = {}
        for r in await self._read(cypher.STORED_LISTS_BY_KIND[kind], {}):
            raw = r["data"]
            data = json.loads(raw) if isinstance(raw, str) and raw else {}
            dist = data.get("distance", 1.0 - float(r["score"]))
            out.setdefault(int(r["source"]), []).append((int(r["target"]), float(dist)))
        return out

    async def _expand(
        self, ids: Sequence[int], kinds: Sequence[EdgeKind], *, light: bool = False
    ) -> list[RawEdge]:
        out: dict[tuple[int, int, str], RawEdge] = {}
        types = [cypher.TYPE_OF_KIND[k] for k in kinds]
        query = cypher.EXPAND_LIGHT if light else cypher.EXPAND
        for batch in _batches(sorted(set(ids))):
            for r in await self._read(query, {"ids": list(batch), "types": types}):
                kind: EdgeKind = cypher.KIND_OF_TYPE[r["kind"]]  # type: ignore[assignment]
                key = (int(r["source"]), int(r["target"]), kind)
                out[key] = (
                    RawEdge(key[0], key[1], kind, float(r["score"]))
                    if light
                    else RawEdge(
                        key[0],
                        key[1],
                        kind,
                        float(r["score"]),
                        tuple(r["reasons"] or ()),
                        _edge_data(r),
                    )
                )
        return list(out.values())

    async def _track_nodes(self, ids: Sequence[int]) -> dict[int, TrackNode]:
        out: dict[int, TrackNode] = {}
        for batch in _batches(sorted(set(ids))):
            for r in await self._read(cypher.TRACK_NODES, {"ids": list(batch)}):
                node = _track(r)
                out[node.id] = node
        return out

    async def _cluster_edges(self) -> alg.EdgeArrays:
        records = await self._read(cypher.CLUSTER_EDGES, {})
        return alg.edge_arrays((r["source"], r["target"], r["score"]) for r in records)


__all__ = ["Dialect", "Neo4jGraphStore"]
