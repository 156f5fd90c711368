"""One async engine per process, created inside the running loop, and a unit of work around it.

Handlers never commit by themselves: ``async with db.unit_of_work() as session`` commits when the block
ends without an exception and rolls back otherwise.

A database can be created closed (``Database(url, opened=False)``): sessions asked for before :meth:`open`
wait for it. The desktop app builds its window — whose views start loading at once — while the schema is
still being migrated and the services connected; if that fails, the loads keep waiting until the app
cancels them (it shows the reason and exits), so no half-started query reports a second error.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


class Database:
    """The relational database of one deployment (SQLite file or PostgreSQL)."""

    def __init__(self, url: str, *, echo: bool = False, opened: bool = True) -> None:
        self.url = url
        self._opened: asyncio.Event | None = None if opened else asyncio.Event()
        kwargs: dict[str, Any] = {"echo": echo}
        if url.startswith("sqlite"):
            # One writer at a time in SQLite; wait for the lock instead of failing at once.
            kwargs["connect_args"] = {"timeout": 30}
        else:
            kwargs.update(pool_size=10, max_overflow=10, pool_pre_ping=True)
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine.sync_engine, "connect", sqlite_pragmas)
            event.listen(self.engine.sync_engine, "connect", _sqlite_manual_transactions)
            event.listen(self.engine.sync_engine, "begin", _sqlite_begin)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._sync_engine: Engine | None = None
        self._sync_lock = threading.Lock()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def open(self) -> None:
        """Let sessions start (the schema is ready)."""
        if self._opened is not None:
            self._opened.set()

    async def wait_open(self) -> None:
        """Return once the database may be used (at once unless it was created closed)."""
        if self._opened is not None:
            await self._opened.wait()

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[AsyncSession]:
        """A session whose changes commit together at the end of the block, or not at all."""
        await self.wait_open()
        async with self._sessions() as session:
            if self.dialect == "sqlite":
                # Take the write lock up front (BEGIN IMMEDIATE): a deferred transaction that reads and
                # then writes fails at once with "database is locked" when another writer committed in
                # between (WAL snapshot rule), whatever the busy timeout.
                await session.connection(execution_options={"sqlite_immediate": True})
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for queries only (nothing is committed)."""
        await self.wait_open()
        async with self._sessions() as session:
            yield session

    async def check(self) -> None:
        """One round trip to the server (or file), whether or not the database is open yet."""
        async with self._sessions() as session:
            await session.execute(text("SELECT 1"))

    def _sync(self) -> Engine:
        with self._sync_lock:
            if self._sync_engine is None:
                url = self.engine.url.set(
                    drivername=self.engine.url.drivername.replace("+aiosqlite", "")
                )
                kwargs: dict[str, Any] = {}
                if self.dialect == "sqlite":
                    kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
                else:
                    kwargs.update(pool_size=2, max_overflow=2, pool_pre_ping=True)
                engine = create_engine(url, **kwargs)
                if self.dialect == "sqlite":
                    event.listen(engine, "connect", sqlite_pragmas)
                    event.listen(engine, "connect", _sqlite_manual_transactions)
                    event.listen(engine, "begin", _sqlite_begin)
                self._sync_engine = engine
            return self._sync_engine

    @contextmanager
    def unit_of_work_in_thread(self) -> Iterator[Connection]:
        """A connection in a transaction for a worker thread: the same commit-or-rollback as
        ``unit_of_work``, for big writes whose CPU work must stay off the event loop (the app's)."""
        with self._sync().connect() as conn:
            if self.dialect == "sqlite":
                conn = conn.execution_options(sqlite_immediate=True)  # see unit_of_work
            with conn.begin():
                yield conn

    @contextmanager
    def read_in_thread(self) -> Iterator[Connection]:
        """A connection for queries only, in a worker thread (big results stay off the loop too)."""
        with self._sync().connect() as conn:
            yield conn

    def refresh_statistics(self, table: str) -> None:
        """Let the query planner know how big ``table`` has become (blocking: call it in a thread).

        PostgreSQL plans from statistics that autovacuum refreshes only every minute or so: a table
        that grows from nothing to thousands of rows inside one scan is planned as empty, and every
        batch's look-up by path becomes a sequential scan (quadratic in the batch count). SQLite
        plans from its indexes alone and needs nothing.
        """
        if self.dialect != "postgresql":
            return
        with self._sync().connect() as conn:
            conn.execute(text(f'ANALYZE "{table}"'))
            conn.commit()

    async def close(self) -> None:
        await self.engine.dispose()
        if self._sync_engine is not None:
            self._sync_engine.dispose()


def _sqlite_manual_transactions(dbapi_connection: Any, _record: object) -> None:
    # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's own transaction handling cannot
    # do BEGIN IMMEDIATE).
    dbapi_connection.isolation_level = None


def _sqlite_begin(conn: Connection) -> None:
    immediate = conn.get_execution_options().get("sqlite_immediate", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def sqlite_pragmas(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()
