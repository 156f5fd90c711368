"""Progress is monotonic and ends at 1; a cancel stops the analysis; the pool does both across processes."""

from __future__ import annotations

import asyncio
import itertools
import threading
from pathlib import Path

import pytest

from backend.analysis import AnalysisCancelled, DecodeError, analyze_file
from backend.analysis.pool import AnalysisPool
from backend.audio.synth import render_track

from .conftest import WriteClip


def test_progress_is_monotonic_and_complete(write_clip: WriteClip) -> None:
    path = write_clip("p.flac", render_track(128.0, "A minor", 40.0, seed=1))
    seen: list[float] = []
    analyze_file(path, progress=seen.append)
    assert len(seen) >= 10
    assert all(b >= a for a, b in itertools.pairwise(seen))
    assert seen[-1] == 1.0 and 0.0 <= seen[0] < 0.2


def test_cancel_stops_between_blocks(write_clip: WriteClip) -> None:
    path = write_clip("c.flac", render_track(128.0, "A minor", 40.0, seed=1))
    cancel = threading.Event()
    seen: list[float] = []

    def progress(fraction: float) -> None:
        seen.append(fraction)
        if fraction > 0.2:
            cancel.set()

    with pytest.raises(AnalysisCancelled):
        analyze_file(path, progress=progress, cancel=cancel)
    assert max(seen) < 0.5  # it stopped soon after the request, not at the end


async def test_pool_runs_jobs_with_progress_cancel_and_errors(
    write_clip: WriteClip, tmp_path: Path
) -> None:
    path = write_clip("pool.flac", render_track(140.0, "D minor", 40.0, seed=2))
    bad = tmp_path / "bad.mp3"
    bad.write_bytes(b"\x00" * 5000)
    pool = AnalysisPool(1, numba_cache_dir=tmp_path / "numba")
    try:
        await pool.warm()
        seen: list[float] = []
        result, waveform = await pool.analyze(path, progress=seen.append)
        assert result.bpm == pytest.approx(140.0, rel=0.01)
        assert waveform.duration_s == pytest.approx(40.0, abs=0.1)
        assert seen and seen[-1] == 1.0 and seen == sorted(seen)
        assert (tmp_path / "numba").is_dir()  # numba's cache lives under the given home

        with pytest.raises(DecodeError):
            await pool.analyze(bad)

        cancel = asyncio.Event()
        cancel.set()  # cancelled before it starts: the process stops at the first block
        with pytest.raises(AnalysisCancelled):
            await pool.analyze(path, cancel=cancel)

        # The pool still works after an error and a cancel.
        again, _ = await pool.analyze(path)
        assert again.bpm == result.bpm
    finally:
        pool.close()
