"""The graph worker's handlers: keep the similarity graph in step with analysis, moves, removals and sets.

``tracktion worker graph`` (services mode) and the in-app workers (embedded mode) load ``HANDLERS``. Each
process keeps one :class:`GraphMaintainer` (its in-memory k-NN index) per Services object.
"""

from __future__ import annotations

import logging
from typing import Any

from backend.graph.maintainer import GraphMaintainer
from backend.messaging.contracts import GraphUpdated
from backend.services import Services
from backend.worker.runtime import Handler, HandlerContext

log = logging.getLogger(__name__)

_ATTR = "_graph_maintainer"


async def maintainer_for(services: Services) -> GraphMaintainer:
    """This process's maintainer for these services (created on first use)."""
    found: GraphMaintainer | None = getattr(services, _ATTR, None)
    if found is None:
        found = GraphMaintainer(services.db, await services.graph(), services.settings.graph)
        setattr(services, _ATTR, found)
    return found


def _announce(ctx: HandlerContext, changed: Any) -> None:
    ids = tuple(sorted(int(i) for i in changed))
    if ids:
        ctx.publish(GraphUpdated(track_ids=ids))


async def on_track_analyzed(ctx: HandlerContext) -> None:
    """A track has (new) analysis: insert it in the index and rewrite the edges that moved."""
    m = await maintainer_for(ctx.services)
    _announce(ctx, await m.tracks_changed([ctx.payload.track_id]))


async def on_tracks_moved(ctx: HandlerContext) -> None:
    """Files moved: ids and audio are unchanged, but tags may have been read again — refresh them."""
    m = await maintainer_for(ctx.services)
    _announce(ctx, await m.tracks_changed(list(ctx.payload.track_ids)))


async def on_tracks_removed(ctx: HandlerContext) -> None:
    """Tracks left the library: drop their nodes and edges, re-search the tracks that listed them."""
    m = await maintainer_for(ctx.services)
    removed = list(ctx.payload.track_ids)
    changed = await m.tracks_removed(removed)
    _announce(ctx, changed | set(removed))


async def on_tracks_missing(ctx: HandlerContext) -> None:
    """A missing file (unplugged drive) keeps its place in the graph, so relinking it loses nothing."""
    log.debug("graph keeps %d missing tracks", len(ctx.payload.track_ids))


async def on_tracklist_applied(ctx: HandlerContext) -> None:
    """A recording's tracklist was applied: PLAYED_IN links and TRANSITION edges between its tracks."""
    m = await maintainer_for(ctx.services)
    played = await m.tracklist_applied(ctx.payload.track_id, ctx.payload.tracklist_id)
    _announce(ctx, set(played))


HANDLERS: dict[str, Handler] = {
    "track.analyzed": on_track_analyzed,
    "track.moved": on_tracks_moved,
    "track.removed": on_tracks_removed,
    "track.missing": on_tracks_missing,
    "tracklist.applied": on_tracklist_applied,
}

__all__ = ["HANDLERS", "maintainer_for"]
