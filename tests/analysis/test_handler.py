"""The analysis worker end to end, in both deployments: request → stored result, track summary, events.

Real services (SQLite + in-process bus, or PostgreSQL + RabbitMQ + Redis), real files, real pool.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from backend.analysis.handler import cache_key
from backend.analysis.result import ALGORITHM_VERSION
from backend.analysis.waveform import Waveform
from backend.api.commands import enqueue
from backend.api.jobs import retry_job
from backend.db.models import AnalysisResult, Job, LibraryRoot, Track
from backend.messaging.contracts import AnalysisBatch, AnalysisRequested, decode
from backend.worker.jobs import job_id_for
from backend.worker.local import local_workers, wait_for_job, wait_settled

from .conftest import WriteClip


async def _track(services: Any, root: Path, rel_path: str, fingerprint: str) -> int:
    async with services.db.unit_of_work() as session:
        row = (
            await session.execute(select(LibraryRoot).where(LibraryRoot.path == str(root)))
        ).scalar_one_or_none()
        if row is None:
            row = LibraryRoot(path=str(root), name=root.name)
            session.add(row)
            await session.flush()
        track = Track(root_id=row.id, rel_path=rel_path, fingerprint=fingerprint)
        session.add(track)
        await session.flush()
        return track.id


async def _analyse(services: Any, track_id: int, fingerprint: str) -> str:
    (message,) = await enqueue(services, [AnalysisRequested(track_id, fingerprint)])
    return await wait_for_job(services, job_id_for(message.id, "analysis"), timeout_s=180)


async def test_analysis_job_stores_result_updates_track_and_announces(
    services: Any, write_clip: WriteClip, tmp_path: Path
) -> None:
    root = tmp_path / "music"
    root.mkdir()
    song = write_clip("song.flac")
    shutil.copy(song, root / "song.flac")
    shutil.copy(song, root / "copy.flac")  # same audio elsewhere: same fingerprint
    bad = root / "broken.mp3"
    bad.write_bytes(b"\xff\xfb" + b"\x00" * 4000)
    first = await _track(services, root, "song.flac", "fp-song")
    second = await _track(services, root, "copy.flac", "fp-song")
    broken = await _track(services, root, "broken.mp3", "fp-broken")

    async with local_workers(services, ["analysis"]):
        assert await _analyse(services, first, "fp-song") == "done"
        assert await _analyse(services, second, "fp-song") == "done"
        status = await _analyse(services, broken, "fp-broken")

    async with services.db.read() as session:
        rows = list((await session.execute(select(AnalysisResult))).scalars())
        tracks = {t.id: t for t in (await session.execute(select(Track))).scalars()}
        announced = (
            await session.execute(
                select(func.count()).select_from(Job).where(Job.kind.like("%track.analyzed"))
            )
        ).scalar_one()
    assert len(rows) == 1  # the copy reused the stored result
    (row,) = rows
    assert (row.fingerprint, row.algorithm_version) == ("fp-song", ALGORITHM_VERSION)
    assert row.data["bpm"] == pytest.approx(128.0, rel=0.02) and row.data["camelot"] == "8A"
    assert row.waveform is not None and Waveform.from_bytes(row.waveform).duration_s > 7.0
    for track_id in (first, second):
        track = tracks[track_id]
        assert track.bpm == row.data["bpm"] and track.key == "A minor" and track.camelot == "8A"
        assert track.energy is not None and track.loudness_lufs is not None
        assert track.analysis_version == ALGORITHM_VERSION
    assert announced >= 2  # one track.analyzed per analysed track, for the graph worker
    assert await services.cache.get(cache_key("fp-song")) is not None

    assert status in {"failed", "dead"}
    assert tracks[broken].status == "error"
    assert tracks[broken].last_error and "cannot analyse" in tracks[broken].last_error


async def test_a_failed_analysis_never_reads_done_and_retries_once_the_file_is_fixed(
    services: Any, write_clip: WriteClip, tmp_path: Path
) -> None:
    root = tmp_path / "music"
    root.mkdir()
    broken = root / "set.flac"
    broken.write_bytes(b"fLaC" + b"\x00" * 4000)
    track_id = await _track(services, root, "set.flac", "fp-set")
    seen: list[str] = []
    async with local_workers(services, ["analysis"]):
        (message,) = await enqueue(services, [AnalysisRequested(track_id, "fp-set")])
        job_id = job_id_for(message.id, "analysis")
        while not seen or seen[-1] not in ("failed", "dead"):
            async with services.db.read() as session:
                job = await session.get(Job, job_id)
            if job is not None and (not seen or seen[-1] != job.status):
                seen.append(job.status)
        # The file is put right (same audio identity, as a re-copy would), and the user retries.
        shutil.copy(write_clip("song.flac"), broken)
        assert await retry_job(services, job_id)
        assert await wait_for_job(services, job_id, timeout_s=180) == "done"
    assert "done" not in seen  # a failing job never showed as done on its way to failing
    async with services.db.read() as session:
        track = await session.get(Track, track_id)
    assert track is not None and track.status == "ok" and track.bpm is not None


async def test_stale_request_for_changed_audio_is_skipped(
    services: Any, write_clip: WriteClip, tmp_path: Path
) -> None:
    root = tmp_path / "music"
    root.mkdir()
    shutil.copy(write_clip("song.flac"), root / "song.flac")
    track_id = await _track(services, root, "song.flac", "fp-new")
    async with local_workers(services, ["analysis"]):
        assert await _analyse(services, track_id, "fp-old") == "done"
    async with services.db.read() as session:
        count = (
            await session.execute(select(func.count()).select_from(AnalysisResult))
        ).scalar_one()
        track = await session.get(Track, track_id)
    assert count == 0 and track is not None and track.bpm is None


async def test_a_batch_becomes_one_job_per_track_that_scan_wait_covers(
    services: Any, tmp_path: Path
) -> None:
    root = tmp_path / "music"
    root.mkdir()
    # Fingerprints the tracks no longer have: each request is then skipped at once (no decoding here).
    ids = [await _track(services, root, f"{n}.flac", f"fp-now-{n}") for n in range(3)]
    batch = AnalysisBatch(tuple(ids), tuple(f"fp-then-{n}" for n in range(3)), long_ids=(ids[2],))
    broken = AnalysisBatch((ids[0], ids[1]), ("fp-then-0",))
    async with local_workers(services, ["analysis"]):
        message, bad = await enqueue(services, [batch, broken])
        await wait_settled(services, message.correlation_id, timeout_s=60)
    async with services.db.read() as session:
        jobs = list((await session.execute(select(Job))).scalars())
    per_track = [j for j in jobs if j.kind == "analysis:analysis.requested"]
    requests = [decode(j.payload["message"].encode()) for j in per_track]
    assert sorted((r.payload.track_id, r.payload.is_long) for r in requests) == [
        (ids[0], False), (ids[1], False), (ids[2], True)
    ]  # fmt: skip
    # Follow-ups of the batch: the scan's correlation, so `scan --wait` waited for them (all done now).
    assert {r.correlation_id for r in requests} == {message.correlation_id}
    assert all(j.status == "done" for j in per_track)
    failed = next(j for j in jobs if j.id == job_id_for(bad.id, "analysis"))
    assert failed.status in ("failed", "dead") and "2 track ids but 1 fingerprints" in failed.error
