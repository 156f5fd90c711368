"""Alembic is the only schema source; every migration runs on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

from backend.db import migrate
from backend.db.models import Base
from tests.conftest import PG_ADMIN_URL, RUN_ID, require_service


def _tables(url: str) -> set[str]:
    engine = create_engine(migrate.sync_url(url))
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def downgrade_to_base(url: str) -> None:
    """Run every migration's downgrade, newest first."""
    from alembic import command

    engine = migrate.make_sync_engine(url)
    try:
        with engine.begin() as conn:
            cfg = migrate.alembic_config(url)
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "base")
    finally:
        engine.dispose()


def test_sqlite_upgrade_downgrade_upgrade(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'lib.sqlite3'}"
    migrate.upgrade(url)
    assert _tables(url) == set(Base.metadata.tables)
    migrate.upgrade(url, "head")  # idempotent
    downgrade_to_base(url)
    assert _tables(url) == set()
    migrate.upgrade(url)
    assert _tables(url) == set(Base.metadata.tables)


def test_postgres_upgrade_downgrade_upgrade() -> None:
    require_service("PostgreSQL", "127.0.0.1", 5432)
    name = f"tracktion_mig_{RUN_ID}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    try:
        migrate.upgrade_locked(url)
        assert _tables(url) == set(Base.metadata.tables)
        downgrade_to_base(url)
        assert _tables(url) == set()
        migrate.upgrade_locked(url)
        assert _tables(url) == set(Base.metadata.tables)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_models_match_migrations(tmp_path: Path) -> None:
    """Autogenerate finds nothing to do: the models and the migrations describe the same schema."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    url = f"sqlite:///{tmp_path / 'lib.sqlite3'}"
    migrate.upgrade(url)
    engine = migrate.make_sync_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
        )
    engine.dispose()
    assert diff == []


def test_existing_sqlite_library_is_backed_up_then_migrated(tmp_path: Path) -> None:
    db = tmp_path / "library.sqlite3"
    url = f"sqlite+aiosqlite:///{db}"
    # An older library: only the first migration applied, with a user's data in it.
    first = ScriptDirectory.from_config(migrate.alembic_config(url)).get_base()
    migrate.upgrade(url, first)
    with sqlite3.connect(db) as conn:
        conn.execute(
            "INSERT INTO library_roots (path, name, state, paused, added_at) VALUES ('/music', 'music', 'online', 0, '2026-01-01')"
        )
    assert first != migrate.head_revision(), "needs at least two migrations"
    backup = migrate.sqlite_backup_and_upgrade(db, url)
    assert backup is not None and backup.exists()
    with sqlite3.connect(backup) as conn:
        assert conn.execute("SELECT path FROM library_roots").fetchall() == [("/music",)]
    with sqlite3.connect(db) as conn:
        assert (
            conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]
            == migrate.head_revision()
        )
        assert conn.execute("SELECT path FROM library_roots").fetchall() == [("/music",)]


def test_current_sqlite_library_is_left_alone(tmp_path: Path) -> None:
    db = tmp_path / "library.sqlite3"
    url = f"sqlite+aiosqlite:///{db}"
    assert migrate.sqlite_backup_and_upgrade(db, url) is None  # new: created at head, no backup
    assert migrate.sqlite_backup_and_upgrade(db, url) is None  # current: nothing to do
    assert list(tmp_path.glob("*.backup-*")) == []
