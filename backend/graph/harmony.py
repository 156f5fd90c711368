"""Harmonic mixing rules on Camelot codes ("8A", "12B") and tempos, with short human-readable reasons.

Key names (C minor, Ebm, 5m …) are converted to Camelot by the analysis area; this module only sees codes,
so it has no dependency on it. On the Camelot wheel, numbers 1–12 go round the circle of fifths, "A" is minor
and "B" is major: the same code, ±1 number, or the other letter with the same number mix without a clash.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass

_CAMELOT = re.compile(r"^\s*(1[0-2]|0?[1-9])\s*([ABab])\s*$")

# Score of each key relation (1 = perfect). Boost moves change the mood on purpose, so they score lower.
KEY_SCORES: dict[str, float] = {
    "same": 1.0,
    "adjacent": 0.9,
    "relative": 0.85,
    "boost+2": 0.6,
    "boost+7": 0.55,
}
# One semitone up moves 7 steps round the wheel (a fifth is one step; 7 fifths = 1 semitone mod 12).
SEMITONE_STEPS = 7
TEMPO_FACTORS = (1.0, 2.0, 0.5)


@dataclass(frozen=True)
class Camelot:
    """A parsed Camelot code."""

    number: int  # 1..12
    letter: str  # "A" (minor) or "B" (major)

    def __str__(self) -> str:
        return f"{self.number}{self.letter}"

    @property
    def index(self) -> int:
        """0..23: a compact integer form used by the k-NN index."""
        return (self.number - 1) * 2 + (0 if self.letter == "A" else 1)

    def shifted(self, semitones: int) -> Camelot:
        """The key after transposing by whole semitones (pitching a record up or down)."""
        return Camelot((self.number - 1 + SEMITONE_STEPS * semitones) % 12 + 1, self.letter)


@functools.lru_cache(maxsize=512)
def parse_camelot(code: str | None) -> Camelot | None:
    """Parse "8A" / "08a" / " 12B "; None for anything that is not a Camelot code."""
    if not code:
        return None
    m = _CAMELOT.match(code)
    if m is None:
        return None
    return Camelot(int(m.group(1)), m.group(2).upper())


def camelot_from_index(index: int) -> Camelot:
    """Inverse of :attr:`Camelot.index`."""
    return Camelot(index // 2 + 1, "A" if index % 2 == 0 else "B")


@dataclass(frozen=True)
class KeyMatch:
    """How two keys relate when mixing from ``a`` into ``b``."""

    relation: str  # a key of KEY_SCORES
    score: float
    reason: str


@functools.lru_cache(maxsize=4096)  # pure, and called for every edge: 24 × 24 keys in practice
def key_relation(a: str | None, b: str | None, *, energy_boost: bool = True) -> KeyMatch | None:
    """The harmonic relation from key ``a`` to key ``b``, or None when they clash (or are unknown)."""
    ka, kb = parse_camelot(a), parse_camelot(b)
    if ka is None or kb is None:
        return None
    step = (kb.number - ka.number) % 12  # 0..11 clockwise
    if ka.letter == kb.letter:
        if step == 0:
            return KeyMatch("same", KEY_SCORES["same"], f"same key {ka}")
        if step in (1, 11):
            sign = "+1" if step == 1 else "−1"
            return KeyMatch("adjacent", KEY_SCORES["adjacent"], f"{ka} → {kb} ({sign})")
        if energy_boost and step == 2:
            return KeyMatch("boost+2", KEY_SCORES["boost+2"], f"{ka} → {kb} (energy boost +2)")
        if energy_boost and step == SEMITONE_STEPS:
            return KeyMatch(
                "boost+7", KEY_SCORES["boost+7"], f"{ka} → {kb} (energy boost, +1 semitone)"
            )
        return None
    if step == 0:
        return KeyMatch("relative", KEY_SCORES["relative"], f"{ka} → {kb} (relative key)")
    return None


def keys_compatible(a: str | None, b: str | None, *, energy_boost: bool = True) -> bool:
    """True when ``a`` mixes into ``b`` or ``b`` into ``a`` (the undirected test the index uses)."""
    return (
        key_relation(a, b, energy_boost=energy_boost) is not None
        or key_relation(b, a, energy_boost=energy_boost) is not None
    )


@dataclass(frozen=True)
class TempoMatch:
    """How ``b`` is played at ``a``'s tempo: at ``factor`` × its BPM, changed by ``change_pct``."""

    factor: float  # 1 (same time), 2 (double time) or 0.5 (half time)
    change_pct: float  # how much b must be sped up (+) or slowed down (−) to match a
    pitch_shift_st: float  # the implied pitch shift in semitones when not using key lock
    score: float
    reason: str


def tempo_match(
    bpm_a: float | None, bpm_b: float | None, tolerance_pct: float
) -> TempoMatch | None:
    """Match ``b``'s tempo to ``a``'s directly or at half/double time, within ``tolerance_pct``."""
    if not bpm_a or not bpm_b or bpm_a <= 0 or bpm_b <= 0:
        return None
    best: TempoMatch | None = None
    for factor in TEMPO_FACTORS:
        effective = bpm_b * factor
        change = (bpm_a / effective - 1.0) * 100.0
        if abs(change) > tolerance_pct + 1e-9:
            continue
        if best is not None and abs(change) >= abs(best.change_pct):
            continue
        shift = 12.0 * math.log2(bpm_a / effective)
        score = 1.0 - 0.5 * abs(change) / tolerance_pct if tolerance_pct > 0 else 1.0
        how = {1.0: "", 2.0: " at double time", 0.5: " at half time"}[factor]
        reason = (
            f"tempo {bpm_b:.1f} → {bpm_a:.1f} BPM{how} ({change:+.1f}%, pitch {shift:+.2f} st)"
            if abs(change) >= 0.05
            else f"same tempo {bpm_a:.1f} BPM{how}"
        )
        best = TempoMatch(factor, change, shift, score, reason)
    return best


@dataclass(frozen=True)
class HarmonicMatch:
    """Everything that makes ``b`` mixable after ``a``: key, tempo, combined score and reasons."""

    key: KeyMatch
    tempo: TempoMatch
    score: float
    reasons: tuple[str, ...]


def harmonic_match(
    key_a: str | None,
    bpm_a: float | None,
    key_b: str | None,
    bpm_b: float | None,
    *,
    tolerance_pct: float = 6.0,
    energy_boost: bool = True,
) -> HarmonicMatch | None:
    """Is ``b`` mixable after ``a``? Keys compatible (after the pitch shift of tempo matching) and tempos.

    When matching tempos without key lock shifts ``b`` by half a semitone or more, its heard key moves too;
    the match is then judged on that shifted key and the reason says so.
    """
    tempo = tempo_match(bpm_a, bpm_b, tolerance_pct)
    if tempo is None:
        return None
    key = key_relation(key_a, key_b, energy_boost=energy_boost)
    semis = round(tempo.pitch_shift_st)
    kb = parse_camelot(key_b)
    if key is None and semis != 0 and kb is not None:
        heard = kb.shifted(semis)
        shifted = key_relation(key_a, str(heard), energy_boost=energy_boost)
        if shifted is not None:
            key = KeyMatch(
                shifted.relation,
                shifted.score * 0.9,
                f"{shifted.reason}; {kb} heard as {heard} without key lock",
            )
    if key is None:
        return None
    score = round(key.score * tempo.score, 4)
    return HarmonicMatch(key, tempo, score, (key.reason, tempo.reason))


def energy_reason(energy_a: float | None, energy_b: float | None) -> str | None:
    """A short phrase for the energy change from ``a`` to ``b`` (None when unknown or flat)."""
    if energy_a is None or energy_b is None:
        return None
    delta = energy_b - energy_a
    if abs(delta) < 0.05:
        return "same energy"
    return f"energy {'up' if delta > 0 else 'down'} {abs(delta):.2f}"


__all__ = [
    "KEY_SCORES",
    "Camelot",
    "HarmonicMatch",
    "KeyMatch",
    "TempoMatch",
    "camelot_from_index",
    "energy_reason",
    "harmonic_match",
    "key_relation",
    "keys_compatible",
    "parse_camelot",
    "tempo_match",
]
