"""Audio analysis: tempo, beat grid, key, energy, loudness, waveform and mix timelines.

Public entry point: :func:`backend.analysis.analyzer.analyze_file` (re-exported here). The re-exports load on
first use: the app imports ``backend.analysis.keys`` at start-up and must not pay for SciPy there (only the
analysis pool processes need it).
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "ALGORITHM_VERSION": "backend.analysis.result",
    "AnalysisCancelled": "backend.analysis.analyzer",
    "AnalysisResult": "backend.analysis.result",
    "DecodeError": "backend.analysis.decode",
    "Waveform": "backend.analysis.waveform",
    "analyze_file": "backend.analysis.analyzer",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'backend.analysis' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
