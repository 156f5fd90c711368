"""Builds the adapters of a deployment from the settings: the only place that knows about modes.

Embedded: SQLite file (migrated automatically after a backup copy), in-process bus, in-memory cache.
Services: PostgreSQL, RabbitMQ, Redis (and Neo4j for the graph), each checked with a clear message when down.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, OperationalError

from backend.cache.memory import MemoryCache
from backend.cache.port import Cache
from backend.config import Settings, mask_url
from backend.db import migrate
from backend.db.session import Database
from backend.messaging.bus import Bus
from backend.messaging.inprocess import InProcessBus

if TYPE_CHECKING:
    from backend.graph.port import GraphStore

log = logging.getLogger(__name__)


class ServiceUnavailable(ConnectionError):
    """A server of services mode is down; ``service`` and ``url`` say which."""

    def __init__(self, service: str, url: str, detail: str) -> None:
        super().__init__(f"{service} is not reachable at {mask_url(url)}: {detail}")
        self.service = service
        self.url = mask_url(url)


@dataclass
class Services:
    """The adapters one process uses. Create with :func:`open_services`, end with :meth:`close`."""

    settings: Settings
    db: Database
    bus: Bus
    cache: Cache
    _graph: Any = None
    _closers: list[Any] = field(default_factory=list)

    @property
    def mode(self) -> str:
        return self.settings.mode

    async def graph(self) -> GraphStore:
        """The graph store of this deployment (Neo4j in services mode, tables in the DB when embedded)."""
        if self._graph is None:
            from backend.graph.factory import open_graph_store

            self._graph = await open_graph_store(self)
        return cast("GraphStore", self._graph)

    async def close(self) -> None:
        if self._graph is not None and hasattr(self._graph, "close"):
            await self._graph.close()
        await self.bus.close()
        await self.cache.close()
        await self.db.close()


def _migrate(settings: Settings) -> None:
    if settings.mode == "embedded":
        settings.ensure_dirs()
        backup = migrate.sqlite_backup_and_upgrade(settings.database_file, settings.database_url)
        if backup is not None:
            log.warning("library database upgraded; the previous version is kept at %s", backup)
    else:
        migrate.upgrade_locked(settings.database_url)


async def open_services(
    settings: Settings, *, migrate_schema: bool = True, bus: Bus | None = None
) -> Services:
    """Connect every adapter of the configured mode (raises ServiceUnavailable naming what is down)."""
    if migrate_schema:
        try:
            await asyncio.to_thread(_migrate, settings)
        except (OperationalError, DBAPIError) as exc:
            raise ServiceUnavailable("PostgreSQL", settings.database_url, _first_line(exc)) from exc
    db = Database(settings.database_url)
    try:
        async with db.read() as session:
            await session.execute(text("SELECT 1"))
    except (OperationalError, DBAPIError, OSError) as exc:
        await db.close()
        name = "PostgreSQL" if settings.mode == "services" else "SQLite"
        raise ServiceUnavailable(name, settings.database_url, _first_line(exc)) from exc
    cache: Cache
    if settings.mode == "services":
        from backend.cache.redis_cache import RedisCache
        from backend.messaging.rabbitmq import RabbitBus

        svc = settings.services
        cache = RedisCache(svc.redis_url, svc.redis_prefix)
        try:
            await cache.ping()
        except ConnectionError as exc:
            await db.close()
            raise ServiceUnavailable("Redis", svc.redis_url, str(exc)) from exc
        bus = bus or RabbitBus(svc.amqp_url, svc.amqp_exchange_prefix)
    else:
        cache = MemoryCache()
        bus = bus or InProcessBus()
    try:
        await bus.start()
    except ConnectionError as exc:
        await db.close()
        await cache.close()
        raise ServiceUnavailable("RabbitMQ", settings.services.amqp_url, str(exc)) from exc
    return Services(settings=settings, db=db, bus=bus, cache=cache)


def _first_line(exc: BaseException) -> str:
    return str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:300]
