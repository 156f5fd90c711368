"""Long recordings: a per-window timeline and candidate transitions near the true cross-fades."""

from __future__ import annotations

import pytest

from backend.analysis import analyze_file
from backend.audio.synth import render_mix, render_track

from .conftest import WriteClip

SR = 22050  # a lower rate keeps the generated mix small; analysis handles any rate


def test_mix_timeline_and_transitions(write_clip: WriteClip) -> None:
    specs = [(124.0, "A minor", "four_on_floor", "saw"), (132.0, "E major", "breakbeat", "square"),
             (140.0, "C# minor", "half_time", "pluck"), (95.0, "F major", "swung", "organ")]  # fmt: skip
    tracks = [render_track(b, k, 75.0, SR, style=s, seed=i, timbre=t)
              for i, (b, k, s, t) in enumerate(specs)]  # fmt: skip
    mix, truth = render_mix(tracks, [12.0, 20.0, 28.0], SR)
    result, _ = analyze_file(write_clip("mix.flac", mix, SR), is_long=True)

    assert result.timeline is not None and result.transitions is not None
    assert result.timeline[0].start_s == 0.0
    assert result.timeline[-1].end_s == pytest.approx(result.duration_s, abs=0.1)
    assert all(w.end_s - w.start_s <= 30.0 + 1e-6 for w in result.timeline)
    # The first and last windows sit inside the first and last tracks.
    assert result.timeline[0].bpm == pytest.approx(124.0, rel=0.04)
    assert result.timeline[-1].bpm == pytest.approx(95.0, rel=0.04)
    assert result.timeline[0].key == "A minor"

    found = [t.time_s for t in result.transitions]
    for true_time in truth:  # recall: every cross-fade has a candidate within ±15 s
        assert any(abs(f - true_time) <= 15.0 for f in found), (truth, found)
    extra = [f for f in found if all(abs(f - t) > 15.0 for t in truth)]
    assert len(extra) <= 1, (truth, found)  # precision
    assert all(0.0 <= t.strength <= 1.0 for t in result.transitions)


def test_short_file_gets_no_timeline_unless_asked(write_clip: WriteClip) -> None:
    path = write_clip("t.flac")
    result, _ = analyze_file(path)
    assert result.timeline is None and result.transitions is None
    forced, _ = analyze_file(path, is_long=True)
    assert forced.timeline is not None and len(forced.timeline) == 1
