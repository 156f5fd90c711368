"""Search result parsing and the query built from a recording's tags and file name."""

from __future__ import annotations

import datetime as dt

import pytest

from backend.tracklists.model import BlockedError
from backend.tracklists.search import build_query, parse_search_results, search_form
from tests.tracklists.conftest import BLOCKED, SEARCH_30, SEARCH_NONE, page


def test_thirty_hits_with_their_details() -> None:
    hits = parse_search_results(page(SEARCH_30))
    assert len(hits) == 30
    first = hits[0]
    assert first.tracklist_id == "2r65b051"
    assert first.title == "Gorgon City @ Club Space Miami, United States"
    assert (
        first.path
        == "/tracklist/2r65b051/gorgon-city-club-space-miami-united-states-2025-12-27.html"
    )
    assert first.date == dt.date(2025, 12, 27)
    assert (first.ided_tracks, first.total_tracks) == (53, 65)
    assert first.play_time_s == 3 * 3600 + 59 * 60
    assert first.genres == ("House", "Tech House")
    assert first.media == ("soundcloud",)
    assert len({h.tracklist_id for h in hits}) == 30
    assert all(h.path.startswith("/tracklist/") for h in hits)
    assert hits[-1].play_time_s == 3 * 3600  # "3h"


def test_no_hits_is_an_empty_list() -> None:
    assert parse_search_results(page(SEARCH_NONE)) == []


def test_blocked_search_page_raises() -> None:
    with pytest.raises(BlockedError):
        parse_search_results(page(BLOCKED))


def test_search_form_fields() -> None:
    assert search_form("Bicep Warehouse") == {
        "main_search": "Bicep Warehouse",
        "search_selection": "9",
    }


@pytest.mark.parametrize(
    ("name", "tags", "dj", "event", "date"),
    [
        (
            "2023-04-28 Bicep @ The Warehouse Project.mp3",
            None,
            "Bicep",
            "The Warehouse Project",
            dt.date(2023, 4, 28),
        ),
        ("Bicep - Live at WHP (2023.04.28).flac", None, "Bicep", "WHP", dt.date(2023, 4, 28)),
        (
            "Gorgon City - 4hr Set Space Miami 27.12.2025.mp3",
            None,
            "Gorgon City",
            "Space Miami",
            dt.date(2025, 12, 27),
        ),
        (
            "AFROJACK_kineticFIELD_20250517.m4a",
            None,
            None,
            "AFROJACK kineticFIELD",
            dt.date(2025, 5, 17),
        ),
        (
            "track01.mp3",
            {
                "artist": "Armin van Buuren",
                "album": "Amsterdam Music Festival",
                "date": "2025-10-25",
            },
            "Armin van Buuren",
            "Amsterdam Music Festival",
            dt.date(2025, 10, 25),
        ),
        (
            "Armin - whatever 2020-01-01.mp3",
            {"artist": "Armin van Buuren", "title": "Armin van Buuren @ AMF 2025-10-25"},
            "Armin van Buuren",
            "AMF",
            dt.date(2025, 10, 25),
        ),
    ],
)
def test_query_from_tags_and_file_name(
    name: str, tags: dict[str, str] | None, dj: str | None, event: str, date: dt.date
) -> None:
    q = build_query(name, tags)
    assert (q.dj, q.event, q.date) == (dj, event, date)
    assert q.text == " ".join(p for p in (dj, event) if p)
