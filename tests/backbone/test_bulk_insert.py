"""``insert_many`` stores exactly what a Core INSERT stores, in both databases (dates, JSON, booleans,
defaults), so the catalog's fast path and every other writer agree on what a row holds."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import Table, insert, select

from backend.api.folders import add_root
from backend.db.bulk import insert_many
from backend.db.models import Track
from backend.services import Services

pytestmark = pytest.mark.services

tracks: Table = Track.__table__  # type: ignore[assignment]


def _row(root_id: int, rel_path: str) -> dict[str, Any]:
    return {
        "root_id": root_id,
        "rel_path": rel_path,
        "size": 1234,
        "mtime": 1700000000.25,
        "fingerprint": "ab" * 16,
        "title": "Café – ünïcode",
        "comment": "tab\there, new\nline, back\\slash, 'quote' \"double\", \\N, 100%",
        "compilation": True,
        "has_cover": False,
        "extra_tags": {"artists": ["A", "B"], "mood": 'dark\t\\n "x"'},
        "missing_since": dt.datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=dt.UTC),
        "bpm_tag": None,
    }


def _compared(row: Any) -> dict[str, Any]:
    values = dict(row._mapping)
    for key in ("id", "rel_path", "added_at", "updated_at"):
        values.pop(key)
    return values


async def test_insert_many_stores_what_a_core_insert_stores(
    services: Services, tmp_path: Any
) -> None:
    root = await add_root(services, tmp_path)
    before = dt.datetime.now(dt.UTC)
    with services.db.unit_of_work_in_thread() as conn:  # PostgreSQL: COPY
        conn.execute(insert(tracks), [_row(root.id, "core.mp3")])
        insert_many(conn, tracks, [_row(root.id, "bulk-1.mp3"), _row(root.id, "bulk-2.mp3")])
    async with services.db.unit_of_work() as session:  # a handler's session: executemany
        await session.run_sync(
            lambda sync: insert_many(sync.connection(), tracks, [_row(root.id, "in-session.mp3")])
        )
    with services.db.read_in_thread() as conn:
        rows = {r.rel_path: r for r in conn.execute(select(tracks))}

    assert set(rows) == {"core.mp3", "bulk-1.mp3", "bulk-2.mp3", "in-session.mp3"}
    reference = _compared(rows["core.mp3"])
    assert reference["extra_tags"] == {"artists": ["A", "B"], "mood": 'dark\t\\n "x"'}
    assert (
        reference["comment"] == "tab\there, new\nline, back\\slash, 'quote' \"double\", \\N, 100%"
    )
    assert reference["compilation"] is True
    for path in ("bulk-1.mp3", "bulk-2.mp3", "in-session.mp3"):
        assert _compared(rows[path]) == reference
    # Left-out columns get their defaults: status "ok", and one timestamp for the whole call.
    bulk = rows["bulk-1.mp3"]
    assert bulk.status == "ok" and bulk.is_mix is False
    assert bulk.added_at == rows["bulk-2.mp3"].added_at
    added = bulk.added_at if bulk.added_at.tzinfo else bulk.added_at.replace(tzinfo=dt.UTC)
    assert added >= before - dt.timedelta(seconds=1)


async def test_insert_many_of_nothing_writes_nothing(services: Services) -> None:
    with services.db.unit_of_work_in_thread() as conn:
        insert_many(conn, tracks, [])
    with services.db.read_in_thread() as conn:
        assert conn.execute(select(tracks.c.id)).all() == []


async def test_refreshed_statistics_tell_the_planner_the_table_size(
    services: Services, tmp_path: Any
) -> None:
    """A first scan fills an empty table. PostgreSQL plans the batches' look-ups by path from its
    statistics, which still say "empty" until autovacuum comes by: once refreshed, they hold the
    table's real size (SQLite plans by its indexes alone: nothing to refresh, nothing fails)."""
    from sqlalchemy import text

    root = await add_root(services, tmp_path)
    with services.db.unit_of_work_in_thread() as conn:
        insert_many(conn, tracks, [_row(root.id, f"{i:05d}.mp3") for i in range(3000)])
    services.db.refresh_statistics("tracks")
    if services.db.dialect == "postgresql":
        with services.db.read_in_thread() as conn:
            estimate = conn.execute(
                text("SELECT reltuples FROM pg_class WHERE relname = 'tracks'")
            ).scalar_one()
        assert estimate == 3000
