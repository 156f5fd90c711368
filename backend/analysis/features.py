"""Energy rating (1–10), silence bounds and the fixed-length feature vector for the similarity graph.

Energy = 1 + round(9 × (0.45·loudness + 0.25·onset density + 0.15·brightness + 0.15·tempo)), each
term scaled to 0..1: loudness from -24 LUFS (0) to -6 LUFS (1); onset density from 0 to 8 onsets/s;
brightness from a 300 Hz to a 4.8 kHz mean spectral centroid (log); tempo from 70 to 180 BPM
(0.5 when there is no tempo). Loud, busy, bright, fast tracks rate high; quiet ambient pieces low.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.fft import dct
from scipy.signal import find_peaks

from backend.analysis.keys import Key
from backend.analysis.result import FEATURE_NAMES
from backend.analysis.spectral import FrameSeries
from backend.analysis.tonal import chroma_summary

FloatArray = npt.NDArray[np.float32]

SILENCE_THRESHOLD = 10 ** (-60 / 20)  # -60 dBFS peak


def _clip01(x: float) -> float:
    return float(min(1.0, max(0.0, x)))


def silence_bounds(peak: FloatArray, hop_s: float, duration_s: float) -> tuple[float, float] | None:
    """(first audible instant, last audible instant) from per-hop peaks; None when all silent."""
    loud = np.flatnonzero(peak > SILENCE_THRESHOLD)
    if loud.size == 0:
        return None
    return round(float(loud[0]) * hop_s, 3), round(min(duration_s, float(loud[-1] + 1) * hop_s), 3)


def onset_rate(onset: FloatArray, fps: float) -> float:
    """Onsets per second: flux peaks above an adaptive threshold, at least 50 ms apart."""
    if len(onset) < 3:
        return 0.0
    level = float(np.median(onset)) + 0.5 * float(onset.std())
    peaks, _ = find_peaks(onset, height=max(level, 1e-6), distance=max(1, int(0.05 * fps)))
    return len(peaks) / (len(onset) / fps)


@dataclass(frozen=True)
class Descriptors:
    """Scaled 0..1 descriptors shared by the energy rating and the feature vector."""

    loudness: float
    density: float
    brightness: float
    tempo: float


def descriptors(series: FrameSeries, loudness_lufs: float | None, bpm: float | None,
                start: int = 0, stop: int | None = None) -> Descriptors:  # fmt: skip
    """Descriptors of the frames [start, stop) (the whole file by default)."""
    onset = series.onset[start:stop]
    centroid = series.centroid[start:stop]
    rms = series.rms[start:stop]
    voiced = rms > SILENCE_THRESHOLD
    mean_centroid = float(np.average(centroid[voiced])) if voiced.any() else 300.0
    return Descriptors(
        loudness=_clip01(((loudness_lufs if loudness_lufs is not None else -70.0) + 24.0) / 18.0),
        density=_clip01(onset_rate(onset, series.fps) / 8.0),
        brightness=_clip01(math.log2(max(mean_centroid, 1.0) / 300.0) / 4.0),
        tempo=0.5 if bpm is None else _clip01((bpm - 70.0) / 110.0),
    )


def energy_rating(d: Descriptors) -> int:
    """1..10 (see module docstring)."""
    raw = 0.45 * d.loudness + 0.25 * d.density + 0.15 * d.brightness + 0.15 * d.tempo
    return int(1 + round(9 * _clip01(raw)))


def feature_vector(series: FrameSeries, d: Descriptors, *, energy: int | None,
                   bpm_confidence: float, key: Key | None, key_confidence: float,
                   short_term_lufs: FloatArray) -> list[float]:  # fmt: skip
    """The FEATURE_NAMES vector, each value roughly in 0..1 (or -1..1 for timbre coefficients)."""
    timbre = series.timbre
    loud_rows = timbre.max(axis=1) > -6.0 if len(timbre) else np.zeros(0, dtype=bool)
    rows = timbre[loud_rows] if loud_rows.any() else timbre
    if len(rows) == 0:
        rows = np.zeros((1, timbre.shape[1] if timbre.ndim == 2 else 24), dtype=np.float32)
    coeffs = dct(rows.astype(np.float64), type=2, norm="ortho", axis=1)
    mean_c = np.tanh(coeffs.mean(axis=0)[1:13] / 5.0)
    var_c = np.tanh(coeffs.std(axis=0)[1:5] / 2.0)
    energies = np.array(
        [float(np.sum(b.astype(np.float64) ** 2)) for b in (series.low, series.mid, series.high)]
    )
    shares = energies / energies.sum() if energies.sum() > 0 else np.full(3, 1 / 3)
    onset_total = float(series.onset.sum())
    kick_share = float(series.onset_low.sum()) / onset_total if onset_total > 0 else 0.0
    chroma = chroma_summary(series.chroma[:, :12]) + chroma_summary(series.chroma[:, 12:])
    if key is not None:
        chroma = np.roll(chroma, -key.tonic)  # key-relative: similar harmony in any key matches
    chroma = chroma / chroma.max() if chroma.max() > 0 else chroma
    finite = short_term_lufs[short_term_lufs > -70.0]
    dynamics = (
        float(np.percentile(finite, 95) - np.percentile(finite, 10)) / 20.0 if finite.size else 0.0
    )
    vec = [
        *mean_c.tolist(), *var_c.tolist(), d.brightness, *shares.tolist(),
        d.tempo if bpm_confidence > 0 else 0.0, bpm_confidence, d.density, kick_share,
        *chroma.tolist(),
        0.5 if key is None else (1.0 if key.mode == "major" else 0.0), key_confidence,
        d.loudness, 0.0 if energy is None else (energy - 1) / 9.0, _clip01(dynamics),
    ]  # fmt: skip
    assert len(vec) == len(FEATURE_NAMES)
    return [round(float(v), 4) for v in vec]
