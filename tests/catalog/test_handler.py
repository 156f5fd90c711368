"""The catalog worker's handlers driven through the bus, as the watcher and the app drive them."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from backend.api.commands import enqueue
from backend.api.folders import add_root, pause_root
from backend.db.models import Job
from backend.messaging.contracts import FilesChanged, FilesDeleted, ScanRequested
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
        # The analysis requests are follow-ups of the scan job: same correlation, queued for analysis.
        async with services.db.read() as session:
            kinds = (await session.execute(select(Job.kind))).scalars().all()
        assert kinds.count("analysis:analysis.requested") == 2
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
