"""Many-row INSERTs without SQLAlchemy's per-row parameter machinery.

A first scan inserts one row per file (100k for a big library) with ~40 columns each. Executing a Core
``insert`` with a list of rows builds every row's parameters through the compiler's generic path, which
costs more than the database's own work on the rows. Here the statement is compiled once per table and
column set, each column's bind processor (JSON, dates on SQLite, …) is looked up once, and the driver's
executemany gets plain values: what reaches the database is what ``conn.execute(insert(table), rows)``
would send. On PostgreSQL the rows are streamed with COPY instead.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Dialect, Table, insert


@dataclass(frozen=True)
class _Plan:
    sql: str
    names: tuple[str, ...]  # parameter order of ``sql``
    positional: bool
    processors: dict[str, Callable[[Any], Any]]  # columns whose values the driver cannot take as is
    defaulted: tuple[str, ...]  # columns the rows leave out: their Python-side default is used
    copy: str | None  # the COPY statement where the driver streams rows (psycopg), else None


def insert_many(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """INSERT ``rows`` (mappings with the same keys) into ``table``: one executemany, or one COPY.

    Columns missing from the rows get their Python-side default, evaluated once for the whole call
    (one ``added_at`` for a batch); server-side defaults are left to the database.
    """
    if not rows:
        return
    plan = _plan(table, conn.dialect, tuple(rows[0]))
    defaults = {}
    for name in plan.defaulted:
        value = _default(table, name)
        process = plan.processors.get(name)
        defaults[name] = process(value) if process is not None and value is not None else value
    per_row = [(n, p) for n, p in plan.processors.items() if n not in defaults]
    pick = itemgetter(*plan.names)
    params: list[Any] = []
    for row in rows:
        values = {**row, **defaults}  # a copy: the caller's rows stay as they were
        for name, process in per_row:
            raw = values[name]
            if raw is not None:
                values[name] = process(raw)
        picked = pick(values)
        params.append(picked if len(plan.names) > 1 else (picked,))
    dbapi = conn.connection.dbapi_connection
    if plan.copy is not None and _streams_copy(dbapi):
        # PostgreSQL: COPY, in this transaction. An executemany is one INSERT per row for the server
        # and a Python round of psycopg's pipeline per row for the client; COPY is one stream.
        with dbapi.cursor().copy(plan.copy) as copy:  # type: ignore[union-attr]
            for values in params:
                copy.write_row(values)
        return
    if plan.positional:
        conn.exec_driver_sql(plan.sql, params)
    else:
        conn.exec_driver_sql(plan.sql, [dict(zip(plan.names, v, strict=True)) for v in params])


@lru_cache(maxsize=32)
def _plan(table: Table, dialect: Dialect, keys: tuple[str, ...]) -> _Plan:
    compiled = insert(table).compile(dialect=dialect, column_keys=list(keys))
    names = tuple(compiled.positiontup or ()) if compiled.positional else tuple(compiled.binds)
    processors: dict[str, Callable[[Any], Any]] = {}
    for name in names:
        process = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            processors[name] = process
    defaulted = tuple(n for n in names if n not in keys)
    copy = None
    if dialect.driver == "psycopg":
        quote = dialect.identifier_preparer
        columns = ", ".join(quote.quote(name) for name in names)
        copy = f"COPY {quote.format_table(table)} ({columns}) FROM STDIN"
    return _Plan(str(compiled), names, compiled.positional, processors, defaulted, copy)


def _streams_copy(dbapi_connection: Any) -> bool:
    """A plain (blocking) psycopg connection; an asyncio session's adapted one takes the INSERT."""
    import psycopg

    return isinstance(dbapi_connection, psycopg.Connection)


def _default(table: Table, name: str) -> Any:
    default = table.c[name].default
    arg = getattr(default, "arg", None)
    # SQLAlchemy wraps a zero-argument callable default into one taking the execution context.
    return arg(None) if callable(arg) else arg
