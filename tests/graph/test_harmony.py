"""Camelot and tempo rules as a DJ would state them."""

from __future__ import annotations

import pytest

from backend.graph.harmony import (
    harmonic_match,
    key_relation,
    keys_compatible,
    parse_camelot,
    tempo_match,
)


@pytest.mark.parametrize(
    ("a", "b", "relation"),
    [
        ("8A", "8A", "same"),
        ("8A", "9A", "adjacent"),
        ("8A", "7A", "adjacent"),
        ("12B", "1B", "adjacent"),  # the wheel wraps
        ("1A", "12A", "adjacent"),
        ("8A", "8B", "relative"),
        ("8B", "8A", "relative"),
        ("8A", "10A", "boost+2"),
        ("8A", "3A", "boost+7"),  # +1 semitone
    ],
)
def test_compatible_moves(a: str, b: str, relation: str) -> None:
    match = key_relation(a, b)
    assert match is not None and match.relation == relation
    assert a.upper() in match.reason or str(parse_camelot(a)) in match.reason


@pytest.mark.parametrize(
    ("a", "b"), [("8A", "9B"), ("8A", "2A"), ("8A", "4B"), ("8A", None), ("xx", "8A")]
)
def test_clashes_and_unknown_keys(a: str, b: str | None) -> None:
    assert key_relation(a, b) is None


def test_energy_boost_moves_can_be_turned_off_and_are_directional() -> None:
    assert key_relation("8A", "10A", energy_boost=False) is None
    assert key_relation("10A", "8A") is None  # two steps down is not a boost
    assert keys_compatible("10A", "8A")  # …but the pair mixes the other way round


def test_parse_camelot_accepts_common_spellings() -> None:
    assert str(parse_camelot(" 08a ")) == "8A"
    assert parse_camelot("13A") is None
    assert parse_camelot("C minor") is None


def test_tempo_within_tolerance_with_pitch_shift() -> None:
    m = tempo_match(126.0, 124.0, 6.0)
    assert m is not None and m.factor == 1.0
    assert m.change_pct == pytest.approx(1.6129, abs=1e-3)
    assert m.pitch_shift_st == pytest.approx(0.2772, abs=1e-3)
    assert "+1.6%" in m.reason and "pitch +0.28 st" in m.reason
    assert tempo_match(126.0, 140.0, 6.0) is None


def test_half_and_double_time() -> None:
    half = tempo_match(140.0, 70.5, 6.0)
    assert half is not None and half.factor == 2.0 and "double time" in half.reason
    double = tempo_match(87.0, 174.0, 6.0)
    assert double is not None and double.factor == 0.5 and double.change_pct == pytest.approx(0.0)


def test_harmonic_match_combines_key_and_tempo() -> None:
    m = harmonic_match("8A", 124.0, "9A", 125.0, tolerance_pct=6.0)
    assert m is not None and m.key.relation == "adjacent"
    assert 0 < m.score < 1 and len(m.reasons) == 2
    assert harmonic_match("8A", 124.0, "9A", 150.0, tolerance_pct=6.0) is None
    assert harmonic_match("8A", 124.0, "2B", 124.0, tolerance_pct=6.0) is None


def test_pitch_shift_can_make_a_clashing_key_mixable() -> None:
    # 3A pitched down a semitone (−7 steps on the wheel) is heard as 8A: same key.
    assert key_relation("8A", "3A", energy_boost=False) is None
    m = harmonic_match("8A", 120.0, "3A", 127.2, tolerance_pct=8.0, energy_boost=False)
    assert m is not None
    assert "heard as 8A" in m.key.reason
