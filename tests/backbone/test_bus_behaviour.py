"""One behaviour suite for both bus adapters: in-process (embedded) and RabbitMQ (services).

Handlers here are small test handlers on real message types; everything else (bus, runtime, job rows,
database) is the real thing.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select

from backend.api.commands import enqueue
from backend.db.models import Job, ProcessedMessage
from backend.messaging.contracts import (
    AnalysisRequested,
    Envelope,
    TrackAnalyzed,
    encode,
    new,
)
from backend.messaging.inprocess import InProcessBus, _Item
from backend.services import Services
from backend.worker.errors import PermanentError, TransientError
from backend.worker.jobs import job_id_for
from backend.worker.local import wait_for_job, wait_settled
from backend.worker.runtime import HandlerContext, Worker

pytestmark = pytest.mark.services

TIMEOUT = 30


async def inject_raw(services: Services, kind: str, body: bytes) -> None:
    """Put bytes on a work queue the way a broken producer would."""
    bus = services.bus
    if isinstance(bus, InProcessBus):
        bus._queues[kind].put_nowait(_Item(body, 1))  # type: ignore[index]
    else:
        await bus._publish_raw("", bus.names.work(kind), body, {})  # type: ignore[attr-defined]


async def job(services: Services, message: Envelope[Any], kind: str = "analysis") -> Job:
    async with services.db.read() as session:
        row = await session.get(Job, job_id_for(message.id, kind))
    assert row is not None
    return row


async def test_handler_runs_commits_and_publishes_follow_up(services: Services) -> None:
    seen: list[Envelope[Any]] = []
    got_event = asyncio.Event()

    async def on_event(message: Envelope[Any]) -> None:
        seen.append(message)
        got_event.set()

    await services.bus.subscribe(["track.analyzed"], on_event)

    async def handle(ctx: HandlerContext) -> None:
        ctx.publish(TrackAnalyzed(ctx.payload.track_id, ctx.payload.fingerprint, "v1"))

    worker = Worker(services, "analysis", {"analysis.requested": handle})
    await worker.start()
    [message] = await enqueue(services, [AnalysisRequested(7, "f" * 64)])
    await asyncio.wait_for(got_event.wait(), TIMEOUT)
    assert await wait_for_job(services, job_id_for(message.id, "analysis"), TIMEOUT) == "done"
    await worker.drain(5)

    row = await job(services, message)
    assert row.status == "done" and row.attempts == 1 and row.progress == 1.0
    assert seen[0].payload == TrackAnalyzed(7, "f" * 64, "v1")
    assert (
        seen[0].correlation_id == message.correlation_id
    )  # follow-ups stay in the same correlation
    # The follow-up's job (graph worker) was queued in the same commit, so --wait sees it.
    async with services.db.read() as session:
        graph_jobs = (
            (await session.execute(select(Job).where(Job.kind == "graph:track.analyzed")))
            .scalars()
            .all()
        )
    assert [j.status for j in graph_jobs] == ["queued"]


async def test_transient_failures_are_retried_with_backoff(services: Services) -> None:
    calls = 0

    async def flaky(ctx: HandlerContext) -> None:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise TransientError("database busy", retry_after_s=0.01)

    worker = Worker(services, "analysis", {"analysis.requested": flaky})
    await worker.start()
    [message] = await enqueue(services, [AnalysisRequested(1, "a" * 64)])
    await wait_settled(services, message.correlation_id, TIMEOUT)
    await worker.drain(5)
    row = await job(services, message)
    assert calls == 3
    assert row.status == "done" and row.attempts == 3 and row.error is None


async def test_poison_message_is_dead_lettered_with_reason_and_others_continue(
    services: Services,
) -> None:
    handled: list[int] = []

    async def handle(ctx: HandlerContext) -> None:
        if ctx.payload.track_id == 666:
            raise PermanentError("file is not audio: random bytes")
        handled.append(ctx.payload.track_id)

    worker = Worker(services, "analysis", {"analysis.requested": handle})
    await worker.start()
    bad, _good = await enqueue(
        services, [AnalysisRequested(666, "b" * 64), AnalysisRequested(2, "c" * 64)]
    )
    await wait_settled(services, bad.correlation_id, TIMEOUT)
    await worker.drain(5)

    assert handled == [2]
    row = await job(services, bad)
    assert row.status == "dead"
    assert row.error == "file is not audio: random bytes"
    dead = await services.bus.dead_letters("analysis")
    assert [reason for _, reason in dead] == ["file is not audio: random bytes"]


async def test_a_message_that_keeps_failing_gives_up_after_max_attempts(services: Services) -> None:
    async def broken(ctx: HandlerContext) -> None:
        raise RuntimeError("decoder crashed")

    worker = Worker(services, "analysis", {"analysis.requested": broken})
    worker.max_attempts = 2
    await worker.start()
    [message] = await enqueue(services, [AnalysisRequested(3, "d" * 64)])
    await wait_settled(services, message.correlation_id, TIMEOUT)
    await worker.drain(5)
    row = await job(services, message)
    assert row.status == "dead" and row.attempts == 2
    assert (
        row.error is not None
        and "decoder crashed" in row.error
        and "gave up after 2 attempts" in row.error
    )


async def test_invalid_message_is_dead_lettered_and_recorded(services: Services) -> None:
    async def handle(ctx: HandlerContext) -> None:  # pragma: no cover - must not be called
        raise AssertionError("handler called for an invalid message")

    worker = Worker(services, "analysis", {"analysis.requested": handle})
    await worker.start()
    body = encode(new(AnalysisRequested(4, "e" * 64))).replace(
        b'"track_id":4', b'"track_id":"four"'
    )
    await inject_raw(services, "analysis", body)
    await inject_raw(services, "analysis", b"\xff not json")

    async def two_dead() -> None:
        while len(await services.bus.dead_letters("analysis")) < 2:
            await asyncio.sleep(0.05)

    await asyncio.wait_for(two_dead(), TIMEOUT)
    await worker.drain(5)
    reasons = sorted(reason for _, reason in await services.bus.dead_letters("analysis"))
    assert reasons[0].startswith(
        "invalid message: analysis.requested.track_id: expected an integer"
    )
    assert reasons[1].startswith("invalid message: not JSON")
    async with services.db.read() as session:
        errors = (
            (await session.execute(select(Job.error).where(Job.kind == "analysis:invalid")))
            .scalars()
            .all()
        )
    assert len(errors) == 2 and all(e and e.startswith("invalid message") for e in errors)


async def test_redelivered_message_changes_nothing(services: Services) -> None:
    effects: list[int] = []
    events: list[Envelope[Any]] = []
    two_events = asyncio.Event()

    async def on_event(message: Envelope[Any]) -> None:
        events.append(message)
        if len(events) == 2:
            two_events.set()

    await services.bus.subscribe(["track.analyzed"], on_event)

    async def handle(ctx: HandlerContext) -> None:
        effects.append(ctx.payload.track_id)
        ctx.publish(TrackAnalyzed(ctx.payload.track_id, ctx.payload.fingerprint, "v1"))

    worker = Worker(services, "analysis", {"analysis.requested": handle})
    await worker.start()
    [message] = await enqueue(services, [AnalysisRequested(5, "f" * 64)])
    assert await wait_for_job(services, job_id_for(message.id, "analysis"), TIMEOUT) == "done"
    await inject_raw(services, "analysis", encode(message))  # the broker redelivers it
    await asyncio.wait_for(two_events.wait(), TIMEOUT)
    await worker.drain(5)

    assert effects == [5]  # the handler ran once
    assert events[0].id == events[1].id  # the follow-up was re-published, not re-made
    async with services.db.read() as session:
        inbox = (
            await session.execute(select(func.count()).select_from(ProcessedMessage))
        ).scalar_one()
    assert inbox == 1


async def test_concurrency_is_bounded_by_prefetch(services: Services) -> None:
    running = 0
    peak = 0
    release = asyncio.Event()
    two_running = asyncio.Event()

    async def handle(ctx: HandlerContext) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        if running == 2:
            two_running.set()
        await release.wait()
        running -= 1

    worker = Worker(services, "analysis", {"analysis.requested": handle}, concurrency=2)
    await worker.start()
    messages = await enqueue(services, [AnalysisRequested(i, "a" * 64) for i in range(6)])
    await asyncio.wait_for(two_running.wait(), TIMEOUT)
    # Give a third delivery every chance to start if the bound were broken.
    for _ in range(20):
        await asyncio.sleep(0)
    assert running == 2
    release.set()
    await wait_settled(services, messages[0].correlation_id, TIMEOUT)
    await worker.drain(5)
    assert peak == 2


async def test_cancelled_job_stops_at_next_progress_report(services: Services) -> None:
    from backend.api.jobs import cancel_job

    started = asyncio.Event()
    proceed = asyncio.Event()

    async def slow(ctx: HandlerContext) -> None:
        started.set()
        await proceed.wait()
        await ctx.progress(0.5, force=True)
        raise AssertionError("should have been cancelled")  # pragma: no cover

    worker = Worker(services, "analysis", {"analysis.requested": slow})
    await worker.start()
    [message] = await enqueue(services, [AnalysisRequested(8, "a" * 64)])
    await asyncio.wait_for(started.wait(), TIMEOUT)
    assert await cancel_job(services, job_id_for(message.id, "analysis"))
    proceed.set()
    await wait_settled(services, message.correlation_id, TIMEOUT)
    await worker.drain(5)
    row = await job(services, message)
    assert row.status == "cancelled"


async def test_embedded_jobs_left_open_by_a_stopped_process_are_run_later(
    make_settings: Any,
) -> None:
    """`tracktion scan` without --wait exits with jobs queued; the next process with workers runs them."""
    from backend.services import open_services
    from backend.worker.local import local_workers

    settings = make_settings("embedded")
    first = await open_services(settings)
    [message] = await enqueue(first, [AnalysisRequested(9, "a" * 64)])
    await (
        first.close()
    )  # the process ends; its in-process queue is gone, the job row stays "queued"

    ran: list[int] = []

    async def handle(ctx: HandlerContext) -> None:
        ran.append(ctx.payload.track_id)

    second = await open_services(settings)
    try:
        async with local_workers(
            second, ["analysis"], {"analysis": {"analysis.requested": handle}}
        ):
            assert await wait_for_job(second, job_id_for(message.id, "analysis"), TIMEOUT) == "done"
    finally:
        await second.close()
    assert ran == [9]
