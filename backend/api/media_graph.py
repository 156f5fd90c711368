"""Graph queries of the graph view (neighbourhood, suggestions, set paths) and M3U8 playlists.

Thin adapters over the deployment's GraphStore (``await services.graph()``), re-exported by
``backend.api.media``; the view gets tracks only, with the reasons of the centre's edges attached.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from backend.db.models import LibraryRoot, Track
from backend.graph.port import SetPath, Suggestion, TrackNode
from backend.services import Services


@dataclass(frozen=True)
class GraphLinkView:
    """An edge between two tracks of the neighbourhood, with its reasons when the store gave them."""

    source: int
    target: int
    kind: str
    score: float
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class Neighbourhood:
    """The tracks around ``centre`` for the graph view, their links and their cluster ids."""

    centre: int
    nodes: tuple[TrackNode, ...]
    links: tuple[GraphLinkView, ...]
    clusters: dict[int, int] = field(default_factory=dict)


async def load_neighbourhood(
    services: Services,
    track_id: int,
    depth: int = 2,
    limit: int = 40,
    *,
    with_clusters: bool = False,
) -> Neighbourhood:
    """The subgraph around a track (tracks only), with reasons on the centre's edges.

    ``with_clusters`` adds the community of each track: a pass over the whole graph (seconds for a
    100k-track library, cached by the store), so only when the view colours by cluster.
    """
    from backend.graph.port import EDGE_KINDS

    store = await services.graph()
    sub = await store.subgraph(track_id, depth=depth, limit=limit)
    direct = await store.neighbours(track_id, limit=limit)
    reasons = {(n.track.id, n.kind): n.reasons for n in direct}
    nodes = {n.track.id: n.track for n in sub.nodes if n.kind == "track" and n.track is not None}
    for n in direct:  # the store may cap the subgraph below the direct neighbours
        nodes.setdefault(n.track.id, n.track)
    links: dict[tuple[int, int, str], GraphLinkView] = {}
    for link in sub.links:
        if link.kind not in EDGE_KINDS:
            continue
        a, b = _track_key(link.source), _track_key(link.target)
        if a is None or b is None or a not in nodes or b not in nodes:
            continue
        other = b if a == track_id else a
        why = reasons.get((other, link.kind), ()) if track_id in (a, b) else ()
        links[(a, b, link.kind)] = GraphLinkView(a, b, link.kind, float(link.score), tuple(why))
    for n in direct:
        pair = (track_id, n.track.id) if n.direction == "out" else (n.track.id, track_id)
        if (*pair, n.kind) not in links and (pair[1], pair[0], n.kind) not in links:
            links[(*pair, n.kind)] = GraphLinkView(*pair, n.kind, float(n.score), tuple(n.reasons))
    clusters: dict[int, int] = {}
    for cluster in await store.clusters() if with_clusters else ():
        for tid in cluster.track_ids:
            if tid in nodes:
                clusters[tid] = cluster.id
    return Neighbourhood(track_id, tuple(nodes.values()), tuple(links.values()), clusters)


def _track_key(key: str) -> int | None:
    kind, _, value = key.partition(":")
    return int(value) if kind == "track" and value.isdigit() else None


async def load_suggestions(services: Services, track_id: int, limit: int = 15) -> list[Suggestion]:
    """Ranked next tracks for the suggestions list."""
    store = await services.graph()
    return await store.suggestions(track_id, limit=limit)


async def plan_path(services: Services, a: int, b: int, steps: int | None = None) -> SetPath | None:
    """A set from ``a`` to ``b`` in ``steps`` hops (or the shortest); None when there is none."""
    store = await services.graph()
    return await store.path(a, b, steps=steps)


async def write_m3u8(services: Services, track_ids: Sequence[int], dest: Path) -> Path:
    """Save tracks as an extended M3U playlist (UTF-8, absolute paths) for DJ software and players."""
    async with services.db.read() as session:
        rows = {
            t.id: (t, r)
            for t, r in (
                await session.execute(
                    select(Track, LibraryRoot)
                    .join(LibraryRoot, LibraryRoot.id == Track.root_id)
                    .where(Track.id.in_(list(track_ids)))
                )
            ).all()
        }
    lines = ["#EXTM3U"]
    for tid in track_ids:
        if tid not in rows:
            continue
        track, root = rows[tid]
        name = (
            f"{track.artist} - {track.title}" if track.artist else (track.title or track.rel_path)
        )
        lines.append(f"#EXTINF:{round(track.duration_s or -1)},{name}")
        lines.append(str(Path(root.path) / track.rel_path))
    text = "\n".join(lines) + "\n"
    await asyncio.to_thread(write_text_atomic, dest, text)
    return dest


def write_text_atomic(dest: Path, text: str) -> None:
    tmp = dest.with_name(dest.name + ".tmp")
    with tmp.open(
        "w", encoding="utf-8", newline=""
    ) as handle:  # keep the CUE sheet's CRLFs as given
        handle.write(text)
    tmp.replace(dest)
