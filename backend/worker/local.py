"""Workers inside this process (embedded mode), and waiting for a piece of work to settle.

In embedded mode the app and every CLI command that sets work off run all worker kinds on the in-process
bus; in services mode the worker processes do it and this process only waits.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from backend.messaging.inprocess import InProcessBus
from backend.messaging.topology import WORKER_KINDS, WorkerKind
from backend.services import Services
from backend.worker.jobs import open_job_count
from backend.worker.runtime import HANDLER_MODULES, Handler, Worker, load_handlers

log = logging.getLogger(__name__)

WAIT_POLL_S = 0.1


def available_kinds() -> list[WorkerKind]:
    """Worker kinds whose handler module is part of this build."""
    kinds: list[WorkerKind] = []
    for kind in WORKER_KINDS:
        try:
            load_handlers(kind)
        except ModuleNotFoundError as exc:
            if exc.name != HANDLER_MODULES[kind]:
                raise
            log.debug("no %s handlers in this build", kind)
            continue
        kinds.append(kind)
    return kinds


@asynccontextmanager
async def local_workers(
    services: Services,
    kinds: list[WorkerKind] | None = None,
    handlers: dict[WorkerKind, dict[str, Handler]] | None = None,
) -> AsyncIterator[list[Worker]]:
    """Run the given worker kinds (default: all available) in this process for the block's duration.

    ``handlers`` replaces a kind's handler table (tests, tools); by default each kind loads its own.
    """
    handlers = handlers or {}
    workers = [Worker(services, kind, handlers.get(kind)) for kind in (kinds or available_kinds())]
    for worker in workers:
        await worker.start()
    if isinstance(services.bus, InProcessBus):
        await requeue_orphans(services, services.bus, [w.kind for w in workers])
    try:
        yield workers
    finally:
        for worker in workers:
            await worker.drain(timeout_s=5.0)


async def requeue_orphans(services: Services, bus: InProcessBus, kinds: list[WorkerKind]) -> int:
    """Publish again the open jobs an earlier process left behind (its in-process queue died with it).

    Handlers are idempotent, so a job that another live process still holds is at worst done twice in
    effect-free ways. Returns how many jobs were queued again.
    """
    from sqlalchemy import select, update

    from backend.db.models import Job
    from backend.worker.jobs import OPEN_STATUSES

    async with services.db.read() as session:
        rows = (
            await session.execute(
                select(Job.id, Job.kind, Job.payload).where(
                    Job.status.in_(OPEN_STATUSES),
                    # Later jobs were published on this bus, so they are in its queues already.
                    Job.created_at < bus.created_at,
                )
            )
        ).all()
    requeued: list[str] = []
    for job_id, kind, payload in rows:
        worker_kind = kind.split(":", 1)[0]
        message = (payload or {}).get("message")
        if worker_kind in kinds and isinstance(message, str):
            bus.requeue(worker_kind, message.encode())
            requeued.append(job_id)
    if requeued:
        async with services.db.unit_of_work() as session:
            await session.execute(update(Job).where(Job.id.in_(requeued)).values(status="queued"))
        log.info("queued %d jobs again that a stopped process had left open", len(requeued))
    return len(requeued)


async def wait_settled(
    services: Services, correlation_id: str | None, timeout_s: float | None = None
) -> None:
    """Return when no job of this correlation (or none at all) is open any more.

    Job rows are written before their messages are published, so an empty count means everything the
    correlation set off has finished (succeeded, failed or was cancelled).
    """

    async def poll() -> None:
        while True:
            bus_idle = not isinstance(services.bus, InProcessBus) or services.bus.idle()
            async with services.db.read() as session:
                open_jobs = await open_job_count(session, correlation_id)
            if open_jobs == 0 and bus_idle:
                return
            await asyncio.sleep(WAIT_POLL_S)

    await asyncio.wait_for(poll(), timeout_s)


async def wait_for_job(services: Services, job_id: str, timeout_s: float | None = None) -> str:
    """Wait until one job is no longer open; returns its final status."""
    from backend.db.models import Job
    from backend.worker.jobs import OPEN_STATUSES

    async def poll() -> str:
        while True:
            async with services.db.read() as session:
                job = await session.get(Job, job_id)
            if job is not None and job.status not in OPEN_STATUSES:
                return job.status
            await asyncio.sleep(WAIT_POLL_S)

    return await asyncio.wait_for(poll(), timeout_s)
