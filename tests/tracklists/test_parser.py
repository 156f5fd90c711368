"""The tracklist page parser and the site's plain-text export, on saved real pages."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from backend.tracklists.export import export_text, format_cue
from backend.tracklists.model import BlockedError, NotATracklistError, page_json
from backend.tracklists.parser import parse_clock, parse_tracklist
from tests.tracklists.conftest import (
    AFROJACK,
    ARMIN,
    BICEP,
    BLOCKED,
    PAGES,
    SEARCH_30,
    page,
    parsed,
)


def test_export_is_byte_identical_to_the_sites_export() -> None:
    fresh = parse_tracklist(page(AFROJACK))
    expected = (PAGES / AFROJACK.replace(".html", ".export.txt")).read_bytes()
    assert export_text(fresh).encode("utf-8") == expected


def test_afrojack_metadata_and_counts() -> None:
    p = parsed(AFROJACK)
    assert p.title == "AFROJACK @ kineticFIELD, EDC Las Vegas, United States 2025-05-17"
    assert p.djs == ("AFROJACK",)
    assert p.date == dt.date(2025, 5, 17)
    assert p.genres == ("Mainstage",)
    assert p.url is not None and p.url.endswith(
        "/tracklist/2wrmg6f1/afrojack-kineticfield-edc-las-vegas-united-states-2025-05-17.html"
    )
    assert p.short_id == "2wrmg6f1"
    assert p.event == "kineticFIELD, EDC Las Vegas, United States"
    assert p.sources == ("EDC Las Vegas",)
    # The linked recordings and their lengths (media tabs "Player 1 [1:07:49]" ...).
    assert [(r.source, r.name, r.duration_s) for r in p.recordings] == [
        ("youtube", "Player 1", 4069),
        ("youtube", "Player 2", 2521),
        ("mixcloud", "Player 1", 4095),
    ]
    assert len(p.timelines) == 1
    timeline = p.timelines[0]
    assert timeline.name is None and timeline.duration_s == 4069
    mains = [e for e in timeline.entries if not e.with_previous]
    withs = [e for e in timeline.entries if e.with_previous]
    assert [e.position for e in mains] == list(range(1, 27))
    assert len(withs) == 31  # the "w/" lines of the site's export
    assert all(e.position is None for e in withs)


def test_afrojack_cues_mashups_w_rows_and_ids() -> None:
    entries = parsed(AFROJACK).timelines[0].entries
    first = entries[0]
    assert (first.cue_s, first.artist, first.title, first.remix, first.label) == (
        0,
        "AFROJACK ft. Eva Simons",
        "Take Over Control (Piano Version)",
        "Piano Version",
        "WALL",
    )
    assert first.duration_s == 6 * 60 + 39
    # A "w/" row with a 0 cue has an unknown cue; one with its own cue keeps it.
    assert entries[1].with_previous and entries[1].cue_s is None
    virtual_riot = next(e for e in entries if e.artist == "Virtual Riot")
    assert virtual_riot.with_previous and virtual_riot.cue_s == 37 * 60 + 5
    # h:mm:ss cue on the last row.
    assert entries[-1].position == 26 and entries[-1].cue_s == 1 * 3600 + 3 * 60 + 26
    # Mashup: one entry, its components in mashup_of (not separate entries).
    mashup = next(e for e in entries if e.position == 3)
    assert mashup.title == "Loco vs. In My Mind vs. Innerbloom (AFROJACK Mashup)"
    assert mashup.label == "AXTONE/SWEAT IT OUT!/WALL"
    assert [(m.artist, m.title) for m in mashup.mashup_of] == [
        ("Ivan Gough & Feenixpawl ft. Georgi Kay", "In My Mind (Acappella)"),
        ("RÜFÜS DU SOL", "Innerbloom"),
        ("NLW", "Loco (MureKian Remix)"),
        ("AFROJACK & MC Ambush", "Step Back (Acappella)"),
        ("NLW & R3HAB ft. MC Ambush", "Let Me See Those Hands (Acappella)"),
    ]
    assert len(next(e for e in entries if e.position == 15).mashup_of) == 9
    lasers = next(e for e in entries if e.title.startswith("LASER vs. Lasers"))
    assert lasers.with_previous and len(lasers.mashup_of) == 2
    # ID rows: "Artist - ID" and "ID - ID"; an "(ID Remix)" of a known track is not an ID.
    ids = [e for e in entries if e.is_id]
    assert [e.display for e in ids][:3] == [
        "AFROJACK - ID",
        "Gil Glaze & AFROJACK - ID (Bad Girls)",
        "AFROJACK - ID",
    ]
    id_id = next(e for e in entries if e.artist == "ID")
    assert id_id.title == "ID" and id_id.is_id and id_id.label is None and id_id.cue_s == 2389
    pacha = next(e for e in entries if e.title.startswith("Pacha On Acid"))
    assert not pacha.is_id and pacha.title == "Pacha On Acid (ID Remix)"
    # Labels with a parent label keep the site's spelling.
    assert next(e for e in entries if e.title.startswith("Work")).label == "RCA (SONY)"


def test_armin_all_cued_mm_ss() -> None:
    p = parsed(ARMIN)
    assert p.djs == ("Armin van Buuren", "KI/KI")
    assert p.genres == ("Trance", "Techno")
    assert p.date == dt.date(2025, 10, 25)
    entries = p.timelines[0].entries
    assert len(entries) == 15
    assert [e.cue_s for e in entries][:4] == [91, 456, 590, 823]
    assert all(e.cue_s is not None for e in entries)
    assert entries[12].display == "MK ft. CHRYSTAL - Dior (Bassjackers Remix)"
    assert entries[12].remix == "Bassjackers Remix"
    assert p.timelines[0].duration_s == 47 * 60 + 58


def test_bicep_has_no_cues_and_id_rows_without_metadata() -> None:
    p = parsed(BICEP)
    assert p.title == "Bicep - The Warehouse Project, RDM Rotterdam, Netherlands 2023-04-28"
    assert p.djs == ("Bicep",)
    assert p.event == "The Warehouse Project, RDM Rotterdam, Netherlands"
    assert p.genres == ("Electronica", "Breaks")
    entries = p.timelines[0].entries
    assert len(entries) == 22
    # Every cue is 0/empty on the page: all unknown, including the first row's default 0.
    assert all(e.cue_s is None for e in entries)
    id_rows = [e.position for e in entries if e.artist == "ID" and e.title == "ID"]
    assert id_rows == [8, 13, 19]
    assert [e.position for e in entries if e.is_id] == [8, 9, 13, 18, 19, 20]
    assert p.timelines[0].duration_s is None  # no linked recording


def test_json_shape_matches_the_issue() -> None:
    doc = page_json(parsed(AFROJACK))
    assert set(doc) == {"title", "djs", "date", "genres", "url", "timelines"}
    assert doc["date"] == "2025-05-17"
    timeline = doc["timelines"][0]
    assert set(timeline) == {"name", "duration_s", "entries"}
    assert timeline["name"] is None
    entry = timeline["entries"][5]
    assert set(entry) == {
        "position",
        "cue_s",
        "artist",
        "title",
        "label",
        "with_previous",
        "is_id",
        "mashup_of",
    }
    assert entry["mashup_of"][1] == {"artist": "RÜFÜS DU SOL", "title": "Innerbloom"}
    assert timeline["entries"][1]["position"] is None and timeline["entries"][1]["with_previous"]


def _with_headers(html: str) -> str:
    """The Armin page split into two timelines by header rows, as pages with several recordings are."""
    header = '<div class="bItmH"><span>Player {n}</span></div>'
    rows = list(re.finditer(r'<div [^>]*class="tlpTog bItm tlpItem[^"]*"', html))
    first, eighth = rows[0].start(), rows[7].start()
    html = html[:eighth] + header.format(n=2) + html[eighth:]
    return html[:first] + header.format(n=1) + html[first:]


def test_header_rows_split_timelines_and_cues_restart() -> None:
    html = _with_headers(page(ARMIN))
    # Cues restart after the header: row 8 is at 0:00 of the second recording, row 9 unknown (0).
    html = html.replace('value="1525"', 'value="0"').replace('value="1748"', 'value="0"')
    html = html.replace('value="1890"', 'value="95"')
    p = parse_tracklist(html)
    assert [t.name for t in p.timelines] == ["Player 1", "Player 2"]
    assert p.timelines[0].duration_s == 47 * 60 + 58  # Player 1 of the first media tab
    assert len(p.timelines[0].entries) == 7 and len(p.timelines[1].entries) == 8
    second = p.timelines[1].entries
    assert [e.cue_s for e in second[:3]] == [0, None, 95]
    text = export_text(p)
    assert "\r\nPlayer 1\r\n[01:31] Armin van Buuren" in text
    assert "\r\n\r\nPlayer 2\r\n[00:00] Dimitri Vegas" in text


def test_visible_cue_text_is_used_when_the_hidden_value_is_missing() -> None:
    # Older pages: no hidden seconds input, unpadded "m:ss" and "h:mm:ss" cue texts.
    html = re.sub(r'<input[^>]*_cue_seconds"[^>]*>', "", page(ARMIN))
    html = html.replace(">01:31<", ">1:31<").replace(">45:34<", ">1:45:34<")
    entries = parse_tracklist(html).timelines[0].entries
    assert entries[0].cue_s == 91
    assert entries[1].cue_s == 456
    assert entries[-1].cue_s == 3600 + 45 * 60 + 34


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("00:00", 0),
        ("3:05", 185),
        ("59:59", 3599),
        ("1:03:26", 3806),
        ("12:00:01", 43201),
        ("", None),
        ("ab", None),
    ],
)
def test_parse_clock(text: str, seconds: int | None) -> None:
    assert parse_clock(text) == seconds


def test_format_cue_switches_to_hours() -> None:
    assert format_cue(215) == "03:35"
    assert format_cue(3806) == "1:03:26"


def test_blocked_page_raises_blocked_not_empty() -> None:
    with pytest.raises(BlockedError) as info:
        parse_tracklist(page(BLOCKED), url="https://www.1001tracklists.com/tracklist/x/y.html")
    assert "browser" in str(info.value)
    assert "https://www.1001tracklists.com/tracklist/x/y.html" in str(info.value)


def test_other_pages_are_not_tracklists() -> None:
    with pytest.raises(NotATracklistError):
        parsed(SEARCH_30)
