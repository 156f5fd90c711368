"""The meters give the same results however the decoder cuts the stream into blocks.

The meters keep what they still need of earlier blocks (frame overlaps, partial hops and loudness
segments, the true-peak filter's neighbours) in reused buffers; a bookkeeping slip there (a sample lost,
repeated or never examined) would show as results that depend on the block size.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from backend.analysis.decode import BLOCK_SAMPLES
from backend.analysis.loudness import LoudnessMeter, PeakMeter
from backend.analysis.spectral import SpectralAnalyzer
from backend.audio.synth import render_track

SR = 44100


@pytest.fixture(scope="module")
def stereo() -> np.ndarray:
    """20 s of stereo music whose channels differ (the right one is delayed and quieter)."""
    left = render_track(128.0, "A minor", 20.0, SR, seed=3)
    right = 0.6 * np.roll(left, 311)
    return np.stack([left, right]).astype(np.float32)


def _feed_all(audio: np.ndarray, block: int) -> tuple[dict[str, np.ndarray], np.ndarray, PeakMeter]:
    spectral = SpectralAnalyzer(SR, audio.shape[1] / SR)
    loudness = LoudnessMeter(SR, audio.shape[0])
    peaks = PeakMeter()
    for start in range(0, audio.shape[1], block):
        part = audio[:, start : start + block]
        magnitude = np.abs(part)
        spectral.feed(part, magnitude=magnitude)
        loudness.feed(part)
        peaks.feed(part, magnitude)
    series = spectral.finish()
    arrays = {f.name: np.asarray(getattr(series, f.name)) for f in dataclasses.fields(series)}
    return arrays, loudness.segment_power(), peaks


# One block larger than the buffers' initial size (they must grow), the decoder's size, and sizes
# that are not multiples of the hop — one of them smaller than a hop.
@pytest.mark.parametrize("block", [3 * BLOCK_SAMPLES, 50_000, 3_001, 700])
def test_series_loudness_and_peaks_do_not_depend_on_block_size(
    stereo: np.ndarray, block: int
) -> None:
    reference_series, reference_power, reference_peaks = _feed_all(stereo, BLOCK_SAMPLES)
    series, power, peaks = _feed_all(stereo, block)
    assert len(reference_series["onset"]) == pytest.approx(20.0 * SR / 1024, abs=2)
    # Batched FFTs and matrix products may round the last bit differently for another number of
    # frames per call; a lost or repeated sample would change values far more than that.
    for name, values in reference_series.items():
        np.testing.assert_allclose(series[name], values, rtol=1e-4, atol=1e-5, err_msg=name)
    np.testing.assert_allclose(power, reference_power, rtol=1e-6)
    assert peaks.sample_peak == reference_peaks.sample_peak
    assert peaks.true_peak == pytest.approx(reference_peaks.true_peak, rel=1e-9)


@pytest.mark.parametrize("offset", range(-9, 2))
def test_an_intersample_over_at_a_block_boundary_is_found(offset: int) -> None:
    # Two equal samples between opposite ones: the waveform between them peaks above both. Placed
    # just before the end of a block and followed by a silent block, it must still be measured.
    n = 4096
    signal = np.zeros(2 * n, dtype=np.float32)
    at = n + offset
    signal[at - 1 : at + 3] = [-0.3, 0.7, 0.7, -0.3]
    whole = PeakMeter()
    whole.feed(signal[None])
    blocked = PeakMeter()
    blocked.feed(signal[None, :n])
    blocked.feed(signal[None, n:])
    assert whole.true_peak > 0.9  # the over, not the samples (0.7)
    assert blocked.sample_peak == whole.sample_peak
    assert blocked.true_peak == pytest.approx(whole.true_peak, rel=1e-9)
