"""Fixtures for the analysis tests: generated audio written to real files of every format."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

# librosa's compiled beat tracker is cached between test processes (and the CLI subprocess test).
os.environ.setdefault("NUMBA_CACHE_DIR", str(Path(tempfile.gettempdir()) / "tracktion-test-numba"))

from backend.audio.synth import render_track, write_audio

WriteClip = Callable[..., Path]


@pytest.fixture
def write_clip(tmp_path: Path) -> WriteClip:
    """write_clip(name, samples=None, sr=44100, **encode_kw) → path; samples default to a 128 BPM clip."""

    def write(name: str, samples: np.ndarray | None = None, sr: int = 44100, **kw: Any) -> Path:
        if samples is None:
            samples = render_track(128.0, "A minor", 8.0, sr, seed=7)
        return write_audio(tmp_path / name, samples, sr, **kw)

    return write
