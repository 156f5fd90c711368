"""Schema migrations: Alembic is the only schema source, on PostgreSQL and SQLite alike."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, create_engine, event, text
from sqlalchemy.engine import Engine

from backend.db.session import sqlite_pragmas

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def sync_url(url: str) -> str:
    """The synchronous driver URL for an async one (migrations run synchronously)."""
    return url.replace("sqlite+aiosqlite://", "sqlite://")


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", sync_url(url).replace("%", "%%"))
    return cfg


def head_revision() -> str:
    """The newest migration shipped with this version of Tracktion."""
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def make_sync_engine(url: str) -> Engine:
    engine = create_engine(sync_url(url))
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", sqlite_pragmas)
    return engine


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` to ``revision``."""
    engine = make_sync_engine(url)
    try:
        with engine.begin() as conn:
            cfg = alembic_config(url)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
    finally:
        engine.dispose()


def sqlite_backup_and_upgrade(db_file: Path, url: str) -> Path | None:
    """Migrate an existing SQLite library automatically, after a backup copy beside it.

    Returns the backup's path when a migration was needed (None for a new or current database).
    """
    if not db_file.exists():
        upgrade(url)
        return None
    engine = make_sync_engine(url)
    try:
        with engine.connect() as conn:
            current = current_revision(conn)
    finally:
        engine.dispose()
    if current == head_revision():
        return None
    backup = db_file.with_name(f"{db_file.name}.backup-{current or 'unversioned'}")
    # sqlite3's backup API copies a consistent snapshot even with WAL files present.
    src = sqlite3.connect(db_file)
    dst = sqlite3.connect(backup)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    upgrade(url)
    return backup


def upgrade_locked(url: str) -> None:
    """Upgrade a shared PostgreSQL database; an advisory lock keeps concurrent workers from racing."""
    engine = make_sync_engine(url)
    try:
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(727274)"))
            cfg = alembic_config(url)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    finally:
        engine.dispose()
