"""Graph algorithms shared by both stores: they run in Python on edges an adapter loaded.

Keeping them here (instead of in Cypher for one store and SQL for the other) is what makes both adapters
answer alike: an adapter only supplies "edges touching these tracks" and "these tracks' properties".
"""

from __future__ import annotations

import itertools
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from scipy import sparse

from backend.graph.harmony import energy_reason, harmonic_match
from backend.graph.port import (
    EdgeKind,
    EnergyDirection,
    GraphLink,
    GraphNode,
    Neighbour,
    NeighbourFilter,
    Suggestion,
    TrackNode,
)


@dataclass(frozen=True)
class RawEdge:
    """An edge as stored: source → target."""

    source: int
    target: int
    kind: EdgeKind
    score: float
    reasons: tuple[str, ...] = ()
    data: Mapping[str, Any] = field(default_factory=dict)


Expand = Callable[[Sequence[int]], Awaitable[list[RawEdge]]]


def best_neighbours(
    track_id: int,
    edges: Iterable[RawEdge],
    tracks: Mapping[int, TrackNode],
    filters: NeighbourFilter | None,
    limit: int,
) -> list[Neighbour]:
    """One entry per (other track, kind): the best-scored edge (outgoing wins a tie), filtered, ranked."""
    best: dict[tuple[int, str], Neighbour] = {}
    for e in edges:
        direction: Literal["out", "in"]
        if e.source == track_id:
            other, direction = e.target, "out"
        elif e.target == track_id:
            other, direction = e.source, "in"
        else:
            continue
        if other == track_id or other not in tracks:
            continue
        current = best.get((other, e.kind))
        if current is not None and (
            current.score > e.score or (current.score == e.score and current.direction == "out")
        ):
            continue
        best[(other, e.kind)] = Neighbour(
            tracks[other], e.kind, e.score, tuple(e.reasons), direction, dict(e.data)
        )
    rows = [n for n in best.values() if passes(n, filters)]
    rows.sort(key=lambda n: (-n.score, n.track.id, n.kind))
    return rows[:limit]


def passes(n: Neighbour, f: NeighbourFilter | None) -> bool:
    """Does a neighbour meet the filter?"""
    if f is None:
        return True
    t = n.track
    if f.bpm_min is not None and (t.bpm is None or t.bpm < f.bpm_min):
        return False
    if f.bpm_max is not None and (t.bpm is None or t.bpm > f.bpm_max):
        return False
    if f.camelot is not None and t.camelot not in f.camelot:
        return False
    if f.genre is not None and t.genre != f.genre:
        return False
    return not (f.min_score is not None and n.score < f.min_score)


async def bfs(
    expand: Expand, start: int, depth: int, limit: int
) -> tuple[dict[int, int], list[RawEdge]]:
    """Tracks within ``depth`` hops of ``start`` (both directions), at most ``limit``, nearest first.

    Returns {track id: depth} and the edges loaded on the way. When a layer does not fit, its tracks joined
    by the strongest edges are kept.
    """
    depth_of = {start: 0}
    frontier = [start]
    loaded: list[RawEdge] = []
    for level in range(1, depth + 1):
        if not frontier or len(depth_of) >= limit:
            break
        edges = await expand(frontier)
        loaded.extend(edges)
        strength: dict[int, float] = defaultdict(float)
        for e in edges:
            for other in (e.source, e.target):
                if other not in depth_of:
                    strength[other] = max(strength[other], e.score)
        room = limit - len(depth_of)
        chosen = sorted(strength, key=lambda t: (-strength[t], t))[:room]
        for t in chosen:
            depth_of[t] = level
        frontier = sorted(chosen)
    return depth_of, loaded


def subgraph_parts(
    center: int,
    depth_of: Mapping[int, int],
    edges: Iterable[RawEdge],
    tracks: Mapping[int, TrackNode],
) -> tuple[tuple[GraphNode, ...], tuple[GraphLink, ...]]:
    """Nodes (tracks, then their artists, labels and genres) and links of a subgraph."""
    nodes: dict[str, GraphNode] = {}
    links: dict[tuple[str, str, str], GraphLink] = {}
    for tid in sorted(depth_of, key=lambda t: (depth_of[t], t)):
        track = tracks.get(tid)
        if track is None:
            continue
        key = f"track:{tid}"
        nodes[key] = GraphNode(key, "track", track.title or f"#{tid}", track, depth_of[tid])
        for kind, link_kind, name in (
            ("artist", "by_artist", track.artist),
            ("label", "on_label", track.label),
            ("genre", "in_genre", track.genre),
        ):
            if not name:
                continue
            ekey = f"{kind}:{name}"
            nodes.setdefault(ekey, GraphNode(ekey, kind, name, None, depth_of[tid] + 1))  # type: ignore[arg-type]
            links[(key, ekey, link_kind)] = GraphLink(key, ekey, link_kind)
    for e in edges:
        s, t = f"track:{e.source}", f"track:{e.target}"
        if s in nodes and t in nodes and s != t:
            old = links.get((s, t, e.kind))
            if old is None or old.score < e.score:
                links[(s, t, e.kind)] = GraphLink(s, t, e.kind, e.score)
    return tuple(nodes.values()), tuple(
        sorted(links.values(), key=lambda x: (x.kind, x.source, x.target))
    )


# ---- suggestions -------------------------------------------------------------------------------------------

SUGGESTION_WEIGHTS = {"similarity": 0.35, "harmony": 0.30, "transition": 0.20, "energy": 0.15}


def energy_fit(seed: float | None, cand: float | None, direction: EnergyDirection | None) -> float:
    """0..1: how well the candidate's energy follows the wanted direction (0.5 when unknown)."""
    if seed is None or cand is None:
        return 0.5
    delta = cand - seed
    if direction == "up":
        return float(np.clip(0.5 + delta * 2.5, 0.0, 1.0))
    if direction == "down":
        return float(np.clip(0.5 - delta * 2.5, 0.0, 1.0))
    if direction == "keep":
        return float(max(0.0, 1.0 - abs(delta) * 4.0))
    return float(max(0.0, 1.0 - abs(delta) * 2.0))  # no wish: smooth changes are better


def rank_suggestions(
    seed: TrackNode,
    edges: Iterable[RawEdge],
    tracks: Mapping[int, TrackNode],
    *,
    limit: int,
    energy: EnergyDirection | None,
    tolerance_pct: float,
    energy_boost: bool,
) -> list[Suggestion]:
    """Rank the tracks related to ``seed`` as the next track to play."""
    sim: dict[int, float] = defaultdict(float)
    played: dict[int, int] = defaultdict(int)
    reasons: dict[int, list[str]] = defaultdict(list)
    for e in edges:
        if e.kind == "transition":
            if e.source != seed.id:
                continue  # only "played after the seed" counts as a proven next track
            other = e.target
            played[other] = max(played[other], int(e.data.get("count", 1)))
        else:
            other = e.target if e.source == seed.id else e.source
            if e.kind == "similar" and e.score > sim[other]:
                sim[other] = e.score
                reasons[other] = [*list(e.reasons)[:1], *reasons[other][1:]]
    out: list[Suggestion] = []
    for other in set(sim) | set(played):
        cand = tracks.get(other)
        if cand is None or other == seed.id:
            continue
        match = harmonic_match(
            seed.camelot,
            seed.bpm,
            cand.camelot,
            cand.bpm,
            tolerance_pct=tolerance_pct,
            energy_boost=energy_boost,
        )
        parts = {
            "similarity": sim.get(other, 0.0),
            "harmony": match.score if match else 0.0,
            # Same confidence as the edge score: 1 set 0.5, 2 sets 0.75, 3 sets 0.875 …
            "transition": 1.0 - 0.5 ** played.get(other, 0),
            "energy": energy_fit(seed.energy, cand.energy, energy),
        }
        why = list(reasons.get(other, []))
        if match:
            why.extend(match.reasons)
        if played.get(other):
            n = played[other]
            why.append(f"played after it in {n} set{'s' if n > 1 else ''}")
        er = energy_reason(seed.energy, cand.energy)
        if er:
            why.append(er)
        score = sum(SUGGESTION_WEIGHTS[k] * v for k, v in parts.items())
        out.append(Suggestion(cand, round(score, 4), tuple(why), parts))
    out.sort(key=lambda s: (-s.score, s.track.id))
    return out[:limit]


# ---- set paths ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Arc:
    target: int
    edge: RawEdge


def mixable_adjacency(edges: Iterable[RawEdge]) -> dict[int, dict[int, Arc]]:
    """Hops a DJ can make: harmonic edges both ways, transitions in the order they were played."""
    adj: dict[int, dict[int, Arc]] = defaultdict(dict)

    def add(a: int, b: int, e: RawEdge) -> None:
        old = adj[a].get(b)
        if old is None or old.edge.score < e.score:
            adj[a][b] = Arc(b, e)

    for e in edges:
        if e.kind == "harmonic":
            add(e.source, e.target, e)
            add(e.target, e.source, e)
        elif e.kind == "transition":
            add(e.source, e.target, e)
    return adj


def hop_cost(score: float) -> float:
    """0.5..1 per hop: every hop costs, a better-scored one less."""
    return 1.0 - 0.5 * max(0.0, min(1.0, score))


def hops_to(adj: Mapping[int, Mapping[int, Arc]], b: int, max_hops: int) -> dict[int, int]:
    """Fewest hops from each node to ``b`` (up to ``max_hops``), by a BFS over reversed arcs."""
    rev: dict[int, list[int]] = defaultdict(list)
    for a, arcs in adj.items():
        for t in arcs:
            rev[t].append(a)
    dist = {b: 0}
    queue = deque([b])
    while queue:
        node = queue.popleft()
        if dist[node] >= max_hops:
            continue
        for prev in rev.get(node, ()):
            if prev not in dist:
                dist[prev] = dist[node] + 1
                queue.append(prev)
    return dist


def find_path(
    adj: Mapping[int, Mapping[int, Arc]],
    a: int,
    b: int,
    steps: int | None,
    energy_curve: Sequence[float] | None = None,
    energies: Mapping[int, float | None] | None = None,
    max_hops: int = 12,
) -> tuple[list[int], list[RawEdge], float] | None:
    """The cheapest simple path a → b of exactly ``steps`` hops (or the fewest hops if None).

    Layered dynamic programming: each layer keeps the cheapest path reaching each node, extends it only into
    nodes not on it, and only into nodes from which ``b`` is still reachable in the hops left. An energy
    curve (any number of points, resampled to the path's length) adds |energy − wanted| per track.
    """
    if a == b:
        return None
    dist_b = hops_to(adj, b, steps if steps is not None else max_hops)
    if a not in dist_b:
        return None
    n = steps if steps is not None else dist_b[a]
    if n < dist_b[a]:
        return None
    wanted: list[float] | None = None
    if energy_curve:
        xs = np.linspace(0.0, 1.0, num=len(energy_curve))
        wanted = [float(v) for v in np.interp(np.linspace(0.0, 1.0, num=n + 1), xs, energy_curve)]

    def node_cost(node: int, i: int) -> float:
        if wanted is None or energies is None:
            return 0.0
        e = energies.get(node)
        return 0.5 if e is None else abs(e - wanted[i])

    layer: dict[int, tuple[float, tuple[int, ...], tuple[RawEdge, ...]]] = {
        a: (node_cost(a, 0), (a,), ())
    }
    for i in range(1, n + 1):
        left = n - i
        nxt: dict[int, tuple[float, tuple[int, ...], tuple[RawEdge, ...]]] = {}
        for node, (cost, path, used) in layer.items():
            for t, arc in adj.get(node, {}).items():
                if t in path or dist_b.get(t, max_hops + 1) > left or (t == b and left > 0):
                    continue
                c = cost + hop_cost(arc.edge.score) + node_cost(t, i)
                old = nxt.get(t)
                if old is None or c < old[0] or (c == old[0] and (*path, t) < old[1]):
                    nxt[t] = (c, (*path, t), (*used, arc.edge))
        layer = nxt
        if not layer:
            return None
    if b not in layer:
        return None
    cost, path, used = layer[b]
    return list(path), list(used), round(cost, 6)


async def local_mixable_graph(expand: Expand, a: int, b: int, steps: int) -> list[RawEdge]:
    """Every edge a path of ≤ ``steps`` hops from a to b can use: expand ⌈steps/2⌉ layers from a, ⌊steps/2⌋ from b.

    A node at position i of such a path is within i hops of a and steps − i of b, so each of its edges
    touches a node expanded from one side or the other.
    """
    edges: dict[tuple[int, int, str], RawEdge] = {}
    for start, layers in ((a, (steps + 1) // 2), (b, steps // 2)):
        seen = {start}
        frontier = [start]
        for _ in range(layers):
            if not frontier:
                break
            nxt: set[int] = set()
            for e in await expand(frontier):
                edges[(e.source, e.target, e.kind)] = e
                for t in (e.source, e.target):
                    if t not in seen:
                        seen.add(t)
                        nxt.add(t)
            frontier = sorted(nxt)
    return list(edges.values())


# ---- sets ------------------------------------------------------------------------------------------------


def set_sequence(
    track_ids: Sequence[int | None],
) -> tuple[dict[int, list[int]], list[tuple[int, int]]]:
    """Positions of each known track in a set, and the distinct consecutive pairs (None breaks a chain)."""
    positions: dict[int, list[int]] = {}
    for pos, tid in enumerate(track_ids):
        if tid is not None:
            positions.setdefault(tid, []).append(pos)
    pairs = sorted(
        {
            (a, b)
            for a, b in itertools.pairwise(track_ids)
            if a is not None and b is not None and a != b
        }
    )
    return positions, pairs


# ---- communities -------------------------------------------------------------------------------------------


# Sources, targets, scores: a whole graph's edges without a Python object per edge.
EdgeArrays = tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]]


def edge_arrays(rows: Iterable[Sequence[Any]]) -> EdgeArrays:
    """(source, target, score) rows as :data:`EdgeArrays`."""
    # tuple(): numpy reads a database Row through the slow generic sequence protocol otherwise.
    table = np.array([tuple(r) for r in rows], dtype=np.float64).reshape(-1, 3)
    return table[:, 0].astype(np.int64), table[:, 1].astype(np.int64), table[:, 2]


def label_propagation(
    edges: Iterable[tuple[int, int, float]], max_rounds: int = 20
) -> list[list[int]]:
    """Communities of (source, target, score) edges; see :func:`communities`."""
    return communities(*edge_arrays(edges), max_rounds)


def communities(
    src: npt.NDArray[np.int64],
    dst: npt.NDArray[np.int64],
    weight: npt.NDArray[np.float64],
    max_rounds: int = 20,
) -> list[list[int]]:
    """Communities by weighted label propagation on sparse matrices (seconds for millions of edges).

    Every round, each node takes the label carrying the most weight among its neighbours; ties go to the
    smallest label, so the result is deterministic. Returns the communities as sorted id lists,
    largest first (ties by smallest id). Edges come as three arrays (no object per edge: a big library
    has millions).
    """
    keep = src != dst
    src, dst = np.asarray(src, dtype=np.int64)[keep], np.asarray(dst, dtype=np.int64)[keep]
    if not src.size:
        return []
    w = np.maximum(np.asarray(weight, dtype=np.float64)[keep], 1e-6)
    nodes, index = np.unique(np.concatenate([src, dst]), return_inverse=True)
    n, m = len(nodes), len(src)
    i, j = index[:m], index[m:]
    adj = sparse.coo_matrix(
        (np.concatenate([w, w]), (np.concatenate([i, j]), np.concatenate([j, i]))), shape=(n, n)
    ).tocsr()
    labels = np.arange(n)
    # Semi-synchronous: even rows, then odd rows, each seeing the other half's fresh labels. Fully
    # synchronous updates oscillate (two linked nodes would swap labels forever).
    halves = [(h, adj[h]) for h in (np.arange(0, n, 2), np.arange(1, n, 2)) if h.size]
    ones, rows = np.ones(n), np.arange(n)
    for _ in range(max_rounds):
        changed = 0
        for half, sub in halves:
            votes = (sub @ sparse.csr_matrix((ones, (rows, labels)), shape=(n, n))).tocsr()
            new = _heaviest_label(votes, labels[half])
            changed += int(np.count_nonzero(new != labels[half]))
            labels[half] = new
        # Stop when (almost) nothing moves: the last stragglers do not change the picture.
        if changed <= n // 1000:
            break
    groups: dict[int, list[int]] = defaultdict(list)
    for node, label in zip(nodes.tolist(), labels.tolist(), strict=True):
        groups[label].append(node)
    return sorted((sorted(g) for g in groups.values()), key=lambda g: (-len(g), g[0]))


def _heaviest_label(
    votes: sparse.csr_matrix, current: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """Per row of ``votes`` (node × label weights), the label with the most weight, smallest on a tie.

    Vectorised over the CSR arrays: scipy's sparse ``argmax`` walks the rows in Python (10× slower at 100k
    nodes) and breaks ties by storage order, not by label. A row without votes keeps its ``current`` label.
    """
    votes.sum_duplicates()
    lengths = np.diff(votes.indptr)
    filled = lengths > 0
    starts = votes.indptr[:-1][filled]
    best = np.maximum.reduceat(votes.data, starts)
    top = votes.data == np.repeat(best, lengths[filled])
    columns = np.where(top, votes.indices.astype(np.int64), votes.shape[1])
    out = current.copy()
    out[filled] = np.minimum.reduceat(columns, starts)
    return out


__all__ = [
    "SUGGESTION_WEIGHTS",
    "Arc",
    "EdgeArrays",
    "RawEdge",
    "best_neighbours",
    "bfs",
    "communities",
    "edge_arrays",
    "energy_fit",
    "find_path",
    "hop_cost",
    "label_propagation",
    "local_mixable_graph",
    "mixable_adjacency",
    "rank_suggestions",
    "set_sequence",
    "subgraph_parts",
]
