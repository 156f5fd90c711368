"""Audio analysis: tempo, beat grid, key, energy, loudness, waveform and mix timelines.

Public entry point: :func:`backend.analysis.analyzer.analyze_file` (re-exported here).
"""

from backend.analysis.analyzer import AnalysisCancelled, analyze_file
from backend.analysis.decode import DecodeError
from backend.analysis.result import ALGORITHM_VERSION, AnalysisResult
from backend.analysis.waveform import Waveform

__all__ = [
    "ALGORITHM_VERSION",
    "AnalysisCancelled",
    "AnalysisResult",
    "DecodeError",
    "Waveform",
    "analyze_file",
]
