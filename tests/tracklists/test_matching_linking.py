"""Matching a recording to tracklist candidates, and linking entries to library tracks."""

from __future__ import annotations

import datetime as dt

from backend.tracklists.linking import (
    LibraryTrack,
    artist_names,
    followed_by,
    link_entries,
    split_title,
)
from backend.tracklists.matching import Candidate, Recording, auto_apply, rank, score
from backend.tracklists.model import Entry
from backend.tracklists.search import build_query, parse_search_results
from tests.tracklists.conftest import AFROJACK, BICEP, SEARCH_30, page, parsed


def test_the_right_set_among_thirty_search_hits_is_applied() -> None:
    hits = parse_search_results(page(SEARCH_30))
    query = build_query("Gorgon City @ Club Space Miami 2025-12-27.mp3")
    recording = Recording.from_query(query, duration_s=3 * 3600 + 59 * 60 + 20)
    ranked = rank(recording, [Candidate.from_hit(h) for h in hits])
    best = auto_apply(ranked, threshold=0.8)
    assert best is not None
    assert best.candidate.key.startswith("/tracklist/2r65b051/")
    assert best.parts == {"dj": 1.0, "event": 1.0, "date": 1.0, "duration": 1.0}


def test_same_dj_and_club_on_another_day_is_only_a_candidate() -> None:
    hits = parse_search_results(page(SEARCH_30))
    recording = Recording("Gorgon City", "Club Space Miami", dt.date(2019, 3, 1), 14000.0)
    ranked = rank(recording, [Candidate.from_hit(h) for h in hits])
    assert ranked[0].confidence < 0.8
    assert auto_apply(ranked, 0.8) is None


def test_name_only_never_reaches_the_threshold() -> None:
    p = parsed(BICEP)
    s = score(Recording("Bicep", "Warehouse Project", None, None), Candidate.from_page(p))
    assert 0.4 < s.confidence < 0.8


def test_page_candidate_uses_each_linked_recordings_length() -> None:
    p = parsed(AFROJACK)
    candidate = Candidate.from_page(p)
    assert candidate.lengths_s == (2521.0, 4069.0, 4095.0)
    # A file of the second YouTube part matches by length as well as the full set does.
    part = score(Recording("AFROJACK", "EDC Las Vegas", dt.date(2025, 5, 17), 2530.0), candidate)
    full = score(Recording("AFROJACK", "EDC Las Vegas", dt.date(2025, 5, 17), 4080.0), candidate)
    assert part.parts["duration"] == 1.0 and full.parts["duration"] == 1.0
    other = score(Recording("AFROJACK", "EDC Las Vegas", dt.date(2025, 5, 17), 1200.0), candidate)
    assert other.parts["duration"] == 0.0 and other.confidence < full.confidence


def test_two_equally_good_candidates_ask_the_user() -> None:
    p = parsed(AFROJACK)
    a = Candidate.from_page(p, key="a")
    b = Candidate.from_page(p, key="b")
    ranked = rank(Recording("AFROJACK", "EDC", dt.date(2025, 5, 17), 4069.0), [a, b])
    assert ranked[0].confidence >= 0.8
    assert auto_apply(ranked, 0.8) is None


def test_normalisation() -> None:
    assert artist_names("AFROJACK ft. Eva Simons") == {"afrojack", "eva simons"}
    assert artist_names("Afrojack feat. Eva Simons & NLW") == {"afrojack", "eva simons", "nlw"}
    assert artist_names("RÜFÜS DU SOL") == {"rufus du sol"}
    assert split_title("Copy Copy (LOGIC1000 & Big Ever Remix)") == (
        "copy copy",
        "logic1000 big ever remix",
    )
    assert split_title("Innerbloom (Original Mix)") == ("innerbloom", None)
    assert split_title("Innerbloom - Extended Mix") == ("innerbloom", None)
    assert split_title("Take Over Control [Piano Version]") == (
        "take over control",
        "piano version",
    )


def test_entries_link_to_library_tracks_and_give_followed_by_pairs() -> None:
    entries = parsed(AFROJACK).timelines[0].entries
    library = [
        LibraryTrack(1, "Afrojack feat. Eva Simons", "Take Over Control [Piano Version]"),
        LibraryTrack(2, "Charli XCX, Billie Eilish", "Guess (David Guetta & AFROJACK Edit)"),
        LibraryTrack(3, "Charli XCX", "Guess"),  # the original, not the edit that was played
        LibraryTrack(4, "Michael Phase & Jop Govers", "The Drill (Original Mix)"),
        LibraryTrack(5, "A$AP Ferg", "Work (Remix)"),
        LibraryTrack(6, "AFROJACK", "ID"),  # ID rows are never linked
        LibraryTrack(7, "Someone Else", "The Drill"),
    ]
    links = link_entries(entries, library)
    linked = {entries[link.entry_index].display: link.track_id for link in links}
    assert linked == {
        "AFROJACK ft. Eva Simons - Take Over Control (Piano Version)": 1,
        "Charli xcx ft. Billie Eilish - Guess (David Guetta & AFROJACK Edit)": 2,
        "Michael Phase & Jop Govers - The Drill": 4,
        "A$AP Ferg ft. A$AP Rocky & French Montana & Schoolboy Q & Trinidad James - Work (Remix)": 5,
    }
    assert all(0.7 <= link.confidence <= 1.0 for link in links)
    # Main rows 1 → 2 are consecutive; the w/ row (The Drill) and the mashup at 3 break the chain.
    assert followed_by(entries, links) == [(1, 2)]


def test_followed_by_skips_w_rows() -> None:
    entries = [
        Entry(1, 0, "A", "One"),
        Entry(None, None, "B", "Two", with_previous=True),
        Entry(2, 300, "C", "Three"),
    ]
    links = link_entries(
        entries,
        [
            LibraryTrack(10, "A", "One"),
            LibraryTrack(11, "B", "Two"),
            LibraryTrack(12, "C", "Three"),
        ],
    )
    assert followed_by(entries, links) == [(10, 12)]
