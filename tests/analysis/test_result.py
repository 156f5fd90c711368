"""Results and waveforms survive storage: JSON and bytes round trips, stable shapes."""

from __future__ import annotations

import json

import numpy as np

from backend.analysis import ALGORITHM_VERSION, AnalysisResult, Waveform, analyze_file
from backend.analysis.result import FEATURE_NAMES
from backend.analysis.waveform import build_waveform
from backend.audio.synth import render_track

from .conftest import WriteClip


def test_json_round_trip_and_feature_vector(write_clip: WriteClip) -> None:
    result, _ = analyze_file(write_clip("t.flac"))
    text = json.dumps(result.to_json())
    again = AnalysisResult.from_json(text)
    assert again == result
    assert result.algorithm_version == ALGORITHM_VERSION
    assert len(result.features) == len(FEATURE_NAMES)
    assert all(-1.0 <= v <= 1.0 for v in result.features)
    assert 1 <= (result.energy or 0) <= 10


def test_similar_tracks_have_closer_feature_vectors_than_different_ones(
    write_clip: WriteClip,
) -> None:
    def vec(bpm: float, key: str, style: str, seed: int, timbre: str) -> np.ndarray:
        audio = render_track(bpm, key, 12.0, style=style, seed=seed, timbre=timbre)
        result, _ = analyze_file(write_clip(f"{seed}.flac", audio))
        return np.asarray(result.features)

    a = vec(126.0, "A minor", "four_on_floor", 1, "saw")
    b = vec(127.0, "A minor", "four_on_floor", 2, "saw")
    c = vec(85.0, "E major", "swung", 3, "sine")
    assert np.linalg.norm(a - b) < np.linalg.norm(a - c)


def test_waveform_levels_and_bytes_round_trip() -> None:
    n = 43 * 600  # ten minutes at ~43 points per second
    rng = np.random.default_rng(0)
    series = [rng.random(n).astype(np.float32) * s for s in (1.0, 0.3, 0.2, 0.1)]
    wf = build_waveform(*series, points_per_s=43.07, duration_s=600.0)
    assert [len(lv.peak) for lv in wf.levels][:3] == [n, n // 4, n // 16]
    assert len(wf.levels[-1].peak) >= 256
    assert wf.levels[1].peak.max() >= wf.levels[0].peak[:4].max()  # peaks are maxima, not averages
    data = wf.to_bytes()
    total_points = sum(len(lv.peak) for lv in wf.levels)
    assert len(data) < 4 * total_points * 1.01 + 512  # one byte per value, even for random data
    back = Waveform.from_bytes(data)
    assert back.duration_s == wf.duration_s and len(back.levels) == len(wf.levels)
    for a, b in zip(back.levels, wf.levels, strict=True):
        assert np.array_equal(a.peak, b.peak) and np.array_equal(a.high, b.high)
    assert wf.level_for(1000).points_per_s < wf.levels[0].points_per_s
