"""The catalog worker's handlers: file events from the watcher, and scan requests.

Each one is idempotent: cataloguing compares what is on disk with what is stored, so a redelivered
message finds nothing left to change. Track events and analysis requests go out through ``ctx.publish``,
i.e. only after the job has committed.
"""

from __future__ import annotations

from sqlalchemy import select

from backend.catalog.scanner import Cataloguer
from backend.db.models import LibraryRoot
from backend.messaging.contracts import FilesChanged, FilesDeleted, Payload, ScanRequested
from backend.worker.runtime import Handler, HandlerContext


def _cataloguer(ctx: HandlerContext, settle_s: float | None = None, *, exact: bool) -> Cataloguer:
    """``exact``: write through ``ctx.transaction`` so changes and their events commit together.

    Used for watcher batches (a hundred paths: one transaction). A root scan commits many batches; if it
    fails half-way the retry must redo the rest, which the inbox of ``ctx.transaction`` would prevent, so
    it writes directly and relies on being idempotent (files already catalogued are unchanged).
    """

    async def emit(payloads: list[Payload]) -> None:
        for payload in payloads:
            ctx.publish(payload)

    return Cataloguer(
        ctx.services,
        emit,
        settle_s=settle_s,
        transaction=ctx.transaction if exact else None,
        checkpoint=ctx.progress,  # the job row's progress bar; raises if the user cancelled the job
    )


async def _active(ctx: HandlerContext, root_id: int) -> bool:
    """Work on a root only while it exists and is not paused (events may arrive after a pause)."""
    async with ctx.services.db.read() as session:
        paused = (
            await session.execute(select(LibraryRoot.paused).where(LibraryRoot.id == root_id))
        ).scalar_one_or_none()
    return paused is False


async def handle_changed(ctx: HandlerContext) -> None:
    """Files created or modified (already stable: the watcher waited the settle window)."""
    payload: FilesChanged = ctx.payload
    if await _active(ctx, payload.root_id):
        await _cataloguer(ctx, 0.0, exact=True).changed(payload.root_id, payload.rel_paths)


async def handle_deleted(ctx: HandlerContext) -> None:
    """Files or folders gone: their tracks are marked missing (unless the whole root went offline)."""
    payload: FilesDeleted = ctx.payload
    if await _active(ctx, payload.root_id):
        await _cataloguer(ctx, 0.0, exact=True).deleted(payload.root_id, payload.rel_paths)


async def handle_scan(ctx: HandlerContext) -> None:
    """Re-scan a root (the watcher asks at start-up, when a root comes back, or after an overflow)."""
    payload: ScanRequested = ctx.payload
    if await _active(ctx, payload.root_id):
        await _cataloguer(ctx, exact=False).scan(payload.root_id, full=payload.full)


HANDLERS: dict[str, Handler] = {
    FilesChanged.TYPE: handle_changed,
    FilesDeleted.TYPE: handle_deleted,
    ScanRequested.TYPE: handle_scan,
}
