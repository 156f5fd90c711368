"""Faults with a real RabbitMQ: a worker killed mid-job, and every connection dropped."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from backend.api.commands import enqueue
from backend.db.models import CuePoint, Job, LibraryRoot, Track
from backend.messaging.contracts import AnalysisRequested
from backend.services import Services, open_services
from backend.worker.jobs import job_id_for
from backend.worker.local import wait_for_job
from backend.worker.runtime import HandlerContext, Worker
from tests.conftest import REPO, SettingsFactory, truncate_all

pytestmark = pytest.mark.services
TIMEOUT = 60


@pytest.fixture
async def rabbit_services(
    make_settings: SettingsFactory, pg_url: str, amqp_url: str, redis_url: str
) -> AsyncIterator[Services]:
    truncate_all(pg_url)
    settings = make_settings(
        "services", services={"database_url": pg_url}, worker={"retry_base_delay_s": 0.05}
    )
    services = await open_services(settings, migrate_schema=False)
    yield services
    await services.bus.delete_topology()  # type: ignore[attr-defined]
    await services.close()


async def add_track(services: Services) -> int:
    async with services.db.unit_of_work() as session:
        root = LibraryRoot(path="/music", name="music")
        session.add(root)
        await session.flush()
        track = Track(root_id=root.id, rel_path="a.mp3")
        session.add(track)
        await session.flush()
        return track.id


def spawn_worker(services: Services, *extra: str) -> subprocess.Popen[str]:
    s = services.settings
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("TRACKTION_")},
        "TRACKTION_MODE": "services",
        "TRACKTION_SERVICES__DATABASE_URL": s.services.database_url,
        "TRACKTION_SERVICES__AMQP_URL": s.services.amqp_url,
        "TRACKTION_SERVICES__REDIS_URL": s.services.redis_url,
        "TRACKTION_SERVICES__AMQP_EXCHANGE_PREFIX": s.services.amqp_exchange_prefix,
        "TRACKTION_SERVICES__REDIS_PREFIX": s.services.redis_prefix,
        "PYTHONPATH": str(REPO),
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            str(REPO / "tests/backbone/fault_worker.py"),
            "--home",
            str(s.home),
            *extra,
        ],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


async def wait_for_file(path: Path, timeout_s: float) -> None:
    async def poll() -> None:
        while not path.exists():
            await asyncio.sleep(0.05)

    await asyncio.wait_for(poll(), timeout_s)


async def wait_for_status(services: Services, job_id: str, status: str, timeout_s: float) -> None:
    async def poll() -> None:
        while True:
            async with services.db.read() as session:
                job = await session.get(Job, job_id)
            if job is not None and job.status == status:
                return
            await asyncio.sleep(0.05)

    await asyncio.wait_for(poll(), timeout_s)


async def test_worker_killed_mid_job_is_redelivered_and_completed_once(
    rabbit_services: Services, tmp_path: Path
) -> None:
    services = rabbit_services
    track_id = await add_track(services)
    marker = tmp_path / "started"
    first = spawn_worker(services, "--block", str(marker))
    try:
        [message] = await enqueue(services, [AnalysisRequested(track_id, "f" * 64)])
        await wait_for_file(marker, TIMEOUT)  # the handler has started...
        await wait_for_status(
            services, job_id_for(message.id, "analysis"), "running", TIMEOUT
        )  # ...and shows
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    second = spawn_worker(services)
    try:
        status = await wait_for_job(services, job_id_for(message.id, "analysis"), TIMEOUT)
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(30) == 0  # drained and exited cleanly
    assert status == "done"
    async with services.db.read() as session:
        cues = (await session.execute(select(CuePoint.label))).scalars().all()
        job = await session.get(Job, job_id_for(message.id, "analysis"))
    assert cues == [message.id]  # done exactly once in effect
    assert job is not None and job.attempts == 2  # the killed attempt and the redelivered one


async def test_all_connections_dropped_workers_and_publishers_recover(
    rabbit_services: Services,
) -> None:
    services = rabbit_services
    track_id = await add_track(services)
    handled: list[int] = []

    async def handle(ctx: HandlerContext) -> None:
        async with ctx.transaction() as session:
            session.add(
                CuePoint(
                    track_id=track_id,
                    position_s=float(ctx.payload.fingerprint[:3]),
                    label=ctx.message.id,
                )
            )
        handled.append(int(ctx.payload.fingerprint[:3]))

    worker = Worker(services, "analysis", {"analysis.requested": handle}, concurrency=4)
    await worker.start()
    before = await enqueue(
        services, [AnalysisRequested(track_id, f"{i:03d}" + "a" * 61) for i in range(50)]
    )
    subprocess.run(
        ["rabbitmqctl", "close_all_connections", "test: connections dropped"],
        check=True,
        capture_output=True,
        timeout=60,
    )
    after = await enqueue(
        services, [AnalysisRequested(track_id, f"{i:03d}" + "a" * 61) for i in range(50, 100)]
    )
    messages: list[Any] = [*before, *after]
    for m in messages:
        assert await wait_for_job(services, job_id_for(m.id, "analysis"), TIMEOUT) == "done"
    await worker.drain(10)
    async with services.db.read() as session:
        labels = (await session.execute(select(CuePoint.label))).scalars().all()
        done = (
            await session.execute(select(func.count()).select_from(Job).where(Job.status == "done"))
        ).scalar_one()
    assert sorted(labels) == sorted(m.id for m in messages)  # none lost, none applied twice
    assert done == 100
