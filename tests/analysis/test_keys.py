"""The 24-key table and the harmonic-mixing helpers the graph and the `key:~8A` query rely on."""

from __future__ import annotations

import pytest

from backend.analysis import keys

# (standard name, Camelot, Open Key) for all 24 keys — the published Camelot / Open Key wheels.
TABLE = [
    ("Ab minor", "1A", "6m"), ("B major", "1B", "6d"),
    ("Eb minor", "2A", "7m"), ("F# major", "2B", "7d"),
    ("Bb minor", "3A", "8m"), ("C# major", "3B", "8d"),
    ("F minor", "4A", "9m"), ("Ab major", "4B", "9d"),
    ("C minor", "5A", "10m"), ("Eb major", "5B", "10d"),
    ("G minor", "6A", "11m"), ("Bb major", "6B", "11d"),
    ("D minor", "7A", "12m"), ("F major", "7B", "12d"),
    ("A minor", "8A", "1m"), ("C major", "8B", "1d"),
    ("E minor", "9A", "2m"), ("G major", "9B", "2d"),
    ("B minor", "10A", "3m"), ("D major", "10B", "3d"),
    ("F# minor", "11A", "4m"), ("A major", "11B", "4d"),
    ("C# minor", "12A", "5m"), ("E major", "12B", "5d"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "camelot", "open_key"), TABLE)
def test_full_table_both_ways(name: str, camelot: str, open_key: str) -> None:
    key = keys.from_name(name)
    assert (key.name, key.camelot, key.open_key) == (name, camelot, open_key)
    assert keys.camelot_to_name(camelot) == name
    assert keys.from_open_key(open_key).name == name
    assert keys.camelot_to_open_key(camelot) == open_key
    assert keys.open_key_to_camelot(open_key) == camelot


def test_table_covers_24_distinct_keys() -> None:
    assert len({k.camelot for k in keys.ALL_KEYS}) == 24
    assert {row[1] for row in TABLE} == {k.camelot for k in keys.ALL_KEYS}


def test_anchor_examples_from_the_issue() -> None:
    assert keys.parse_key("8A").name == "A minor" == keys.parse_key("1m").name
    assert keys.parse_key("8B").name == "C major" == keys.parse_key("1d").name


@pytest.mark.parametrize(
    ("text", "expected"),
    [("Am", "A minor"), ("a min", "A minor"), ("G#m", "Ab minor"), ("Abm", "Ab minor"),
     ("D♭ major", "C# major"), ("Gb", "F# major"), ("c", "C major"), ("12a", "C# minor"),
     ("5 d", "E major"), ("A#m", "Bb minor")],
)  # fmt: skip
def test_parse_accepts_common_spellings(text: str, expected: str) -> None:
    assert keys.parse_key(text).name == expected


@pytest.mark.parametrize("text", ["H minor", "13A", "0d", "", "A dorian", "8C"])
def test_parse_rejects_non_keys(text: str) -> None:
    with pytest.raises(keys.KeyParseError):
        keys.parse_key(text)


def test_harmonic_neighbours_wrap_around_the_wheel() -> None:
    assert keys.harmonic_neighbors("8A") == {
        "same": "8A", "up": "9A", "down": "7A", "relative": "8B", "boost2": "10A", "boost7": "3A",
    }  # fmt: skip
    assert keys.harmonic_neighbors("12B")["up"] == "1B"
    assert keys.harmonic_neighbors("1A")["down"] == "12A"
    # +7 on the wheel is a semitone up: A minor → Bb minor.
    assert keys.camelot_to_name(keys.harmonic_neighbors("8A")["boost7"]) == "Bb minor"


def test_compatibility_queries() -> None:
    assert keys.is_compatible("8A", "9A") and keys.is_compatible("8A", "8B")
    assert not keys.is_compatible("8A", "10A")
    assert keys.is_compatible("8A", "10A", include_boost=True)
    assert keys.relation("8A", "7A") == "down"
    assert keys.relation("8A", "2B") is None
    assert keys.compatible_codes("8A") == ["8A", "9A", "7A", "8B"]
