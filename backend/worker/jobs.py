"""Job rows: one per (message, consuming worker kind), so the app can show and `--wait` can count them.

Rows for a message are written in the same transaction as whatever caused it, before it is published; a job
is therefore never invisible while its message is in flight.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.models import Job, utcnow
from backend.messaging.contracts import Envelope, encode
from backend.messaging.topology import consumers_of

OPEN_STATUSES = ("queued", "running", "retrying")
jobs_table: Table = Job.__table__  # type: ignore[assignment]
_NAMESPACE = uuid.UUID("6f1c1f4e-8a53-4a53-9d4e-1d2b0c7f6a10")


def job_id_for(message_id: str, kind: str) -> str:
    """Deterministic job id of a message as handled by one worker kind."""
    return str(uuid.uuid5(_NAMESPACE, f"{message_id}:{kind}"))


def job_title(message: Envelope[Any]) -> str:
    payload = message.payload
    track_id = getattr(payload, "track_id", None)
    if track_id is not None:
        return f"{message.type} #{track_id}"
    ids = getattr(payload, "track_ids", None) or getattr(payload, "rel_paths", None)
    if ids is not None:
        return f"{message.type} ({len(ids)})"
    return message.type


def job_rows(messages: Sequence[Envelope[Any]]) -> list[dict[str, Any]]:
    """A queued job row for every worker kind that will receive each message (column values)."""
    now = utcnow()
    rows: list[dict[str, Any]] = []
    for message in messages:
        kinds = consumers_of(message.type)
        if not kinds:
            continue
        # The whole message, so a job orphaned by a stopped process can be published again.
        payload = {"message": encode(message).decode()}
        for kind in kinds:
            rows.append(
                {
                    "id": job_id_for(message.id, kind),
                    "kind": f"{kind}:{message.type}",
                    "status": "queued",
                    "track_id": getattr(message.payload, "track_id", None),
                    "correlation_id": message.correlation_id,
                    "title": job_title(message),
                    "payload": payload,
                    "progress": 0.0,
                    "attempts": 0,
                    "created_at": now,
                    "updated_at": now,
                }
            )
    return rows


def add_jobs_for(session: AsyncSession, messages: Sequence[Envelope[Any]]) -> None:
    """Queue the job rows of ``messages`` as ORM objects (a few messages; see ``insert_jobs``)."""
    session.add_all(Job(**row) for row in job_rows(messages))


def insert_jobs(conn: Connection, messages: Sequence[Envelope[Any]]) -> None:
    """Queue the job rows of ``messages`` with one executemany INSERT: a scan queues thousands, and
    ORM objects for them would cost more than the work they announce. Synchronous, so it can run in a
    worker thread (``enqueue``) or inside an async session (``session.run_sync``)."""
    rows = job_rows(messages)
    if rows:
        conn.execute(insert(jobs_table), rows)


async def open_job_count(session: AsyncSession, correlation_id: str | None = None) -> int:
    query = select(func.count()).select_from(Job).where(Job.status.in_(OPEN_STATUSES))
    if correlation_id is not None:
        query = query.where(Job.correlation_id == correlation_id)
    return int((await session.execute(query)).scalar_one())


async def counts_by_status(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(select(Job.status, func.count()).group_by(Job.status))
    return {status: int(n) for status, n in rows.all()}


async def cancel(session: AsyncSession, job_id: str) -> bool:
    """Mark an open job cancelled; its worker stops at the next progress check. False if not open."""
    result = await session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status.in_(OPEN_STATUSES))
        .values(status="cancelled", finished_at=utcnow(), error="cancelled by the user")
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
