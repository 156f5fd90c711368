"""The consumer skeleton every worker kind runs, in a worker process or inside the app.

Per delivery: validate → skip if already processed (inbox) → mark the job running → run the handler under a
timeout → in one transaction record the inbox row, the follow-up messages' job rows and the job's end →
publish the follow-ups → ack. Transient failures retry with backoff; poison messages and those that keep
failing are dead-lettered with the reason on the job. SIGTERM drains: no new deliveries, in-flight ones finish.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
import socket
import time
import traceback
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import case, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.models import Job, ProcessedMessage, WorkerHeartbeat, utcnow
from backend.messaging.bus import Delivery
from backend.messaging.contracts import (
    Envelope,
    InvalidMessage,
    JobUpdated,
    Payload,
    decode,
    encode,
)
from backend.messaging.topology import ORDERED_KINDS, WorkerKind
from backend.worker.errors import JobCancelled, PermanentError, TransientError
from backend.worker.jobs import insert_jobs, job_id_for, job_title

if TYPE_CHECKING:
    from backend.services import Services

log = logging.getLogger(__name__)

Handler = Callable[["HandlerContext"], Awaitable[None]]

# Where each worker kind's handlers live: a module exposing HANDLERS = {message type: handler}.
HANDLER_MODULES: dict[WorkerKind, str] = {
    "catalog": "backend.catalog.handler",
    "analysis": "backend.analysis.handler",
    "tracklists": "backend.tracklists.handler",
    "graph": "backend.graph.handler",
}

PROGRESS_INTERVAL_S = 0.5
RUNNING_MARK_DELAY_S = 0.25


def load_handlers(kind: WorkerKind) -> dict[str, Handler]:
    module = importlib.import_module(HANDLER_MODULES[kind])
    handlers: dict[str, Handler] = module.HANDLERS
    return handlers


class AlreadyProcessed(Exception):
    """Another delivery of the same message committed first (a broker redelivery raced this one)."""


@dataclass
class HandlerContext:
    """What a handler gets: its message, the services, and ways to publish, write and report progress.

    Exactly-once effect: the first ``transaction()`` of a handler also records the message in the inbox, and
    every transaction records the follow-ups queued so far (with their job rows), all in the same commit. A
    handler that does its writes in one transaction is therefore applied once even when the broker delivers
    the message twice at the same time.
    """

    message: Envelope[Any]
    kind: WorkerKind
    job_id: str
    services: Services
    worker: Worker | None = None
    outbox: list[Envelope[Any]] = field(default_factory=list)
    inbox_written: bool = False
    marked_running: bool = False  # this attempt is counted on the job row
    recorded: int = 0  # how many outbox messages have job rows + are stored in the inbox row
    _last_progress: float = 0.0

    @property
    def payload(self) -> Any:
        return self.message.payload

    def publish(self, payload: Payload) -> Envelope[Any]:
        """Queue a follow-up message; it is published only after the job's writes commit.

        Call it before (or inside) the transaction that makes the change it announces.
        """
        envelope = self.message.caused(payload)
        self.outbox.append(envelope)
        return envelope

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A unit of work for the handler's writes (commits at the end of the block, with the inbox row)."""
        try:
            async with self.services.db.unit_of_work() as session:
                yield session
                await self.record(session)
        except IntegrityError:
            if await self.already_processed():
                raise AlreadyProcessed(self.message.id) from None
            raise
        self.inbox_written = True
        self.recorded = len(self.outbox)

    async def record(self, session: AsyncSession) -> None:
        """Write the inbox row and the follow-ups' job rows into ``session`` (before its commit)."""
        encoded = [encode(m).decode() for m in self.outbox]
        if not self.inbox_written:
            session.add(
                ProcessedMessage(message_id=self.message.id, handler=self.kind, outbox=encoded)
            )
        else:
            await session.execute(
                update(ProcessedMessage)
                .where(
                    ProcessedMessage.message_id == self.message.id,
                    ProcessedMessage.handler == self.kind,
                )
                .values(outbox=encoded)
            )
        outbox = self.outbox[self.recorded :]
        if outbox:
            await session.run_sync(lambda sync: insert_jobs(sync.connection(), outbox))
        await self.worker_mark_done(session)
        await session.flush()

    async def worker_mark_done(self, session: AsyncSession) -> None:
        if self.worker is not None:
            await self.worker.mark_done(session, self)

    async def already_processed(self) -> bool:
        async with self.services.db.read() as session:
            return await session.get(ProcessedMessage, (self.message.id, self.kind)) is not None

    async def progress(self, fraction: float, *, force: bool = False) -> None:
        """Report progress (0..1), throttled; raises JobCancelled if the user cancelled the job."""
        now = time.monotonic()
        if not force and now - self._last_progress < PROGRESS_INTERVAL_S:
            return
        self._last_progress = now
        async with self.services.db.unit_of_work() as session:
            status = (
                await session.execute(select(Job.status).where(Job.id == self.job_id))
            ).scalar_one_or_none()
            if status == "cancelled":
                raise JobCancelled(self.job_id)
            await session.execute(
                update(Job)
                .where(Job.id == self.job_id)
                .values(progress=max(0.0, min(1.0, fraction)))
            )
        await self.services.bus.publish(
            [self.message.caused(JobUpdated(self.job_id, self.kind, "running", fraction))]
        )


class Worker:
    """Consumes one worker kind's queue with bounded concurrency."""

    def __init__(
        self,
        services: Services,
        kind: WorkerKind,
        handlers: dict[str, Handler] | None = None,
        *,
        concurrency: int | None = None,
    ) -> None:
        self.services = services
        self.kind = kind
        self.handlers = handlers if handlers is not None else load_handlers(kind)
        cfg = services.settings.worker
        self.concurrency = concurrency or (1 if kind in ORDERED_KINDS else cfg.concurrency)
        self.timeout_s = cfg.job_timeout_s
        self.max_attempts = cfg.max_attempts
        self.name = f"{kind}@{socket.gethostname()}:{os.getpid()}"
        self._in_flight: set[asyncio.Task[None]] = set()
        self._heartbeat: asyncio.Task[None] | None = None
        self.jobs_done = 0
        self.jobs_failed = 0

    async def start(self) -> None:
        await self._beat("running")
        self._heartbeat = asyncio.create_task(self._heartbeat_loop())
        await self.services.bus.consume(self.kind, self._on_delivery, self.concurrency)
        log.info("worker %s consuming (concurrency %d)", self.name, self.concurrency)

    async def drain(self, timeout_s: float = 60.0) -> None:
        """Stop taking messages, let in-flight ones finish (unfinished ones are redelivered later)."""
        await self._beat("draining")
        await self.services.bus.stop_consuming()
        if self._in_flight:
            await asyncio.wait(set(self._in_flight), timeout=timeout_s)
        if self._heartbeat is not None:
            self._heartbeat.cancel()
        await self._beat("stopped")

    async def _heartbeat_loop(self) -> None:
        while True:
            await asyncio.sleep(self.services.settings.worker.heartbeat_s)
            try:
                await self._beat("running")
            except Exception as exc:  # the database may be down; the worker keeps going
                log.warning("heartbeat failed: %s", exc)

    async def _beat(self, state: str) -> None:
        async with self.services.db.unit_of_work() as session:
            row = await session.get(WorkerHeartbeat, self.name)
            if row is None:
                row = WorkerHeartbeat(
                    name=self.name, kind=self.kind, host=socket.gethostname(), pid=os.getpid()
                )
                session.add(row)
            row.beat_at = utcnow()
            row.state = state
            row.jobs_done = self.jobs_done
            row.jobs_failed = self.jobs_failed

    async def _on_delivery(self, delivery: Delivery) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._in_flight.add(task)
        try:
            await self._process(delivery)
        finally:
            if task is not None:
                self._in_flight.discard(task)

    async def _process(self, delivery: Delivery) -> None:
        try:
            message = decode(delivery.body)
        except InvalidMessage as exc:
            await self._dead_invalid(delivery, str(exc))
            return
        job_id = job_id_for(message.id, self.kind)
        handler = self.handlers.get(message.type)
        if handler is None:
            await self._finish(
                message, job_id, "dead", f"no {self.kind} handler for {message.type}"
            )
            await delivery.dead_letter(f"no {self.kind} handler for {message.type}")
            return
        if await self._replay_if_processed(message, job_id):
            await delivery.ack()
            return
        if await self._cancelled(job_id):
            await delivery.ack()  # cancelled before it started
            return
        ctx = HandlerContext(message, self.kind, job_id, self.services, worker=self)
        try:
            await self._run_handler(handler, ctx)
        except JobCancelled:
            await self._finish(message, job_id, "cancelled", "cancelled by the user", ctx)
            await delivery.ack()
            return
        except AlreadyProcessed:
            log.info("%s: %s was completed by a concurrent delivery", self.kind, message.id)
            await delivery.ack()
            return
        except PermanentError as exc:
            await self._give_up(delivery, ctx, exc.reason)
            return
        except (InvalidMessage, ValueError, TypeError, KeyError) as exc:
            await self._give_up(delivery, ctx, f"{type(exc).__name__}: {exc}")
            return
        except TimeoutError:
            await self._retry_or_give_up(
                delivery, ctx, f"timed out after {self.timeout_s:g} s", None
            )
            return
        except TransientError as exc:
            await self._retry_or_give_up(delivery, ctx, exc.reason, exc.retry_after_s)
            return
        except Exception as exc:
            log.error(
                "handler %s failed on %s:\n%s", self.kind, message.type, traceback.format_exc()
            )
            await self._retry_or_give_up(delivery, ctx, f"{type(exc).__name__}: {exc}", None)
            return
        try:
            await self._complete(ctx)
        except AlreadyProcessed:
            await delivery.ack()
            return
        await self.services.bus.publish(ctx.outbox)
        await self._announce(message, job_id, "done", None)
        await delivery.ack()
        self.jobs_done += 1

    async def _replay_if_processed(self, message: Envelope[Any], job_id: str) -> bool:
        """A redelivered message already committed: re-publish its follow-ups, change nothing else."""
        async with self.services.db.read() as session:
            row = await session.get(ProcessedMessage, (message.id, self.kind))
        if row is None:
            return False
        stored = [decode(raw.encode()) for raw in (row.outbox or [])]
        async with self.services.db.unit_of_work() as session:
            # The inbox row proves the work committed; the job may not say so yet if that delivery died.
            await session.execute(
                update(Job)
                .where(Job.id == job_id, Job.status.in_(("queued", "running", "retrying")))
                .values(status="done", progress=1.0, error=None, finished_at=utcnow())
            )
        await self.services.bus.publish(stored)
        log.info("%s already processed %s; follow-ups re-published", self.kind, message.id)
        return True

    async def _cancelled(self, job_id: str) -> bool:
        async with self.services.db.read() as session:
            status = (
                await session.execute(select(Job.status).where(Job.id == job_id))
            ).scalar_one_or_none()
        return status == "cancelled"

    async def _run_handler(self, handler: Handler, ctx: HandlerContext) -> None:
        """Run under the job timeout; only a job still running after a moment is marked "running".

        Most jobs finish in milliseconds: for them the separate "running" commit would double the cost.
        """
        task = asyncio.ensure_future(handler(ctx))
        try:
            done, _ = await asyncio.wait({task}, timeout=min(RUNNING_MARK_DELAY_S, self.timeout_s))
            if not done:
                await self._mark_running(ctx)
                await asyncio.wait_for(asyncio.shield(task), self.timeout_s - RUNNING_MARK_DELAY_S)
            await task
        finally:
            if not task.done():
                task.cancel()

    async def _job_row(self, session: AsyncSession, ctx: HandlerContext) -> Job:
        job = await session.get(Job, ctx.job_id)
        if job is None:
            job = Job(
                id=ctx.job_id,
                kind=f"{self.kind}:{ctx.message.type}",
                correlation_id=ctx.message.correlation_id,
                title=job_title(ctx.message),
                track_id=getattr(ctx.message.payload, "track_id", None),
                attempts=0,
            )
            session.add(job)
        if not ctx.marked_running:
            # This attempt starts counting now (it was not marked running while it ran).
            job.attempts = (job.attempts or 0) + 1
            job.started_at = utcnow()
            job.worker = self.name
            job.payload = {"message": encode(ctx.message).decode()}
            ctx.marked_running = True
        return job

    async def _mark_running(self, ctx: HandlerContext) -> None:
        """Show a long job as running. Runs concurrently with the handler, so it must never overwrite
        the end the handler may have committed meanwhile: the status changes only if still open."""
        if ctx.marked_running:
            return
        ctx.marked_running = True  # this attempt is counted here, not by mark_done
        async with self.services.db.unit_of_work() as session:
            if await session.get(Job, ctx.job_id) is None:
                await self._job_row(session, ctx)  # a message published without a job row
                await session.flush()
            await session.execute(
                update(Job)
                .where(Job.id == ctx.job_id)
                .values(
                    attempts=Job.attempts + 1,
                    started_at=utcnow(),
                    worker=self.name,
                    payload={"message": encode(ctx.message).decode()},
                    status=case(
                        (Job.status.in_(("queued", "retrying")), "running"), else_=Job.status
                    ),
                )
                .execution_options(synchronize_session=False)
            )
            status = (
                await session.execute(select(Job.status).where(Job.id == ctx.job_id))
            ).scalar_one()
        if status == "running":
            await self._announce(ctx.message, ctx.job_id, "running", None)

    async def mark_done(self, session: AsyncSession, ctx: HandlerContext) -> None:
        """Inside the handler's commit: the job is done together with its writes."""
        job = await self._job_row(session, ctx)
        job.status = "done"
        job.progress = 1.0
        job.error = None
        job.finished_at = utcnow()

    async def _complete(self, ctx: HandlerContext) -> None:
        """Mark the job done, with the inbox row and follow-ups if the handler's transactions did not."""
        if ctx.inbox_written and ctx.recorded == len(ctx.outbox):
            return  # the handler's last transaction recorded everything, the job's end included
        try:
            async with self.services.db.unit_of_work() as session:
                await ctx.record(session)
        except IntegrityError:
            if await ctx.already_processed():
                raise AlreadyProcessed(ctx.message.id) from None
            raise

    async def _finish(
        self,
        message: Envelope[Any],
        job_id: str,
        status: str,
        error: str,
        ctx: HandlerContext | None = None,
    ) -> None:
        try:
            async with self.services.db.unit_of_work() as session:
                job = await (self._job_row(session, ctx) if ctx else session.get(Job, job_id))
                if job is None:
                    job = Job(
                        id=job_id,
                        kind=f"{self.kind}:{message.type}",
                        correlation_id=message.correlation_id,
                        title=job_title(message),
                        payload={"message": encode(message).decode()},
                    )
                    session.add(job)
                job.status = status
                job.error = error
                if status in ("dead", "cancelled", "done"):
                    job.finished_at = utcnow()
        except Exception as exc:  # recording the failure must not lose the message
            log.error("could not record job %s as %s: %s", job_id, status, exc)
        await self._announce(message, job_id, status, error)

    async def _announce(
        self, message: Envelope[Any], job_id: str, status: str, error: str | None
    ) -> None:
        try:
            track_id = getattr(message.payload, "track_id", None)
            event = JobUpdated(
                job_id, self.kind, status, 1.0 if status == "done" else 0.0, error, track_id
            )
            await self.services.bus.publish([message.caused(event)])
        except Exception as exc:
            log.warning("could not publish job update: %s", exc)

    async def _retry_or_give_up(
        self, delivery: Delivery, ctx: HandlerContext, reason: str, retry_after_s: float | None
    ) -> None:
        if delivery.attempt >= self.max_attempts:
            await self._give_up(
                delivery, ctx, f"{reason} (gave up after {delivery.attempt} attempts)"
            )
            return
        cfg = self.services.settings.worker
        backoff = cfg.retry_base_delay_s * 2 ** (delivery.attempt - 1)
        delay = retry_after_s or min(cfg.retry_max_delay_s, backoff)
        await self._finish(ctx.message, ctx.job_id, "retrying", reason, ctx)
        await delivery.retry(delay, reason)

    async def _give_up(self, delivery: Delivery, ctx: HandlerContext, reason: str) -> None:
        self.jobs_failed += 1
        await self._finish(ctx.message, ctx.job_id, "dead", reason, ctx)
        await delivery.dead_letter(reason)

    async def _dead_invalid(self, delivery: Delivery, reason: str) -> None:
        """A message we cannot even read: park it and leave a job row that says why."""
        self.jobs_failed += 1
        job_id = str(uuid.uuid4())
        try:
            async with self.services.db.unit_of_work() as session:
                session.add(
                    Job(
                        id=job_id,
                        kind=f"{self.kind}:invalid",
                        status="dead",
                        title="unreadable message",
                        error=f"invalid message: {reason}",
                        payload={"raw": delivery.body[:2000].decode("utf-8", "replace")},
                        finished_at=utcnow(),
                    )
                )
        except Exception as exc:
            log.error("could not record invalid message: %s", exc)
        await delivery.dead_letter(f"invalid message: {reason}")


async def run_until_stopped(
    workers: list[Worker], stop: asyncio.Event, drain_timeout_s: float
) -> None:
    """Start the workers, wait for ``stop`` (set by SIGTERM/SIGINT), then drain them."""
    for worker in workers:
        await worker.start()
    await stop.wait()
    for worker in workers:
        await worker.drain(drain_timeout_s)
