"""Turns one precomputed waveform level into an RGBA image for a pixel range (pure numpy, no Qt).

Each pixel column aggregates the level's bins under it (min of minima, max of maxima, mean band levels),
so a redraw costs O(visible bins + pixels) whatever the track length. Colour follows the band balance:
bass red, mids green, highs blue (the Serato convention DJs read at a glance).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from backend.api.media import WaveLevel

RGBA = npt.NDArray[np.uint8]

# Band colours (RGB 0..1): low, mid, high.
BAND_COLOURS = np.array([[1.0, 0.16, 0.24], [0.25, 0.88, 0.35], [0.3, 0.55, 1.0]], dtype=np.float32)


def column_bins(
    level: WaveLevel, t0: float, t1: float, width: int
) -> tuple[np.ndarray, np.ndarray]:
    """Start bin of every pixel column, and a mask of the columns inside the track."""
    edges = np.linspace(t0, t1, width + 1) / level.seconds_per_bin
    starts = np.floor(edges[:-1]).astype(np.int64)
    inside = (edges[1:] > 0) & (starts < level.bins)
    return np.clip(starts, 0, max(level.bins - 1, 0)), inside


def render_columns(
    level: WaveLevel, t0: float, t1: float, width: int, height: int, *, gain: float = 1.0
) -> RGBA:
    """RGBA image (rows bottom→top = amplitude −1→1, columns = time t0→t1) of ``level``."""
    width, height = max(1, int(width)), max(2, int(height))
    image = np.zeros((height, width, 4), dtype=np.uint8)
    if level.bins == 0 or t1 <= t0:
        return image
    starts, inside = column_bins(level, t0, t1, width)
    end = int(min(np.ceil(t1 / level.seconds_per_bin), level.bins))
    end = max(end, int(starts[-1]) + 1)
    # reduceat over each column's bins; a repeated start (zoomed past 1 bin/pixel) repeats that bin.
    # The extra index stops the last column at the visible end instead of the end of the track.
    idx = np.append(starts, end) if end < level.bins else starts
    n = width

    def reduce(ufunc: np.ufunc, values: np.ndarray) -> np.ndarray:
        return np.asarray(ufunc.reduceat(values, idx)[:n])

    lo = reduce(np.minimum, level.minimum) * gain
    hi = reduce(np.maximum, level.maximum) * gain
    counts = np.diff(np.append(starts, end)).clip(min=1)
    bands = np.stack(
        [reduce(np.add, b) / counts for b in (level.low, level.mid, level.high)], axis=1
    )
    # Squaring the band levels lets the dominant band set the hue (a kick reads red, a hi-hat blue).
    rgb = (bands * bands) @ BAND_COLOURS
    rgb /= np.maximum(rgb.max(axis=1, keepdims=True), 1e-6)
    # Quiet passages get a dimmer colour so the eye finds breakdowns.
    loudness = np.clip(np.maximum(np.abs(lo), np.abs(hi)), 0.0, 1.0)
    rgb *= (0.55 + 0.45 * loudness)[:, None]
    y = np.linspace(-1.0, 1.0, height, dtype=np.float32)[:, None]
    filled = (y >= np.minimum(lo, -0.004)[None, :]) & (y <= np.maximum(hi, 0.004)[None, :])
    filled &= inside[None, :]
    colour = (rgb * 255.0).astype(np.uint8)
    image[..., :3] = colour[None, :, :]
    image[..., 3] = np.where(filled, 255, 0).astype(np.uint8)
    return image


def visible_beats(beats: np.ndarray, t0: float, t1: float) -> np.ndarray:
    """The beat times inside [t0, t1] (beats are sorted)."""
    if beats.size == 0:
        return beats
    i0, i1 = np.searchsorted(beats, [t0, t1])
    return beats[i0:i1]
