"""Tempo, metrical level, beat grid and downbeat from onset-strength envelopes.

1. Periodicity: autocorrelation of the (locally mean-removed) onset envelopes, full band and kick band.
2. Candidates: peaks of a salience curve over 60–200 BPM. The metrical level is chosen among the
   best peak and its ½, ⅔, 3⁄2 and 2 multiples by salience × a broad log-normal prior (centre ~128
   BPM) × a bonus when the kick band pulses at that level — the usual DJ convention ("the kick marks
   the beat"), which is what fixes the ½×/2× mistakes of plain beat trackers.
3. Beats: librosa's dynamic-programming tracker at the chosen tempo, each beat refined to its onset
   peak (parabolic interpolation), then a robust line fit of beat time vs index: its slope gives the
   BPM to 0.1 and its residual tells whether the tempo is steady (grid) or not (beat list).
4. Downbeat: the beat phase (of 4) with the most kick + harmonic change.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import fft as sfft
from scipy.ndimage import uniform_filter1d

FloatArray = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]

MIN_BPM, MAX_BPM = 60.0, 200.0
PRIOR_CENTER_BPM, PRIOR_WIDTH_OCT = 128.0, 0.9
MIN_CONFIDENCE = 0.12  # below this the signal has no usable pulse (noise, ambient, silence)
STEADY_RESIDUAL_S = 0.012
ONSET_LAG_S = 0.0  # systematic delay of flux peaks vs true onsets, calibrated on clicks


@dataclass(frozen=True)
class TempoResult:
    """Tempo estimate for a whole file or a window."""

    bpm: float | None
    confidence: float
    alternative: float | None = None  # runner-up metrical level (½×, ⅔×, 3⁄2×, 2×)
    beat_offset_s: float | None = None  # time of the first downbeat
    beats: list[float] | None = None  # beat times when the tempo is not steady
    steady: bool = False


def normalise_envelope(onset: FloatArray, fps: float) -> F64:
    """Remove the local mean (≈0.4 s) and half-wave rectify, so periodicity is about accents."""
    env = onset.astype(np.float64)
    if env.size == 0:
        return env
    env = env - uniform_filter1d(env, size=max(3, int(fps * 0.4)), mode="nearest")
    np.maximum(env, 0.0, out=env)
    std = env.std()
    return env / std if std > 0 else env


def autocorrelation(env: F64, max_lag: int) -> F64:
    """Unbiased autocorrelation up to ``max_lag``, normalised so lag 0 = 1."""
    n = len(env)
    if n < 4:
        return np.zeros(max_lag + 1)
    x = env - env.mean()
    size = sfft.next_fast_len(2 * n)
    spec = sfft.rfft(x, size)
    r = sfft.irfft(spec.real**2 + spec.imag**2, size)[: max_lag + 1]
    r = r / np.maximum(n - np.arange(len(r)), 1)
    return r / r[0] if r[0] > 0 else np.zeros(len(r))


def _at(r: F64, lag: float) -> float:
    """Autocorrelation at a fractional lag: the best of the neighbouring bins (peaks are sharp)."""
    i = int(lag)
    if i + 1 >= len(r) or i < 1:
        return 0.0
    frac = lag - i
    return float(max(r[i] * (1 - frac) + r[i + 1] * frac, r[i], r[i + 1]) if frac else r[i])


def salience(r: F64, fps: float, bpm: float) -> float:
    """Periodicity strength at ``bpm``: the beat lag plus its first multiples (comb)."""
    lag = 60.0 * fps / bpm
    return _at(r, lag) + 0.5 * _at(r, 2 * lag) + 0.25 * _at(r, 4 * lag)


def _prior(bpm: float) -> float:
    return float(np.exp(-0.5 * (np.log2(bpm / PRIOR_CENTER_BPM) / PRIOR_WIDTH_OCT) ** 2))


def choose_tempo(r_full: F64, r_low: F64, fps: float) -> tuple[float, float, float | None]:
    """Coarse tempo, its periodicity strength and the runner-up metrical level."""
    grid = np.arange(MIN_BPM, MAX_BPM + 0.01, 0.25)
    curve = np.array([salience(r_full, fps, b) for b in grid])
    best = float(grid[int(np.argmax(curve))])
    scored: dict[float, float] = {}
    for mult in (0.5, 2.0 / 3.0, 1.0, 1.5, 2.0):
        cand = best * mult
        if not MIN_BPM <= cand <= MAX_BPM:
            continue
        local = grid[np.abs(grid - cand) <= cand * 0.02]  # re-centre on the local peak
        cand = float(local[int(np.argmax([salience(r_full, fps, b) for b in local]))])
        kick = max(0.0, _at(r_low, 60.0 * fps / cand)) - max(0.0, _at(r_low, 30.0 * fps / cand))
        scored[cand] = salience(r_full, fps, cand) * _prior(cand) * (1.0 + max(0.0, kick))
    ranked = sorted(scored, key=lambda c: -scored[c])
    chosen = ranked[0]
    strength = _at(r_full, 60.0 * fps / chosen)
    return chosen, strength, (ranked[1] if len(ranked) > 1 else None)


def _refine_peaks(env: F64, frames: npt.NDArray[np.int64], radius: int) -> F64:
    """Move each beat frame to the onset peak within ±radius, with sub-frame parabolic interpolation."""
    out = np.empty(len(frames))
    n = len(env)
    for i, f in enumerate(frames):
        lo, hi = max(0, f - radius), min(n, f + radius + 1)
        j = lo + int(np.argmax(env[lo:hi])) if hi > lo else f
        if 0 < j < n - 1:
            a, b, c = env[j - 1], env[j], env[j + 1]
            denom = a - 2 * b + c
            out[i] = j + (0.5 * (a - c) / denom if denom < 0 else 0.0)
        else:
            out[i] = j
    return out


def _fit_line(times: F64) -> tuple[float, float, F64]:
    """Robust fit times ≈ a + p·k (two passes dropping outliers); returns (a, p, residuals)."""
    k = np.arange(len(times), dtype=np.float64)
    keep = np.ones(len(times), dtype=bool)
    a = p = 0.0
    for _ in range(2):
        p, a = np.polyfit(k[keep], times[keep], 1)
        res = times - (a + p * k)
        mad = np.median(np.abs(res[keep])) + 1e-4
        keep = np.abs(res) < 4 * mad
        if keep.sum() < 4:
            keep[:] = True
            break
    return float(a), float(p), times - (a + p * k)


def track_beats(env: F64, fps: float, bpm: float, hop_s: float) -> F64:
    """Beat times (s) by dynamic programming at ``bpm`` (librosa's tracker, compiled once per process)."""
    import librosa  # imported here: heavy, and the pool warms it once per process

    sr = 22050
    hop = max(1, int(round(hop_s * sr)))
    _, frames = librosa.beat.beat_track(
        onset_envelope=env.astype(np.float32), sr=sr, hop_length=hop, bpm=bpm, tightness=400,
        trim=False, units="frames",
    )  # fmt: skip
    frames = np.asarray(frames, dtype=np.int64)
    if len(frames) == 0:
        return np.zeros(0)
    radius = max(1, int(round(60.0 * fps / bpm / 8)))
    return _refine_peaks(env, frames, radius) / fps


def estimate_tempo(onset: FloatArray, onset_low: FloatArray, fps: float, *,
                   accents: FloatArray | None = None) -> TempoResult:  # fmt: skip
    """Full tempo analysis of one envelope (a track, or one window of a mix).

    ``accents`` (optional, frame rate) marks bar starts (kick + harmonic change) for the downbeat.
    """
    env = normalise_envelope(onset, fps)
    low = normalise_envelope(onset_low, fps)
    if len(env) < fps * 3 or not np.any(env):
        return TempoResult(None, 0.0)
    max_lag = int(4 * 60.0 * fps / MIN_BPM) + 2
    r_full = autocorrelation(env, max_lag)
    r_low = autocorrelation(low, max_lag) if np.any(low) else np.zeros(max_lag + 1)
    coarse, strength, alternative = choose_tempo(r_full, r_low, fps)
    confidence = float(np.clip(strength * 1.6, 0.0, 1.0))
    if confidence < MIN_CONFIDENCE:
        return TempoResult(None, round(confidence, 3))
    # Frame k of the envelope describes the window centred on (k + 1) hops (see spectral.py).
    beats = track_beats(env, fps, coarse, 1.0 / fps) + 1.0 / fps - ONSET_LAG_S
    if len(beats) < 4:
        return TempoResult(round(coarse, 1), round(confidence, 3), alternative)
    a, period, residuals = _fit_line(beats)
    bpm = 60.0 / period if period > 0 else coarse
    if abs(bpm / coarse - 1) > 0.04:  # the fit went astray (tempo changes): trust the local median
        bpm = 60.0 / float(np.median(np.diff(beats)))
    steady = float(np.sqrt(np.mean(residuals**2))) < STEADY_RESIDUAL_S
    grid_beats = a + period * np.arange(len(beats)) if steady else beats
    downbeat = _downbeat(grid_beats, accents, low, fps)
    if alternative is not None:
        alternative = round(bpm * alternative / coarse, 1)
    return TempoResult(
        bpm=round(bpm, 1), confidence=round(confidence, 3), alternative=alternative,
        beat_offset_s=round(downbeat, 4), beats=None if steady else [round(b, 4) for b in beats],
        steady=steady,
    )  # fmt: skip


def _downbeat(beats: F64, accents: FloatArray | None, low: F64, fps: float) -> float:
    """First downbeat: the phase (mod 4) whose beats carry the most accent."""
    first_real = beats[beats >= 0]
    if len(first_real) == 0:
        return 0.0
    beats = first_real
    signal = low if accents is None or len(accents) != len(low) else low + accents.astype(np.float64)
    idx = np.clip(np.round(beats * fps).astype(int) - 1, 0, max(0, len(signal) - 1))
    values = signal[idx] if len(signal) else np.zeros(len(beats))
    scores = [float(values[p::4].mean()) if len(values[p::4]) else 0.0 for p in range(4)]
    return float(beats[int(np.argmax(scores))])
