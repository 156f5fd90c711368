"""Long recordings (DJ mixes): a tempo/key/energy timeline and candidate track transitions.

Timeline: fixed windows (30 s), each with its own tempo (onset autocorrelation + metrical choice, no
beat tracking), key (chroma of the window with 15 s of context either side) and energy.

Transitions: per second, a feature vector of timbre (24 log bands), harmony (24 chroma bins) and
rhythm (a local tempogram: onset autocorrelation over 8 s at 16 log-spaced lags of 60–200 BPM), each
group z-scored. Novelty at t = distance between the means of the preceding and following W seconds,
divided by the spread inside them (a two-window change statistic; it peaks mid-cross-fade). Peaks at
least MIN_GAP_S apart and above a robust threshold are candidates; strength = novelty / the 90th
percentile of peaks, clipped to 0..1.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view
from scipy import fft as sfft
from scipy.ndimage import uniform_filter1d
from scipy.signal import find_peaks

from backend.analysis import tempo as tempo_mod
from backend.analysis.features import descriptors, energy_rating
from backend.analysis.loudness import integrated_loudness
from backend.analysis.result import TimelineWindow, Transition
from backend.analysis.spectral import FrameSeries
from backend.analysis.tonal import estimate_key

F64 = npt.NDArray[np.float64]

WINDOW_S = 30.0
KEY_CONTEXT_S = 15.0
NOVELTY_HALF_S = 24
MIN_GAP_S = 30.0
NOVELTY_BATCH_S = 600
CHUNK_S = 120  # tempogram rows per FFT batch: bounds its temporaries to ~2.5 MB


def timeline(series: FrameSeries, segment_power: F64, duration_s: float) -> list[TimelineWindow]:
    """One entry per WINDOW_S of audio (the last one may be shorter)."""
    out: list[TimelineWindow] = []
    fps = series.fps
    start = 0.0
    while start < duration_s - 1.0:
        end = min(duration_s, start + WINDOW_S)
        a, b = int(start * fps), int(end * fps)
        bpm: float | None = None
        env = tempo_mod.normalise_envelope(series.onset[a:b], fps)
        if len(env) > fps * 8 and np.any(env):
            max_lag = int(4 * 60.0 * fps / tempo_mod.MIN_BPM) + 2
            r_full = tempo_mod.autocorrelation(env, max_lag)
            coarse, strength, _ = tempo_mod.choose_tempo(r_full, fps)
            if strength * 1.6 >= tempo_mod.MIN_CONFIDENCE:
                bpm = round(coarse, 1)
        ca = int(max(0.0, start - KEY_CONTEXT_S) * series.chroma_fps)
        cb = int((end + KEY_CONTEXT_S) * series.chroma_fps)
        key, _ = estimate_key(series.chroma[ca:cb])
        seg = segment_power[int(start * 10) : int(end * 10)]
        loud = integrated_loudness(seg)
        energy = None
        if loud is not None:
            energy = energy_rating(descriptors(series, loud, bpm, a, b))
        out.append(TimelineWindow(round(start, 2), round(end, 2), bpm,
                                  key.name if key else None, energy))  # fmt: skip
        start = end
    return out


def _zscore(x: F64) -> F64:
    mean = x.mean(axis=0, keepdims=True)
    std = x.std(axis=0, keepdims=True) + 1e-6
    return np.asarray((x - mean) / std)


def _per_second(values: npt.NDArray[np.float32], rate: float, seconds: int) -> F64:
    """Average a (frames, d) series into ``seconds`` rows (float64 sums, no float64 copy of the input)."""
    idx = np.minimum((np.arange(len(values)) / rate).astype(int), seconds - 1)
    out = np.zeros((seconds, values.shape[1]))
    if len(values):
        starts = np.flatnonzero(np.r_[True, idx[1:] != idx[:-1]])
        out[idx[starts]] = np.add.reduceat(values, starts, axis=0, dtype=np.float64)
    counts = np.bincount(idx, minlength=seconds)[:, None]
    return np.asarray(out / np.maximum(counts, 1))


def _tempogram(series: FrameSeries, seconds: int) -> F64:
    """Per second: onset autocorrelation (8 s window) at 16 log-spaced beat lags (60–200 BPM).

    Computed in chunks of CHUNK_S seconds so a 3-hour mix never holds all windows' spectra at once.
    """
    fps = series.fps
    env = tempo_mod.normalise_envelope(series.onset, fps)
    width = int(8 * fps)
    step = round(fps)
    out = np.zeros((seconds, 16))
    if len(env) < width + 1:
        return out
    pad = np.concatenate([np.zeros(width // 2), env, np.zeros(width)])
    size = sfft.next_fast_len(2 * width)
    lags = np.round(60.0 * fps / np.geomspace(60.0, 200.0, 16)).astype(int)
    windows = sliding_window_view(pad, width)[::step][:seconds]
    for start in range(0, len(windows), CHUNK_S):
        frames = windows[start : start + CHUNK_S]
        frames = frames - frames.mean(axis=1, keepdims=True)
        spec = sfft.rfft(frames, size, axis=1)
        acf = sfft.irfft(spec.real**2 + spec.imag**2, size, axis=1)
        out[start : start + len(frames)] = acf[:, lags] / np.maximum(acf[:, :1], 1e-9)
    return out


def novelty(series: FrameSeries, half: int = NOVELTY_HALF_S) -> F64:
    """Two-window change statistic per second (see module docstring)."""
    seconds = len(series.timbre)
    if seconds < 2 * half + 2:
        return np.zeros(seconds)
    chroma = _per_second(series.chroma, series.chroma_fps, seconds)
    chroma = chroma / np.maximum(chroma.max(axis=1, keepdims=True), 1e-9)
    feats = np.hstack([_zscore(series.timbre.astype(np.float64)), _zscore(chroma),
                       _zscore(_tempogram(series, seconds))])  # fmt: skip
    csum = np.vstack([np.zeros((1, feats.shape[1])), np.cumsum(feats, axis=0)])
    feats **= 2
    csq = np.vstack([np.zeros((1, feats.shape[1])), np.cumsum(feats, axis=0)])
    del feats
    out = np.zeros(seconds)
    # In batches of rows: the window statistics of a 3-hour mix would be a dozen (seconds, 64) arrays.
    for first in range(half, seconds - half, NOVELTY_BATCH_S):
        t = np.arange(first, min(first + NOVELTY_BATCH_S, seconds - half))
        left = (csum[t] - csum[t - half]) / half
        right = (csum[t + half] - csum[t]) / half
        var_l = (csq[t] - csq[t - half]) / half - left**2
        var_r = (csq[t + half] - csq[t]) / half - right**2
        spread = np.sqrt(np.maximum(var_l + var_r, 0).mean(axis=1)) + 0.5
        out[t] = np.sqrt(((left - right) ** 2).mean(axis=1)) / spread
    return np.asarray(uniform_filter1d(out, 5))


def transitions(series: FrameSeries) -> list[Transition]:
    """Candidate track changes with strength 0..1, in time order."""
    curve = novelty(series)
    if not np.any(curve):
        return []
    inner = curve[curve > 0]
    threshold = float(np.median(inner) + 1.0 * np.median(np.abs(inner - np.median(inner))))
    peaks, props = find_peaks(curve, height=threshold, distance=int(MIN_GAP_S),
                              prominence=0.25 * float(np.median(inner)))  # fmt: skip
    if len(peaks) == 0:
        return []
    heights = props["peak_heights"]
    ref = float(np.percentile(heights, 90)) or 1.0
    return [Transition(float(p) + 0.5, round(float(min(1.0, h / ref)), 3))
            for p, h in zip(peaks, heights, strict=True)]  # fmt: skip
