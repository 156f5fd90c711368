"""A warm process pool for analysis: CPU work off the event loop, one process per core.

Processes are started with "spawn" (forking a process that runs asyncio/Qt threads is unsafe) and an
initializer that runs a tiny analysis, so imports (numpy, scipy, PyAV) and first-call costs are paid
once per process at start, never per job. The analysis itself needs no numba-compiled code (the beat
tracker is vectorised numpy), so there is no JIT compilation at all; NUMBA_CACHE_DIR is still pointed
under the Tracktion home so that any librosa helper a process imports caches its compiled code there. Cancellation and progress
cross the process boundary through a multiprocessing manager (an Event and a Queue per job). A crashed
process (e.g. a decoder fault) breaks a ProcessPoolExecutor for good: the pool then starts a new one
and the job fails with a clear reason instead of taking the worker down.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import queue
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from backend.analysis.result import AnalysisResult
from backend.analysis.waveform import Waveform


class AnalysisCrashed(Exception):
    """The process analysing a file died (the file is probably corrupt in a way that crashes ffmpeg)."""


def _init_process(numba_cache_dir: str | None) -> None:
    """Pool initializer: numba cache under the Tracktion home, then warm the analysis code."""
    if numba_cache_dir:
        os.makedirs(numba_cache_dir, exist_ok=True)
        os.environ["NUMBA_CACHE_DIR"] = numba_cache_dir
    warm_up()


def warm_up() -> None:
    """Run the tempo stage once on a synthetic pulse so first-call costs are paid before any job."""
    import numpy as np

    from backend.analysis.tempo import estimate_tempo

    fps = 43.0
    onset = np.zeros(int(fps * 8), dtype=np.float32)
    onset[:: int(fps / 2)] = 1.0
    estimate_tempo(onset, onset, fps)


def _run_job(
    path: str, is_long: bool | None, cancel: Any, progress_queue: Any
) -> tuple[AnalysisResult, bytes]:
    from backend.analysis.analyzer import analyze_file

    def report(fraction: float) -> None:
        if progress_queue is not None:
            progress_queue.put(fraction)

    try:
        result, waveform = analyze_file(path, is_long=is_long, progress=report, cancel=cancel)
        return result, waveform.to_bytes()  # bytes pickle smaller and faster than arrays
    finally:
        if progress_queue is not None:
            progress_queue.put(None)


class AnalysisPool:
    """Process pool sized to the cores; ``await pool.analyze(path)`` from the event loop."""

    def __init__(
        self, workers: int | None = None, *, numba_cache_dir: str | Path | None = None
    ) -> None:
        self.workers = max(1, workers or os.cpu_count() or 1)
        self._cache_dir = str(numba_cache_dir) if numba_cache_dir else None
        self._ctx = multiprocessing.get_context("spawn")
        self._executor = self._new_executor()
        self._manager: Any = None
        self._lock = threading.Lock()

    def _new_executor(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=self.workers, mp_context=self._ctx, initializer=_init_process,
            initargs=(self._cache_dir,),
        )  # fmt: skip

    def _get_manager(self) -> Any:
        with self._lock:
            if self._manager is None:
                self._manager = self._ctx.Manager()
            return self._manager

    async def warm(self) -> None:
        """Start every process now (runs the initializer) instead of on the first jobs."""
        loop = asyncio.get_running_loop()
        futures = [loop.run_in_executor(self._executor, os.getpid) for _ in range(self.workers)]
        await asyncio.gather(*futures)

    async def analyze(self, path: str | Path, *, is_long: bool | None = None,
                      progress: Callable[[float], None] | None = None,
                      cancel: asyncio.Event | None = None) -> tuple[AnalysisResult, Waveform]:  # fmt: skip
        """Analyse ``path`` in a pool process. Cancelling the awaiting task (or setting ``cancel``)
        stops the analysis at its next block; raises DecodeError, AnalysisCancelled or AnalysisCrashed."""
        loop = asyncio.get_running_loop()
        manager = await loop.run_in_executor(None, self._get_manager)
        remote_cancel = manager.Event()
        if cancel is not None and cancel.is_set():
            remote_cancel.set()  # already cancelled: the job stops at its first block
        progress_queue = manager.Queue() if progress is not None else None
        pump: asyncio.Future[None] | None = None
        if progress is not None and progress_queue is not None:
            pump = loop.run_in_executor(None, self._pump, progress_queue, progress, loop)
        watcher = asyncio.create_task(self._watch(cancel, remote_cancel)) if cancel else None
        try:
            future = loop.run_in_executor(
                self._executor, _run_job, str(path), is_long, remote_cancel, progress_queue
            )
            try:
                result, waveform_bytes = await asyncio.shield(future)
            except asyncio.CancelledError:
                remote_cancel.set()  # the process notices within one block
                with contextlib.suppress(Exception):
                    await future
                raise
            except BrokenProcessPool:
                self._executor = self._new_executor()
                raise AnalysisCrashed(f"analysis process crashed on {path}") from None
            return result, Waveform.from_bytes(waveform_bytes)
        finally:
            if watcher is not None:
                watcher.cancel()
            if pump is not None:
                with contextlib.suppress(Exception):
                    await pump

    async def _watch(self, cancel: asyncio.Event, remote: Any) -> None:
        await cancel.wait()
        await asyncio.get_running_loop().run_in_executor(None, remote.set)

    @staticmethod
    def _pump(q: Any, progress: Callable[[float], None], loop: asyncio.AbstractEventLoop) -> None:
        # Bounded: the job always ends with a None sentinel; the timeout guards against a dead process.
        while True:
            try:
                item = q.get(timeout=600)
            except queue.Empty:
                return
            if item is None:
                return
            loop.call_soon_threadsafe(progress, float(item))

    def close(self) -> None:
        """Stop the processes (pending jobs are cancelled)."""
        self._executor.shutdown(wait=True, cancel_futures=True)
        if self._manager is not None:
            self._manager.shutdown()
            self._manager = None


async def analyze_in_pool(pool: AnalysisPool, path: str | Path, *, is_long: bool | None = None,
                          progress: Callable[[float], None] | None = None,
                          cancel: asyncio.Event | None = None) -> tuple[AnalysisResult, Waveform]:  # fmt: skip
    """Module-level convenience for :meth:`AnalysisPool.analyze`."""
    return await pool.analyze(path, is_long=is_long, progress=progress, cancel=cancel)
