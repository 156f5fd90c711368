"""The analysis worker's handlers: ``analysis.requested`` → stored result, track summary, events;
``analysis.batch`` (what the catalog sends) → one ``analysis.requested`` per track.

Idempotent by (audio fingerprint, ALGORITHM_VERSION): a result already in the cache or the database is
reused (a moved or re-tagged file keeps its fingerprint), so only new audio or a new algorithm version is
analysed. CPU work runs in the warm process pool (one per worker process, sized to the cores). Progress
goes to the job row; a user's cancel or the job timeout stops the analysis at its next block.
A file that cannot be decoded gets its reason on the track (status "error") and the job fails for good.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
from pathlib import Path
from typing import Any

from sqlalchemy import select

from backend.analysis.analyzer import AnalysisCancelled
from backend.analysis.decode import DecodeError
from backend.analysis.pool import AnalysisCrashed, AnalysisPool
from backend.analysis.result import ALGORITHM_VERSION
from backend.analysis.result import AnalysisResult as Result
from backend.config import Settings
from backend.db.models import AnalysisResult as ResultRow
from backend.db.models import LibraryRoot, Track
from backend.messaging.contracts import (
    AnalysisBatch,
    AnalysisRequested,
    RecordingAnalyzed,
    TrackAnalyzed,
)
from backend.worker.errors import JobCancelled, PermanentError, TransientError
from backend.worker.runtime import Handler, HandlerContext

CACHE_TTL_S = 30 * 24 * 3600.0
_pool: AnalysisPool | None = None


def cache_key(fingerprint: str) -> str:
    """Cache key of a result: audio fingerprint + algorithm version."""
    return f"analysis:{ALGORITHM_VERSION}:{fingerprint}"


def get_pool(settings: Settings) -> AnalysisPool:
    """The process pool of this worker process (created on first use, closed at exit)."""
    global _pool
    if _pool is None:
        _pool = AnalysisPool(settings.worker.cpu_processes or None,
                             numba_cache_dir=settings.numba_cache_dir)  # fmt: skip
        atexit.register(_pool.close)
    return _pool


async def _load(ctx: HandlerContext, track_id: int) -> tuple[Track, Path] | None:
    async with ctx.services.db.read() as session:
        row = (
            await session.execute(
                select(Track, LibraryRoot.path)
                .join(LibraryRoot, LibraryRoot.id == Track.root_id)
                .where(Track.id == track_id)
            )
        ).first()
    if row is None:
        return None
    track, root = row
    return track, Path(root) / track.rel_path


async def _stored(ctx: HandlerContext, fingerprint: str) -> dict[str, Any] | None:
    cached = await ctx.services.cache.get(cache_key(fingerprint))
    if cached is not None:
        data: dict[str, Any] = json.loads(cached)
        return data
    async with ctx.services.db.read() as session:
        stored = (
            await session.execute(
                select(ResultRow.data).where(
                    ResultRow.fingerprint == fingerprint,
                    ResultRow.algorithm_version == ALGORITHM_VERSION,
                )
            )
        ).scalar_one_or_none()
    return stored


async def _analyse(ctx: HandlerContext, path: Path, is_long: bool) -> tuple[Result, bytes]:
    """Run the analysis in the pool, forwarding progress to the job (which also reports cancels)."""
    pool = get_pool(ctx.services.settings)
    latest = asyncio.Queue[float]()
    cancel = asyncio.Event()

    async def report() -> None:
        while True:
            fraction = await latest.get()
            try:
                await ctx.progress(fraction * 0.95)
            except JobCancelled:
                cancel.set()
                raise

    reporter = asyncio.create_task(report())
    job = asyncio.create_task(
        pool.analyze(path, is_long=is_long, progress=latest.put_nowait, cancel=cancel)
    )
    try:
        done, _ = await asyncio.wait({job, reporter}, return_when=asyncio.FIRST_COMPLETED)
        if reporter in done and reporter.exception() is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await job
            raise JobCancelled(ctx.job_id)
        result, waveform = await job
        return result, waveform.to_bytes()
    except AnalysisCancelled:
        raise JobCancelled(ctx.job_id) from None
    finally:
        for task in (job, reporter):
            if not task.done():
                task.cancel()
        with contextlib.suppress(BaseException):
            await reporter


async def _mark_error(ctx: HandlerContext, track_id: int, reason: str) -> None:
    # Not ctx.transaction(): that commits the job as done (and the message as processed) with its writes,
    # so a failed job would read "done" for a moment and a retry after fixing the file would be skipped.
    async with ctx.services.db.unit_of_work() as session:
        track = await session.get(Track, track_id)
        if track is not None:
            track.status = "error"
            track.last_error = reason


async def handle_analysis(ctx: HandlerContext) -> None:
    """Analyse one track (or reuse the stored result) and announce it."""
    payload: AnalysisRequested = ctx.payload
    loaded = await _load(ctx, payload.track_id)
    if loaded is None:
        return  # the track was purged meanwhile: nothing to do
    track, path = loaded
    if track.fingerprint != payload.fingerprint or track.status == "missing":
        return  # the audio changed (a newer request follows) or the file is gone
    data = None if payload.force else await _stored(ctx, payload.fingerprint)
    waveform: bytes | None = None
    if data is None:
        try:
            result, waveform = await _analyse(ctx, path, payload.is_long)
        except DecodeError as exc:
            await _mark_error(ctx, track.id, f"cannot analyse: {exc.reason}")
            raise PermanentError(f"cannot analyse {path.name}: {exc.reason}") from None
        except AnalysisCrashed as exc:
            raise TransientError(str(exc)) from None
        data = result.to_json()
        await ctx.services.cache.set(cache_key(payload.fingerprint), json.dumps(data).encode(),
                                     ttl_s=CACHE_TTL_S)  # fmt: skip
    await ctx.progress(0.97, force=True)
    summary = Result.from_json(data)
    ctx.publish(TrackAnalyzed(track.id, payload.fingerprint, ALGORITHM_VERSION))
    if summary.timeline is not None:
        ctx.publish(RecordingAnalyzed(track.id, payload.fingerprint, ALGORITHM_VERSION))
    async with ctx.transaction() as session:
        row = (
            await session.execute(
                select(ResultRow).where(
                    ResultRow.fingerprint == payload.fingerprint,
                    ResultRow.algorithm_version == ALGORITHM_VERSION,
                )
            )
        ).scalar_one_or_none()
        if row is None:
            session.add(ResultRow(fingerprint=payload.fingerprint, algorithm_version=ALGORITHM_VERSION,
                                  data=data, waveform=waveform))  # fmt: skip
        elif waveform is not None:  # forced re-analysis replaces the stored result
            row.data, row.waveform = data, waveform
        stored_track = await session.get(Track, track.id)
        if stored_track is not None:
            stored_track.bpm = summary.bpm
            stored_track.key = summary.key
            stored_track.camelot = summary.camelot
            stored_track.energy = None if summary.energy is None else float(summary.energy)
            stored_track.loudness_lufs = summary.loudness_lufs
            stored_track.analysis_version = ALGORITHM_VERSION
            if stored_track.status == "error":
                stored_track.status, stored_track.last_error = "ok", None


async def handle_analysis_batch(ctx: HandlerContext) -> None:
    """Queue one analysis job per track of the batch, in one commit with this job's end (exactly once).

    Per-track jobs keep what the user sees and controls per file: progress, cancel, retry, the error.
    They share the batch's correlation id, so ``scan --wait`` waits for them too. A malformed batch
    raises InvalidMessage, which the runtime fails for good with the reason on the job.
    """
    batch: AnalysisBatch = ctx.payload
    for request in batch.requests():
        ctx.publish(request)
    async with ctx.transaction():
        pass  # the job rows of the requests and the inbox row commit here


HANDLERS: dict[str, Handler] = {
    AnalysisRequested.TYPE: handle_analysis,
    AnalysisBatch.TYPE: handle_analysis_batch,
}

__all__ = ["HANDLERS", "cache_key", "get_pool"]
