"""The queries both stores answer the same way, on top of three primitives each adapter provides.

An adapter implements ``_expand`` (edges touching some tracks), ``_track_nodes`` (their properties) and
``_cluster_edges``; subgraph, suggestions, set paths and clusters then run the shared algorithms.
"""

from __future__ import annotations

import abc
import asyncio
import time
from collections.abc import Sequence

from backend.graph import algorithms as alg
from backend.graph.algorithms import RawEdge
from backend.graph.port import (
    EDGE_KINDS,
    MIXABLE_KINDS,
    Cluster,
    EdgeKind,
    EnergyDirection,
    Hop,
    SetPath,
    Subgraph,
    Suggestion,
    TrackNode,
)

MAX_SHORTEST_HOPS = 8  # "shortest path" gives up beyond this: a longer set is not a useful answer
# Communities change slowly and cost a pass over every edge: reuse them until this process writes, or this
# long (another process — a graph worker — may have written meanwhile).
CLUSTERS_TTL_S = 300.0


class StoreBase(abc.ABC):
    """Shared query logic; see the module docstring."""

    def __init__(self, *, tempo_tolerance_pct: float = 6.0, energy_boost: bool = True) -> None:
        self.tempo_tolerance_pct = tempo_tolerance_pct
        self.energy_boost = energy_boost
        self._clusters: tuple[float, list[Cluster]] | None = None

    def _changed(self) -> None:
        """Called by every write: cached answers are stale."""
        self._clusters = None

    @abc.abstractmethod
    async def _expand(
        self, ids: Sequence[int], kinds: Sequence[EdgeKind], *, light: bool = False
    ) -> list[RawEdge]:
        """Edges of ``kinds`` with either end in ``ids`` (``light``: without reasons and data)."""

    @abc.abstractmethod
    async def _track_nodes(self, ids: Sequence[int]) -> dict[int, TrackNode]:
        """Properties of the tracks in ``ids`` that are in the graph."""

    @abc.abstractmethod
    async def _cluster_edges(self) -> alg.EdgeArrays:
        """Every track-to-track edge: sources, targets and scores as three arrays."""

    async def subgraph(self, track_id: int, depth: int = 2, limit: int = 100) -> Subgraph:
        """Tracks within ``depth`` hops (at most ``limit``, nearest first) with their entity nodes."""
        tracks = await self._track_nodes([track_id])
        if track_id not in tracks:
            return Subgraph(track_id, (), ())

        async def expand(ids: Sequence[int]) -> list[RawEdge]:
            return await self._expand(ids, EDGE_KINDS)

        depth_of, edges = await alg.bfs(expand, track_id, depth, max(1, limit))
        last = [t for t, d in depth_of.items() if d == max(depth_of.values()) and d > 0]
        if last:  # edges among the outermost layer were not loaded by the walk
            edges.extend(await self._expand(sorted(last), EDGE_KINDS))
        tracks.update(await self._track_nodes(sorted(set(depth_of) - {track_id})))
        nodes, links = alg.subgraph_parts(track_id, depth_of, edges, tracks)
        return Subgraph(track_id, nodes, links)

    async def suggestions(
        self, track_id: int, limit: int = 10, energy: EnergyDirection | None = None
    ) -> list[Suggestion]:
        """Ranked next tracks mixing similarity, harmony, tempo, energy direction and transitions."""
        seed = (await self._track_nodes([track_id])).get(track_id)
        if seed is None:
            return []
        edges = await self._expand([track_id], EDGE_KINDS)
        others = sorted({e.source for e in edges} | {e.target for e in edges} - {track_id})
        tracks = await self._track_nodes(others)
        return alg.rank_suggestions(
            seed,
            edges,
            tracks,
            limit=limit,
            energy=energy,
            tolerance_pct=self.tempo_tolerance_pct,
            energy_boost=self.energy_boost,
        )

    async def path(
        self,
        a: int,
        b: int,
        steps: int | None = None,
        energy_curve: Sequence[float] | None = None,
    ) -> SetPath | None:
        """A set path a → b: exactly ``steps`` hops, or the fewest; None when there is none."""
        if steps is not None and steps < 1:
            raise ValueError("steps must be at least 1")
        ends = await self._track_nodes([a, b])
        if a not in ends or b not in ends or a == b:
            return None

        async def expand(ids: Sequence[int]) -> list[RawEdge]:
            # The search reads thousands of edges: only ends, kind and score (reasons come after).
            return await self._expand(ids, MIXABLE_KINDS, light=True)

        reach = steps if steps is not None else MAX_SHORTEST_HOPS
        edges = await alg.local_mixable_graph(expand, a, b, reach)
        adj = alg.mixable_adjacency(edges)
        energies: dict[int, float | None] | None = None
        if energy_curve:
            nodes = sorted({e.source for e in edges} | {e.target for e in edges})
            energies = {t: n.energy for t, n in (await self._track_nodes(nodes)).items()}
        found = alg.find_path(adj, a, b, steps, energy_curve, energies, MAX_SHORTEST_HOPS)
        if found is None:
            return None
        ids, used, cost = found
        nodes_by_id = await self._track_nodes(ids)
        full = {(e.source, e.target, e.kind): e for e in await self._expand(ids, MIXABLE_KINDS)}
        hops = tuple(
            Hop(s, t, e.kind, e.score, tuple(full.get((e.source, e.target, e.kind), e).reasons))
            for s, t, e in zip(ids[:-1], ids[1:], used, strict=True)
        )
        return SetPath(tuple(nodes_by_id[i] for i in ids), hops, cost)

    async def clusters(self) -> list[Cluster]:
        """Communities of the graph (label propagation), largest first."""
        now = time.monotonic()
        if self._clusters is not None and now - self._clusters[0] < CLUSTERS_TTL_S:
            return list(self._clusters[1])
        edges = await self._cluster_edges()
        # Seconds of CPU for a 100k-track library: off the event loop (the app's GUI thread runs it).
        groups = await asyncio.to_thread(alg.communities, *edges)
        result = [Cluster(i, tuple(g)) for i, g in enumerate(groups)]
        self._clusters = (now, result)
        return list(result)


__all__ = ["CLUSTERS_TTL_S", "MAX_SHORTEST_HOPS", "StoreBase"]
