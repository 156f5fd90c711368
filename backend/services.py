"""Builds the adapters of a deployment from the settings: the only place that knows about modes.

Embedded: SQLite file (migrated automatically after a backup copy), in-process bus, in-memory cache.
Services: PostgreSQL, RabbitMQ, Redis (and Neo4j for the graph), each checked with a clear message when down.

Opening has two steps so the desktop app can show its window before any I/O: :func:`prepare_services`
builds the adapters (nothing connects yet), :func:`connect_services` migrates, checks and connects them.
:func:`open_services` does both. The heavy drivers (SQLAlchemy's engine, Alembic, redis, aio-pika) are
imported by those functions, not by this module, so ``from backend.services import Services`` is cheap.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from backend.config import Settings, mask_url

if TYPE_CHECKING:
    from backend.cache.port import Cache
    from backend.db.session import Database
    from backend.graph.port import GraphStore
    from backend.messaging.bus import Bus

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

    async def connected(self) -> None:
        """Return once :func:`connect_services` has finished (never, if it failed)."""
        await self.db.wait_open()

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
    from backend.db import migrate

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
    services = prepare_services(settings, bus=bus)
    await connect_services(services, migrate_schema=migrate_schema)
    return services


def prepare_services(settings: Settings, *, bus: Bus | None = None) -> Services:
    """The adapters of the configured mode, not connected yet (no I/O: engines and clients connect lazily).

    Database sessions asked for before :func:`connect_services` has migrated the schema wait for it (and
    keep waiting if it fails: their owner cancels them); the bus and the cache must not be used before
    it returns (:meth:`Services.connected` waits for that).
    """
    from backend.db.session import Database

    cache: Cache
    if settings.mode == "services":
        from backend.cache.redis_cache import RedisCache
        from backend.messaging.rabbitmq import RabbitBus

        svc = settings.services
        cache = RedisCache(svc.redis_url, svc.redis_prefix)
        bus = bus or RabbitBus(svc.amqp_url, svc.amqp_exchange_prefix)
    else:
        from backend.cache.memory import MemoryCache
        from backend.messaging.inprocess import InProcessBus

        cache = MemoryCache()
        bus = bus or InProcessBus()
    db = Database(settings.database_url, opened=False)
    return Services(settings=settings, db=db, bus=bus, cache=cache)


async def connect_services(services: Services, *, migrate_schema: bool = True) -> None:
    """Migrate the schema, then check the database and connect cache and bus (closes all on failure)."""
    from sqlalchemy.exc import DBAPIError, OperationalError

    settings = services.settings
    try:
        if migrate_schema:
            try:
                await asyncio.to_thread(_migrate, settings)
            except (OperationalError, DBAPIError) as exc:
                raise ServiceUnavailable(
                    "PostgreSQL", settings.database_url, _first_line(exc)
                ) from exc
        try:
            await services.db.check()
        except (OperationalError, DBAPIError, OSError) as exc:
            name = "PostgreSQL" if settings.mode == "services" else "SQLite"
            raise ServiceUnavailable(name, settings.database_url, _first_line(exc)) from exc
        if settings.mode == "services":
            try:
                await services.cache.ping()
            except ConnectionError as exc:
                url = settings.services.redis_url
                raise ServiceUnavailable("Redis", url, str(exc)) from exc
        try:
            await services.bus.start()
        except ConnectionError as exc:
            url = settings.services.amqp_url
            raise ServiceUnavailable("RabbitMQ", url, str(exc)) from exc
        services.db.open()
    except BaseException:
        await services.db.close()
        await services.cache.close()
        raise


def _first_line(exc: BaseException) -> str:
    return str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:300]
