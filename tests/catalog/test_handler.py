"""The catalog worker's handlers driven through the bus, as the watcher and the app drive them."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from backend.api.commands import enqueue
from backend.api.folders import add_root, pause_root
from backend.catalog.scanner import WRITE_BATCH
from backend.db.models import Job
from backend.messaging.contracts import (
    Envelope,
    FilesChanged,
    FilesDeleted,
    JobUpdated,
    ScanRequested,
)
from backend.services import Services
from backend.worker.jobs import job_id_for
from backend.worker.local import local_workers, wait_for_job
from tests.catalog.conftest import MakeAudio, age, track_at, tracks

pytestmark = pytest.mark.services
TIMEOUT = 60


async def run(services: Services, payload: object) -> str:
    [message] = await enqueue(services, [payload])  # type: ignore[list-item]
    return await wait_for_job(services, job_id_for(message.id, "catalog"), TIMEOUT)


async def test_scan_changed_deleted_messages(
    services: Services, tmp_path: Path, make_audio: MakeAudio
) -> None:
    root = tmp_path / "lib"
    make_audio(root / "a.mp3", seed=1)
    make_audio(root / "b.ogg", seed=2)
    age(root / "a.mp3", root / "b.ogg")
    row = await add_root(services, root)
    async with local_workers(services, ["catalog"]):
        assert await run(services, ScanRequested(row.id)) == "done"
        assert sorted(t.rel_path for t in await tracks(services)) == ["a.mp3", "b.ogg"]
        # The analysis request is a follow-up of the scan job, queued for analysis: one batch.
        async with services.db.read() as session:
            kinds = (await session.execute(select(Job.kind))).scalars().all()
        assert kinds.count("analysis:analysis.batch") == 1
        make_audio(root / "c.flac", seed=3)
        assert await run(services, FilesChanged(row.id, ("c.flac",))) == "done"
        c = await track_at(services, "c.flac")
        assert c is not None and c.status == "ok"
        (root / "c.flac").unlink()
        assert await run(services, FilesDeleted(row.id, ("c.flac",))) == "done"
        gone = await track_at(services, "c.flac")
        assert gone is not None and gone.status == "missing"
        # A redelivered (or late) message changes nothing: handlers compare disk and database.
        assert await run(services, FilesDeleted(row.id, ("c.flac",))) == "done"
        assert len(await tracks(services)) == 3
        # Paused roots are left alone.
        await pause_root(services, root)
        make_audio(root / "d.mp3", seed=4)
        assert await run(services, FilesChanged(row.id, ("d.mp3",))) == "done"
        assert await track_at(services, "d.mp3") is None


async def test_scan_job_reports_progress(
    services: Services, tmp_path: Path, make_audio: MakeAudio
) -> None:
    """A scan run by the catalog worker fills its job's progress bar batch by batch (jobs panel)."""
    root = tmp_path / "lib"
    root.mkdir()
    data = make_audio(tmp_path / "seed.wav", seed=1, seconds=0.2).read_bytes()
    # Two batches, so one progress report comes before the job is done: the first is written once
    # WRITE_BATCH files are read (reads arrive in chunks, so it may hold a few more than that).
    n = 2 * WRITE_BATCH
    for i in range(n):
        copy = bytearray(data)
        copy[len(copy) // 2 : len(copy) // 2 + 4] = i.to_bytes(4, "little")  # its own audio
        (root / f"{i:04d}.wav").write_bytes(bytes(copy))
    age(*root.iterdir())
    row = await add_root(services, root)
    reports: list[tuple[str, float]] = []
    midway = asyncio.Event()

    async def on_job(message: Envelope[Any]) -> None:
        update: JobUpdated = message.payload
        if update.status == "running":
            reports.append((update.job_id, update.progress))
            if 0 < update.progress < 1:
                midway.set()

    unsubscribe = await services.bus.subscribe([JobUpdated.TYPE], on_job)
    try:
        async with local_workers(services, ["catalog"]):
            [message] = await enqueue(services, [ScanRequested(row.id)])
            job_id = job_id_for(message.id, "catalog")
            assert await wait_for_job(services, job_id, TIMEOUT) == "done"
            await asyncio.wait_for(midway.wait(), TIMEOUT)
    finally:
        await unsubscribe()
    assert any(j == job_id and WRITE_BATCH / n <= p < 1 for j, p in reports), reports
    assert len(await tracks(services)) == n
