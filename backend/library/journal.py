"""The edit journal: every tag edit with its old and new value, in batches that undo and redo together.

Undo takes the newest batch that is not undone; redo the oldest undone batch newer than every live one.
A new edit discards the redo history (as in every editor), so redo never resurrects a stale value.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.models import EditJournal


@dataclass(frozen=True)
class JournalEntry:
    """One field of one track in a batch."""

    track_id: int
    field: str
    old_value: Any
    new_value: Any


def new_batch_id() -> str:
    return str(uuid.uuid4())


async def record(
    session: AsyncSession,
    batch_id: str,
    track_id: int,
    old: Mapping[str, Any],
    new: Mapping[str, Any],
) -> None:
    """Journal the fields of one track written in ``batch_id`` (drops the redo history first)."""
    await session.execute(delete(EditJournal).where(EditJournal.undone.is_(True)))
    for name, value in new.items():
        session.add(
            EditJournal(
                batch_id=batch_id,
                track_id=track_id,
                field=name,
                old_value=old.get(name),
                new_value=value,
            )
        )


async def _batch(session: AsyncSession, undone: bool) -> tuple[str, list[JournalEntry]] | None:
    agg = func.max(EditJournal.id) if not undone else func.min(EditJournal.id)
    last = (
        await session.execute(select(agg).where(EditJournal.undone.is_(undone)))
    ).scalar_one_or_none()
    if last is None:
        return None
    batch_id = (
        await session.execute(select(EditJournal.batch_id).where(EditJournal.id == last))
    ).scalar_one()
    rows = (
        (
            await session.execute(
                select(EditJournal).where(EditJournal.batch_id == batch_id).order_by(EditJournal.id)
            )
        )
        .scalars()
        .all()
    )
    entries = [JournalEntry(r.track_id, r.field, r.old_value, r.new_value) for r in rows]
    return batch_id, entries


async def last_done(session: AsyncSession) -> tuple[str, list[JournalEntry]] | None:
    """The batch an undo would revert."""
    return await _batch(session, undone=False)


async def first_undone(session: AsyncSession) -> tuple[str, list[JournalEntry]] | None:
    """The batch a redo would re-apply."""
    return await _batch(session, undone=True)


async def mark_tracks(
    session: AsyncSession, batch_id: str, track_ids: list[int], undone: bool
) -> None:
    """Flag the rows of ``batch_id`` for these tracks undone (or done again)."""
    await session.execute(
        update(EditJournal)
        .where(EditJournal.batch_id == batch_id, EditJournal.track_id.in_(track_ids))
        .values(undone=undone)
    )


async def history(session: AsyncSession, limit: int = 50) -> list[dict[str, Any]]:
    """The newest journal rows (for a history panel and tests)."""
    rows = (
        (await session.execute(select(EditJournal).order_by(EditJournal.id.desc()).limit(limit)))
        .scalars()
        .all()
    )
    return [
        {
            "batch_id": r.batch_id,
            "track_id": r.track_id,
            "field": r.field,
            "old": r.old_value,
            "new": r.new_value,
            "undone": r.undone,
        }
        for r in rows
    ]
