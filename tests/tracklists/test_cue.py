"""CUE sheets: the writer's format, and a round trip through the importer."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from backend.tracklists.cue import (
    cue_sheet,
    find_cue_for,
    import_cue,
    index_time,
    parse_cue,
    quote,
)
from backend.tracklists.model import Entry, Timeline, TracklistPage
from tests.tracklists.conftest import AFROJACK, parsed


def test_index_time_uses_75_frames_and_minutes_past_99() -> None:
    assert index_time(0) == "00:00:00"
    assert index_time(215) == "03:35:00"
    assert index_time(61.5) == "01:01:38"  # half a second = 37.5 frames, rounded
    assert index_time(3806) == "63:26:00"
    assert index_time(100 * 60 + 1) == "100:01:00"


def test_quote_keeps_values_on_one_line_without_inner_quotes() -> None:
    assert quote('The "Best" Mix\r\nPart 2') == "\"The 'Best' Mix Part 2\""


def test_afrojack_sheet_format(tmp_path: Path) -> None:
    p = parsed(AFROJACK)
    sheet = cue_sheet(p, p.timelines[0], tmp_path / "AFROJACK - EDC 2025.mp3")
    lines = sheet.text.split("\r\n")
    assert lines[:6] == [
        'REM GENRE "Mainstage"',
        "REM DATE 2025-05-17",
        f'REM COMMENT "Tracklist: {p.url}"',
        'PERFORMER "AFROJACK"',
        'TITLE "AFROJACK @ kineticFIELD, EDC Las Vegas, United States 2025-05-17"',
        'FILE "AFROJACK - EDC 2025.mp3" MP3',
    ]
    # 26 main rows plus the two "w/" rows that carry their own cue.
    assert sheet.tracks == 28 and sheet.left_out == ()
    first = lines[6:11]
    assert first == [
        "  TRACK 01 AUDIO",
        '    TITLE "Take Over Control (Piano Version) w/ Pitbull ft. Ne-Yo & Afrojack & Nayer - '
        "Give Me Everything (Piano Version) w/ AFROJACK ft. Eva Simons - Take Over Control "
        '(Antoine Delvig x NLW Remix)"',
        '    PERFORMER "AFROJACK ft. Eva Simons"',
        "    INDEX 01 00:00:00",
        "  TRACK 02 AUDIO",
    ]
    assert "    INDEX 01 63:26:00" in lines
    # A w/ row with its own cue (37:05) is a track; the untimed w/ row after it folds into it.
    at = lines.index('    TITLE "Sh*t\'s On F*re w/ Skrillex & Space Laces - RECOVERY"')
    assert lines[at + 1 : at + 4] == [
        '    PERFORMER "Virtual Riot"',
        "    REM PLAYED_WITH_PREVIOUS",
        "    INDEX 01 37:05:00",
    ]
    assert sheet.text.endswith("\r\n")


def test_flac_and_aiff_file_types(tmp_path: Path) -> None:
    p = parsed(AFROJACK)
    assert 'FILE "set.flac" WAVE' in cue_sheet(p, p.timelines[0], tmp_path / "set.flac").text
    assert 'FILE "set.aiff" AIFF' in cue_sheet(p, p.timelines[0], tmp_path / "set.aiff").text


def test_round_trip_through_the_importer(tmp_path: Path) -> None:
    p = parsed(AFROJACK)
    audio = tmp_path / "afrojack.mp3"
    audio.write_bytes(b"")
    cue_path = tmp_path / "afrojack.cue"
    cue_path.write_text(cue_sheet(p, p.timelines[0], audio).text, encoding="utf-8", newline="")
    assert find_cue_for(audio) == cue_path
    back = import_cue(cue_path)
    assert back.title == p.title and back.djs == p.djs and back.date == p.date
    assert back.genres == p.genres and back.url == p.url
    original = [(e.artist, e.title, e.cue_s, e.with_previous) for e in p.timelines[0].entries]
    imported = [(e.artist, e.title, e.cue_s, e.with_previous) for e in back.timelines[0].entries]
    assert imported == original
    assert {e.cue_source for e in back.entries} == {"user"}
    assert [e.position for e in back.entries if e.position] == list(range(1, 27))


def test_a_users_sheet_keeps_its_frames_through_import_and_export(tmp_path: Path) -> None:
    audio = tmp_path / "set.flac"
    sheet = tmp_path / "set.cue"
    sheet.write_text(
        'TITLE "Set"\nFILE "set.flac" WAVE\n'
        '  TRACK 01 AUDIO\n    TITLE "One"\n    INDEX 01 00:00:00\n'
        '  TRACK 02 AUDIO\n    TITLE "Two"\n    INDEX 01 01:41:62\n',
        encoding="utf-8",
    )
    page = import_cue(sheet)
    assert [e.cue_s for e in page.entries] == [0.0, pytest.approx(101 + 62 / 75)]
    again = cue_sheet(page, page.timelines[0], audio).text
    assert "INDEX 01 01:41:62" in again  # not rounded to 01:42:00


def test_untimed_entries_are_reported_and_sorted_cues(tmp_path: Path) -> None:
    entries = (
        Entry(1, 0, "A", "One"),
        Entry(2, None, "B", "Two"),
        Entry(3, 7261, "C", "Three"),
    )
    p = TracklistPage(
        "Set",
        ("DJ",),
        dt.date(2020, 1, 2),
        (),
        None,
        None,
        timelines=(Timeline(None, None, entries),),
    )
    sheet = cue_sheet(p, p.timelines[0], tmp_path / "x.m4a")
    assert sheet.tracks == 2 and [e.title for e in sheet.left_out] == ["Two"]
    assert "INDEX 01 121:01:00" in sheet.text


def test_importer_reads_cp1252_sheets_and_finds_them_by_file_line(tmp_path: Path) -> None:
    text = (
        'REM DATE 2019\r\nPERFORMER "Röyksopp"\r\nTITLE "Live"\r\nFILE "Mix 1.flac" WAVE\r\n'
        '  TRACK 01 AUDIO\r\n    TITLE "Eple"\r\n    PERFORMER "Röyksopp"\r\n    INDEX 00 00:00:00\r\n'
        '    INDEX 01 00:01:00\r\n  TRACK 02 AUDIO\r\n    TITLE "ID"\r\n    PERFORMER "ID"\r\n'
        "    INDEX 01 04:10:37\r\n"
    )
    (tmp_path / "sheet.cue").write_bytes(text.encode("cp1252"))
    audio = tmp_path / "Mix 1.flac"
    assert find_cue_for(audio) == tmp_path / "sheet.cue"
    p = import_cue(tmp_path / "sheet.cue")
    assert p.djs == ("Röyksopp",) and p.date == dt.date(2019, 1, 1)
    assert [(e.artist, e.title, e.cue_s, e.is_id) for e in p.entries] == [
        ("Röyksopp", "Eple", 1, False),
        ("ID", "ID", pytest.approx(250 + 37 / 75), True),  # INDEX 01 04:10:37, frames kept
    ]
    _, file_name = parse_cue(text)
    assert file_name == "Mix 1.flac"
