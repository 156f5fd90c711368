"""Tempo (±1 %, never at ½×/2×) and key on generated clips whose truth is known by construction."""

from __future__ import annotations

import pytest

from backend.analysis import analyze_file
from backend.audio.synth import render_track

from .conftest import WriteClip

TEMPO_CASES = [
    ("four_on_floor", 124.0), ("four_on_floor", 174.0), ("breakbeat", 128.0), ("breakbeat", 172.0),
    ("half_time", 140.0), ("swung", 84.0), ("swung", 112.0),
]  # fmt: skip


@pytest.mark.parametrize(("style", "bpm"), TEMPO_CASES)
def test_tempo_within_one_percent(write_clip: WriteClip, style: str, bpm: float) -> None:
    audio = render_track(bpm, "F minor", 20.0, style=style, seed=11, jitter_ms=3.0)
    result, _ = analyze_file(write_clip(f"{style}.flac", audio))
    assert result.bpm is not None
    assert abs(result.bpm - bpm) <= 0.01 * bpm, (style, bpm, result.bpm, result.bpm_alternative)
    assert result.bpm_confidence > 0.5
    assert result.bpm_alternative is not None
    assert result.bpm_alternative != pytest.approx(result.bpm, rel=0.03)


# Fast half-time (kick on 1, snare on 3) sounds like a backbeat at half the tempo, and its straight
# 8th hats divide a dotted beat (⅔ tempo) in three: only the chords, changing every 4 beats, tell
# the real beat (before 1.3 the first read 89 BPM, the second 113).
@pytest.mark.parametrize(("bpm", "seed"), [(178.0, 0), (178.0, 5), (170.0, 4)])
def test_fast_half_time_is_read_at_its_tempo_not_half_or_two_thirds(
    write_clip: WriteClip, bpm: float, seed: int
) -> None:
    audio = render_track(bpm, "F minor", 20.0, style="half_time", seed=seed, jitter_ms=3.0)
    result, _ = analyze_file(write_clip("half_time.flac", audio))
    assert result.bpm is not None
    assert abs(result.bpm - bpm) <= 0.01 * bpm, (bpm, seed, result.bpm, result.bpm_alternative)


def test_steady_track_gets_a_grid_with_the_downbeat_on_the_bar(write_clip: WriteClip) -> None:
    audio = render_track(125.0, "C major", 20.0, style="four_on_floor", seed=3, progression="tonal")
    result, _ = analyze_file(write_clip("steady.flac", audio))
    assert result.bpm == pytest.approx(
        125.0, abs=0.15
    )  # refined from beat times, not the coarse grid
    assert result.beats is None  # steady: first downbeat + BPM describe every beat
    beat = 60.0 / 125.0
    assert result.beat_offset_s is not None
    phase = (result.beat_offset_s / beat) % 1.0
    assert min(phase, 1 - phase) < 0.08  # on a beat


def test_drifting_tempo_gets_explicit_beats(write_clip: WriteClip) -> None:
    audio = render_track(120.0, "D minor", 24.0, style="four_on_floor", seed=5, drift=0.06)
    result, _ = analyze_file(write_clip("drift.flac", audio))
    assert result.bpm is not None and 118.0 <= result.bpm <= 128.0
    assert result.beats is not None and len(result.beats) > 40
    gaps = [b - a for a, b in zip(result.beats, result.beats[1:], strict=False)]
    assert sum(gaps[:10]) > sum(gaps[-10:])  # beats get closer as the tempo rises


KEY_CASES = ["A minor", "C major", "F# minor", "Eb major", "G minor", "E major"]


@pytest.mark.parametrize("key", KEY_CASES)
def test_key_of_tonal_progressions(write_clip: WriteClip, key: str) -> None:
    audio = render_track(122.0, key, 20.0, style="four_on_floor", seed=21, progression="tonal")
    result, _ = analyze_file(write_clip("key.flac", audio))
    assert result.key == key
    assert result.key_confidence > 0.1
    from backend.analysis.keys import parse_key

    assert (result.camelot, result.open_key) == (parse_key(key).camelot, parse_key(key).open_key)


# i–VI–III–VII in a minor key is the same cycle of chords as I–V–vi–IV in its relative major: only the
# chord the phrases start on tells them apart (the estimator before 1.1 read every such loop as major).
@pytest.mark.parametrize(
    ("key", "chords"), [("C minor", 0), ("Eb major", 0), ("F# minor", 0), ("A major", 0)]
)
@pytest.mark.parametrize("seed", [3, 8])
def test_a_loop_shared_by_relative_keys_is_read_from_its_phrase_start(
    write_clip: WriteClip, key: str, chords: int, seed: int
) -> None:
    audio = render_track(126.0, key, 24.0, style="four_on_floor", seed=seed, progression="tonal",
                         chords=chords)  # fmt: skip
    result, _ = analyze_file(write_clip("loop.flac", audio))
    assert result.key == key
