"""A steady tempo's beat grid, drawn from the start of the track (light: no SciPy, the app imports it)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def beat_grid(bpm: float, beat_s: float, duration_s: float) -> tuple[npt.NDArray[np.float64], int]:
    """Every beat of ``bpm`` through the beat at ``beat_s``, from the first one after 0 s to
    ``duration_s``, and how many of them come before ``beat_s`` (DJ software draws the grid back to the
    start of the track the same way)."""
    period = 60.0 / bpm
    before = int(beat_s // period)
    return np.arange(beat_s - before * period, duration_s, period, dtype=np.float64), before
