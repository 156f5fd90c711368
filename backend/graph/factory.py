"""Open the graph store of a deployment: Neo4j in services mode, tables in the DB when embedded."""

from __future__ import annotations

from typing import TYPE_CHECKING

import neo4j.exceptions

from backend.graph.embedded import EmbeddedGraphStore
from backend.graph.neo4j_store import Neo4jGraphStore
from backend.graph.port import GraphStore

if TYPE_CHECKING:
    from backend.services import Services


async def open_graph_store(services: Services) -> GraphStore:
    """The configured store with its schema ensured; raises ServiceUnavailable when Neo4j is down."""
    from backend.services import ServiceUnavailable

    cfg = services.settings.graph
    if services.settings.mode != "services":
        embedded = EmbeddedGraphStore(
            services.db,
            tempo_tolerance_pct=cfg.tempo_tolerance_pct,
            energy_boost=cfg.energy_boost_moves,
        )
        await embedded.ensure_schema()
        return embedded
    svc = services.settings.services
    store = Neo4jGraphStore.connect(
        svc.neo4j_uri,
        svc.neo4j_user,
        svc.neo4j_password,
        svc.neo4j_database,
        tempo_tolerance_pct=cfg.tempo_tolerance_pct,
        energy_boost=cfg.energy_boost_moves,
    )
    try:
        await store.ensure_schema()
    except (neo4j.exceptions.ServiceUnavailable, neo4j.exceptions.AuthError, OSError) as exc:
        await store.close()
        raise ServiceUnavailable("Neo4j", svc.neo4j_uri, str(exc).splitlines()[0][:300]) from exc
    return store


__all__ = ["open_graph_store"]
