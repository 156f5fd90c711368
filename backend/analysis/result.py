"""The analysis result: a frozen, JSON-serialisable record, versioned by ALGORITHM_VERSION.

Bump ALGORITHM_VERSION whenever a change alters any value below: stored results are keyed by
(audio fingerprint, version) and recomputed when the version differs.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

ALGORITHM_VERSION = "tracktion-analysis-1.3"

FEATURE_NAMES: tuple[str, ...] = (
    *(f"timbre_c{i}" for i in range(1, 13)),  # DCT of the mean log band spectrum (MFCC-like)
    *(f"timbre_var{i}" for i in range(1, 5)),  # std over time of the first 4 coefficients
    "brightness",  # mean spectral centroid, log-scaled 0..1
    "low_ratio", "mid_ratio", "high_ratio",  # share of energy per waveform band
    "bpm_norm", "pulse_clarity", "onset_density", "kick_share",  # rhythm
    *(f"chroma_{i}" for i in range(12)),  # key-relative chroma profile (index 0 = tonic)
    "majorness", "key_clarity",  # tonal
    "loudness_norm", "energy_norm", "dynamics",  # level
)  # fmt: skip


@dataclass(frozen=True)
class TimelineWindow:
    """Tempo/key/energy of one window of a long recording."""

    start_s: float
    end_s: float
    bpm: float | None
    key: str | None
    energy: int | None


@dataclass(frozen=True)
class Transition:
    """A candidate change of track in a long recording; strength 0..1."""

    time_s: float
    strength: float


@dataclass(frozen=True)
class AnalysisResult:
    """Everything one analysis pass learns about a file (the waveform is kept apart: see waveform.py)."""

    duration_s: float
    sample_rate: int
    channels: int
    codec: str
    bpm: float | None
    bpm_confidence: float
    bpm_alternative: float | None
    beat_offset_s: float | None  # first downbeat (s); beats repeat every 60/bpm s from it
    beats: list[float] | None  # explicit beat times when the tempo is not steady, else None
    key: str | None  # "A minor"
    camelot: str | None  # "8A"
    open_key: str | None  # "1m"
    key_confidence: float
    energy: int | None  # 1..10
    loudness_lufs: float | None
    true_peak_db: float | None
    sample_peak: float  # linear 0..1
    replaygain_db: float | None
    silence_start_s: float  # first audible instant (end of the leading silence)
    silence_end_s: float  # last audible instant (start of the trailing silence)
    features: list[float]  # FEATURE_NAMES, each roughly in 0..1
    timeline: list[TimelineWindow] | None = None
    transitions: list[Transition] | None = None
    algorithm_version: str = ALGORITHM_VERSION
    warnings: list[str] = field(default_factory=list)

    @property
    def peak_db(self) -> float | None:
        """Sample peak in dBFS."""
        import math

        return None if self.sample_peak <= 0 else round(20 * math.log10(self.sample_peak), 2)

    def to_json(self) -> dict[str, Any]:
        """JSON-safe dict (no waveform)."""
        return dataclasses.asdict(self)

    def to_json_str(self) -> str:
        """Compact JSON text."""
        return json.dumps(self.to_json(), separators=(",", ":"))

    @classmethod
    def from_json(cls, data: dict[str, Any] | str) -> AnalysisResult:
        """Inverse of :meth:`to_json` (accepts the dict or its JSON text)."""
        raw = json.loads(data) if isinstance(data, str) else dict(data)
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in raw.items() if k in known}
        if values.get("timeline") is not None:
            values["timeline"] = [TimelineWindow(**w) for w in values["timeline"]]
        if values.get("transitions") is not None:
            values["transitions"] = [Transition(**t) for t in values["transitions"]]
        return cls(**values)
