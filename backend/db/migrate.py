"""Schema migrations: Alembic is the only schema source, on PostgreSQL and SQLite alike.

Every start checks the database's revision, and almost always it is already at head. That check reads the
``alembic_version`` table and the ``revision`` lines of the shipped migration files directly, so a current
database costs no Alembic import (~0.35 s) and no migration context; Alembic runs only when there is
something to migrate.
"""

from __future__ import annotations

import ast
import re
import sqlite3
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from backend.db.session import sqlite_pragmas

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
VERSION_TABLE = "alembic_version"  # Alembic's default, which env.py keeps
# `revision = "0002"`, `down_revision: str | None = "0001"` (with or without a type annotation).
_REVISION_LINE = re.compile(r"^(down_revision|revision)\s*(?::[^=\n]*)?=\s*(.+)$", re.MULTILINE)


def sync_url(url: str) -> str:
    """The synchronous driver URL for an async one (migrations run synchronously)."""
    return url.replace("sqlite+aiosqlite://", "sqlite://")


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", sync_url(url).replace("%", "%%"))
    return cfg


@cache
def head_revision() -> str:
    """The newest migration shipped with this version of Tracktion (read from the version files)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        values = dict(_REVISION_LINE.findall(path.read_text(encoding="utf-8")))
        if "revision" not in values:
            continue
        revisions.add(str(ast.literal_eval(values["revision"])))
        down = ast.literal_eval(values.get("down_revision", "None"))
        parents.update([down] if isinstance(down, str) else (down or ()))
    heads = revisions - parents
    if len(heads) != 1:
        raise RuntimeError(f"the migrations must have one head, found {sorted(heads) or 'none'}")
    return heads.pop()


def current_revision(connection: Connection) -> str | None:
    """The revision the database is at (None: no version table, i.e. a new or foreign database)."""
    try:
        with connection.begin_nested():
            return connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()
    except DBAPIError:
        return None


def sqlite_revision(db_file: Path) -> str | None:
    """The revision of an SQLite library, read with the standard library alone (no engine)."""
    conn = sqlite3.connect(db_file)
    try:
        row = conn.execute(f"SELECT version_num FROM {VERSION_TABLE}").fetchone()
    except sqlite3.OperationalError:  # no version table yet
        return None
    finally:
        conn.close()
    return str(row[0]) if row else None


def make_sync_engine(url: str) -> Engine:
    engine = create_engine(sync_url(url))
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", sqlite_pragmas)
    return engine


def _alembic_upgrade(conn: Connection, url: str, revision: str) -> None:
    from alembic import command

    cfg = alembic_config(url)
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, revision)


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` to ``revision``."""
    engine = make_sync_engine(url)
    try:
        with engine.begin() as conn:
            _alembic_upgrade(conn, url, revision)
    finally:
        engine.dispose()


def sqlite_backup_and_upgrade(db_file: Path, url: str) -> Path | None:
    """Migrate an existing SQLite library automatically, after a backup copy beside it.

    Returns the backup's path when a migration was needed (None for a new or current database).
    """
    if not db_file.exists():
        upgrade(url)
        return None
    current = sqlite_revision(db_file)
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
        with engine.connect() as conn:
            if current_revision(conn) == head_revision():
                return  # the usual case: nothing to lock, nothing to run
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(727274)"))
            _alembic_upgrade(conn, url, "head")
    finally:
        engine.dispose()
