"""The 24 musical keys: standard names, Camelot and Open Key codes, and harmonic-mixing helpers.

Spelling convention (one, everywhere): pitch classes are named
``C C# D Eb E F F# G Ab A Bb B`` — sharps for C#/F#, flats for Eb/Ab/Bb, the spelling most DJ
software shows — followed by `` major`` or `` minor`` ("A minor", "F# minor", "Eb major").
Parsing accepts any enharmonic spelling and the usual abbreviations ("G#m", "Abm", "a min", "8A", "1m").

Camelot: 8A = A minor, 8B = C major; +1 on the wheel is a fifth up. Open Key: 1m = A minor,
1d = C major (Open Key number = Camelot number - 7, wrapped to 1..12).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

PITCH_NAMES: tuple[str, ...] = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
_PITCH_ALIASES: dict[str, int] = {
    "C": 0, "B#": 0, "C#": 1, "DB": 1, "D": 2, "D#": 3, "EB": 3, "E": 4, "FB": 4, "F": 5, "E#": 5,
    "F#": 6, "GB": 6, "G": 7, "G#": 8, "AB": 8, "A": 9, "A#": 10, "BB": 10, "B": 11, "CB": 11,
}  # fmt: skip

Mode = Literal["major", "minor"]


@dataclass(frozen=True, order=True)
class Key:
    """A key as (tonic pitch class 0..11 with C = 0, mode)."""

    tonic: int
    mode: Mode

    @property
    def name(self) -> str:
        """Standard name, e.g. "A minor"."""
        return f"{PITCH_NAMES[self.tonic]} {self.mode}"

    @property
    def camelot(self) -> str:
        """Camelot code, e.g. "8A"."""
        # Major keys: C = 8B and each fifth up adds one; minor keys share the number of the relative major.
        major_tonic = self.tonic if self.mode == "major" else (self.tonic + 3) % 12
        number = (8 - 1 + 7 * major_tonic) % 12 + 1
        return f"{number}{'B' if self.mode == 'major' else 'A'}"

    @property
    def open_key(self) -> str:
        """Open Key code, e.g. "1m"."""
        number = int(self.camelot[:-1])
        return f"{(number - 8) % 12 + 1}{'d' if self.mode == 'major' else 'm'}"

    @property
    def index(self) -> int:
        """0..23: majors 0..11 then minors 12..23, by tonic (used by templates and arrays)."""
        return self.tonic + (0 if self.mode == "major" else 12)

    def __str__(self) -> str:
        return self.name


ALL_KEYS: tuple[Key, ...] = tuple(Key(t, "major") for t in range(12)) + tuple(
    Key(t, "minor") for t in range(12)
)
_BY_CAMELOT = {k.camelot: k for k in ALL_KEYS}
_BY_OPEN_KEY = {k.open_key: k for k in ALL_KEYS}

_CAMELOT_RE = re.compile(r"^\s*(1[0-2]|[1-9])\s*([AaBb])\s*$")
_OPEN_KEY_RE = re.compile(r"^\s*(1[0-2]|[1-9])\s*([MmDd])\s*$")
_NAME_RE = re.compile(
    r"^\s*([A-Ga-g])\s*([#♯b♭]?)\s*(major|minor|maj|min|m|M|dur|moll)?\s*$",
)


class KeyParseError(ValueError):
    """Text that is not one of the 24 keys in any accepted notation."""


def from_camelot(code: str) -> Key:
    """Key for a Camelot code ("8A")."""
    match = _CAMELOT_RE.match(code)
    if not match:
        raise KeyParseError(f"not a Camelot code: {code!r}")
    return _BY_CAMELOT[f"{int(match.group(1))}{match.group(2).upper()}"]


def from_open_key(code: str) -> Key:
    """Key for an Open Key code ("1m")."""
    match = _OPEN_KEY_RE.match(code)
    if not match:
        raise KeyParseError(f"not an Open Key code: {code!r}")
    return _BY_OPEN_KEY[f"{int(match.group(1))}{match.group(2).lower()}"]


def from_name(text: str) -> Key:
    """Key for a name in any common spelling ("A minor", "Am", "G#m", "Abm", "Eb major", "C")."""
    match = _NAME_RE.match(text)
    if not match:
        raise KeyParseError(f"not a key name: {text!r}")
    letter, accidental, mode_text = match.groups()
    accidental = {"♯": "#", "♭": "b"}.get(accidental, accidental)
    pitch = _PITCH_ALIASES.get((letter + accidental).upper())
    if pitch is None:
        raise KeyParseError(f"not a key name: {text!r}")
    minor = (
        mode_text is not None and mode_text.lower() in {"minor", "min", "moll"}
    ) or mode_text == "m"
    return Key(pitch, "minor" if minor else "major")


def parse_key(text: str) -> Key:
    """Key from a standard name, a Camelot code or an Open Key code."""
    for parser in (from_camelot, from_open_key, from_name):
        try:
            return parser(text)
        except KeyParseError:
            continue
    raise KeyParseError(f"not a key (name, Camelot or Open Key): {text!r}")


def name_to_camelot(name: str) -> str:
    """ "A minor" → "8A"."""
    return parse_key(name).camelot


def camelot_to_name(code: str) -> str:
    """ "8A" → "A minor"."""
    return from_camelot(code).name


def camelot_to_open_key(code: str) -> str:
    """ "8A" → "1m"."""
    return from_camelot(code).open_key


def open_key_to_camelot(code: str) -> str:
    """ "1m" → "8A"."""
    return from_open_key(code).camelot


# ---- harmonic mixing on the Camelot wheel ---------------------------------------------------------------

Relation = Literal["same", "up", "down", "relative", "boost2", "boost7"]


def _shift(code: str, steps: int, flip: bool = False) -> str:
    key = from_camelot(code)
    number = (int(key.camelot[:-1]) - 1 + steps) % 12 + 1
    letter = key.camelot[-1]
    if flip:
        letter = "B" if letter == "A" else "A"
    return f"{number}{letter}"


def harmonic_neighbors(code: str, *, include_boost: bool = True) -> dict[Relation, str]:
    """Compatible Camelot codes for a mix from ``code``.

    same; up/down = ±1 (a fifth); relative = same number, other letter; boost2 = +2 ("energy boost",
    a whole tone up); boost7 = +7 (a semitone up). Boosts are left out when ``include_boost`` is false.
    """
    code = from_camelot(code).camelot
    out: dict[Relation, str] = {
        "same": code,
        "up": _shift(code, 1),
        "down": _shift(code, -1),
        "relative": _shift(code, 0, flip=True),
    }
    if include_boost:
        out["boost2"] = _shift(code, 2)
        out["boost7"] = _shift(code, 7)
    return out


def relation(a: str, b: str) -> Relation | None:
    """How Camelot code ``b`` relates to ``a`` (see :func:`harmonic_neighbors`), or None if not compatible."""
    b = from_camelot(b).camelot
    for rel, code in harmonic_neighbors(a).items():
        if code == b:
            return rel
    return None


def is_compatible(a: str, b: str, *, include_boost: bool = False) -> bool:
    """True when ``b`` mixes harmonically after ``a`` (same, ±1, relative; boosts if asked)."""
    return from_camelot(b).camelot in harmonic_neighbors(a, include_boost=include_boost).values()


def compatible_codes(code: str, *, include_boost: bool = False) -> list[str]:
    """Codes matched by a ``key:~8A`` query: the code itself and its compatible neighbours."""
    return list(dict.fromkeys(harmonic_neighbors(code, include_boost=include_boost).values()))
