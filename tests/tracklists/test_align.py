"""Alignment of tracklist cues to a recording, on synthetic transitions."""

from __future__ import annotations

import itertools

from backend.tracklists.align import (
    Transition,
    align,
    choose_timeline,
    mismatch_reason,
    transitions_from,
)
from backend.tracklists.model import Entry, Timeline, TracklistPage
from tests.tracklists.conftest import ARMIN, BICEP, parsed


def entry(pos: int | None, cue: int | None, *, w: bool = False, dur: int | None = 300) -> Entry:
    return Entry(pos, cue, f"Artist {pos}", f"Title {pos}", duration_s=dur, with_previous=w)


TRANSITIONS = transitions_from(
    [
        {"time_s": 290.0, "strength": 0.9},
        {"time_s": 450.0, "strength": 0.2},  # a weak change inside a track (a breakdown)
        {"time_s": 610.0, "strength": 0.8},
        {"time_s": 900.0, "strength": 0.9},
        {"time_s": 1210.0, "strength": 0.7},
        {"time_s": 1480.0, "strength": 0.9},
        {"bad": 1},
    ]
)


def test_known_cues_kept_and_unknown_filled_from_transitions() -> None:
    timeline = Timeline(
        None,
        1800,
        (
            entry(1, 0),
            entry(2, None),
            entry(None, None, w=True),
            entry(3, None),
            entry(4, 900),
            entry(5, None),
            entry(6, None),
        ),
    )
    result = align(timeline, 1800.0, TRANSITIONS)
    assert result.usable and result.reason is None
    got = [(e.position, e.cue_s, e.cue_source) for e in result.timeline.entries]
    assert got == [
        (1, 0, "site"),
        (2, 290, "aligned"),
        (None, None, "site"),  # the w/ row shares track 2's time
        (3, 610, "aligned"),
        (4, 900, "site"),
        (5, 1210, "aligned"),
        (6, 1480, "aligned"),
    ]


def test_without_transitions_cues_follow_track_durations() -> None:
    timeline = Timeline(
        None, None, (entry(1, 0, dur=200), entry(2, None, dur=400), entry(3, None, dur=400))
    )
    result = align(timeline, 2000.0)
    # 200:400:400 of 2000 s → starts at 0, 400, 1200.
    assert [e.cue_s for e in result.timeline.entries] == [0, 400, 1200]


def test_bicep_without_any_cue_is_spread_over_the_file() -> None:
    timeline = parsed(BICEP).timelines[0]
    result = align(timeline, 2 * 3600.0)
    cues = [e.cue_s for e in result.timeline.entries]
    assert cues[0] == 0 and all(c is not None for c in cues)
    assert all(b - a >= 20 for a, b in itertools.pairwise(cues))  # type: ignore[operator]
    assert cues[-1] < 7200  # type: ignore[operator]
    assert {e.cue_source for e in result.timeline.entries} == {"aligned"}


def test_timeline_that_does_not_match_the_file_is_not_used() -> None:
    armin = parsed(ARMIN).timelines[0]  # 47:58 recording, last cue 45:34
    result = align(armin, 20 * 60.0)
    assert not result.usable
    assert result.reason is not None and "lasts" in result.reason
    assert all(e.cue_s is None for e in result.timeline.entries)
    # Same length, but the known cues miss every transition heard in the audio.
    far = [Transition(t, 1.0) for t in (33.0, 333.0, 777.0, 1111.0, 1999.0, 2500.0)]
    reason = mismatch_reason(armin, 2878.0, far)
    assert reason is not None and "transition" in reason
    # With transitions at the cues it is fine.
    near = [Transition(float(e.cue_s or 0) + 3, 0.8) for e in armin.entries]
    assert mismatch_reason(armin, 2878.0, near) is None


def test_cue_beyond_the_end_or_out_of_order() -> None:
    beyond = Timeline(None, None, (entry(1, 0), entry(2, 700)))
    assert "beyond" in (mismatch_reason(beyond, 600.0) or "")
    disorder = Timeline(None, None, (entry(1, 0), entry(2, 500), entry(3, 300)))
    assert "order" in (mismatch_reason(disorder, 900.0) or "")


def test_choose_the_timeline_that_fits_the_file() -> None:
    part1 = Timeline("Player 1", 3600, (entry(1, 0), entry(2, 1800)))
    part2 = Timeline("Player 2", 2400, (entry(3, 0), entry(4, 1200)))
    page_ = TracklistPage("Set", (), None, (), None, None, timelines=(part1, part2))
    assert choose_timeline(page_, 2410.0) == part2
    assert choose_timeline(page_, 3590.0) == part1
    assert choose_timeline(page_, 900.0) is None
