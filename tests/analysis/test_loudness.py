"""EBU R128 loudness, peaks and ReplayGain against signals whose values are known exactly."""

from __future__ import annotations

import numpy as np
import pytest

from backend.analysis import analyze_file
from backend.analysis.loudness import LoudnessMeter, PeakMeter, integrated_loudness

from .conftest import WriteClip


def _sine(freq: float, seconds: float, sr: int, amplitude: float, phase: float = 0.0) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (amplitude * np.sin(2 * np.pi * freq * t + phase)).astype(np.float32)


def test_minus_20_dbfs_stereo_sine_file_reads_minus_20_lufs(write_clip: WriteClip) -> None:
    # EBU Tech 3341 case 1: a 1 kHz sine at -20 dBFS on both channels measures -20.0 LUFS.
    path = write_clip("cal.wav", _sine(997.0, 20.0, 48000, 0.1), 48000, channels=2)
    result, _ = analyze_file(path)
    assert result.loudness_lufs == pytest.approx(-20.0, abs=0.1)
    assert result.replaygain_db == pytest.approx(2.0, abs=0.1)  # -18 LUFS reference
    assert result.sample_peak == pytest.approx(0.1, abs=0.002)
    assert result.peak_db == pytest.approx(-20.0, abs=0.2)
    assert result.bpm is None  # a steady tone has no pulse


@pytest.mark.parametrize("sr", [44100, 48000, 96000])
def test_full_scale_mono_sine_is_minus_3_lufs_at_any_rate(sr: int) -> None:
    meter = LoudnessMeter(sr, 1)
    signal = _sine(997.0, 10.0, sr, 1.0)
    for start in range(0, len(signal), 65536):  # streamed in blocks like a decode
        meter.feed(signal[None, start : start + 65536])
    assert meter.integrated() == pytest.approx(-3.01, abs=0.05)


def test_gating_ignores_silence_between_tones() -> None:
    # Loudness of "tone, long silence, tone" equals the tone's: the absolute gate drops the silence.
    sr = 48000
    tone = _sine(997.0, 5.0, sr, 0.1)
    signal = np.concatenate([tone, np.zeros(sr * 20, dtype=np.float32), tone])
    meter = LoudnessMeter(sr, 1)
    meter.feed(signal[None])
    # Only the few 400 ms blocks straddling a tone's edge pass the gates partly silent.
    assert meter.integrated() == pytest.approx(-23.01, abs=0.2)
    ungated = -0.691 + 10 * np.log10(meter.segment_power().mean())
    assert ungated < -27.5  # what an ungated average would have said (10 s of tone in 30 s)
    assert integrated_loudness(np.zeros(100)) is None


def test_true_peak_finds_intersample_overs() -> None:
    # A sine at fs/4 sampled 45° off its crest: samples reach 0.707, the waveform reaches 1.0.
    sr = 44100
    signal = _sine(sr / 4, 1.0, sr, 1.0, phase=np.pi / 4)
    meter = PeakMeter()
    meter.feed(signal[None])
    assert meter.sample_peak == pytest.approx(0.7071, abs=0.001)
    assert meter.true_peak == pytest.approx(1.0, abs=0.03)
