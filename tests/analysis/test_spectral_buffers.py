"""The frame series do not depend on the duration a file declares (headers can be wrong or corrupt)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from backend.analysis.spectral import SpectralAnalyzer
from backend.audio.synth import render_track


@pytest.mark.parametrize("declared_s", [None, 0.5, 1e12])
def test_series_are_identical_whatever_duration_the_header_declares(
    declared_s: float | None,
) -> None:
    audio = render_track(128.0, "A minor", 40.0, 22050, seed=2)[None, :]
    series = []
    for expected in (40.0, declared_s):
        analyzer = SpectralAnalyzer(22050, expected)
        for start in range(0, audio.shape[1], 4096):
            analyzer.feed(audio[:, start : start + 4096])
        series.append(analyzer.finish())
    exact, other = series
    assert len(exact.onset) == pytest.approx(40.0 * exact.fps, abs=2)
    for field in dataclasses.fields(exact):
        np.testing.assert_array_equal(getattr(other, field.name), getattr(exact, field.name))
