"""Open the graph store of a deployment: Neo4j in services mode, tables in the DB when embedded.

The Neo4j driver (~1 s to import) is imported only in services mode: the desktop app in embedded mode
never loads it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from backend.graph.port import GraphStore
    from backend.services import Services


async def open_graph_store(services: Services) -> GraphStore:
    """The configured store with its schema ensured; raises ServiceUnavailable when Neo4j is down."""
    cfg = services.settings.graph
    if services.settings.mode != "services":
        from backend.graph.embedded import EmbeddedGraphStore

        embedded = EmbeddedGraphStore(
            services.db,
            tempo_tolerance_pct=cfg.tempo_tolerance_pct,
            energy_boost=cfg.energy_boost_moves,
        )
        await embedded.ensure_schema()
        return embedded
    return await _open_neo4j(services)


async def _open_neo4j(services: Services) -> GraphStore:
    import neo4j.exceptions

    from backend.graph.neo4j_store import Neo4jGraphStore
    from backend.services import ServiceUnavailable

    cfg = services.settings.graph
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
