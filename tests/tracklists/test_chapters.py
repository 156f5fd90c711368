"""Chapters written into real generated audio files and read back with mutagen."""

from __future__ import annotations

from pathlib import Path

import mutagen
import numpy as np
import pytest

from backend.audio.encode import encode
from backend.tracklists.chapters import (
    Chapter,
    ChaptersUnsupported,
    chapters_from,
    read_chapters,
    write_chapters,
)
from backend.tracklists.model import Entry, Timeline

SR = 22050
SECONDS = 6.0


def make_audio(path: Path) -> Path:
    t = np.arange(int(SR * SECONDS)) / SR
    signal = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    return encode(path, signal, SR, tags={"title": "My Set", "artist": "DJ Test"})


def title_tag(audio: mutagen.FileType) -> str:
    """The title tag, read the way each tag format stores it."""
    tags = audio.tags
    for key in ("TIT2", "title", "\xa9nam"):
        if key in tags:
            value = tags[key]
            return str(value.text[0] if hasattr(value, "text") else value[0])
    raise AssertionError(f"no title tag in {sorted(tags.keys())}")


TIMELINE = Timeline(
    None,
    6,
    (
        Entry(1, 0, "Bicep", "Apricots (Live Edit)"),
        Entry(None, None, "Barker", "Maximum Utility", with_previous=True),
        Entry(2, 2, "RÜFÜS DU SOL", "Innerbloom"),
        Entry(3, None, "ID", "ID", is_id=True),
        Entry(4, 4, "Moderat", "Copy Copy"),
    ),
)
EXPECTED = [
    Chapter(0.0, "Bicep - Apricots (Live Edit) w/ Barker - Maximum Utility"),
    Chapter(2.0, "RÜFÜS DU SOL - Innerbloom"),
    Chapter(4.0, "Moderat - Copy Copy"),
]


def test_chapters_from_timeline_fold_w_rows_and_skip_untimed() -> None:
    assert chapters_from(TIMELINE) == EXPECTED


@pytest.mark.parametrize("ext", [".mp3", ".flac", ".ogg", ".opus", ".m4a", ".wav", ".aiff"])
def test_chapters_round_trip_and_tags_survive(tmp_path: Path, ext: str) -> None:
    path = make_audio(tmp_path / f"set{ext}")
    write_chapters(path, chapters_from(TIMELINE), SECONDS)
    assert read_chapters(path) == EXPECTED
    # Writing again replaces the chapters instead of adding to them.
    write_chapters(path, EXPECTED[:2], SECONDS)
    assert read_chapters(path) == EXPECTED[:2]
    audio = mutagen.File(path)
    assert audio is not None and audio.info.length == pytest.approx(SECONDS, abs=0.2)
    assert title_tag(audio) == "My Set"


def test_id3_chapters_have_a_table_of_contents(tmp_path: Path) -> None:
    path = make_audio(tmp_path / "set.mp3")
    write_chapters(path, EXPECTED, SECONDS)
    tags = mutagen.File(path).tags
    toc = tags.getall("CTOC")
    assert len(toc) == 1 and toc[0].child_element_ids == ["chp0", "chp1", "chp2"]
    chap = sorted(tags.getall("CHAP"), key=lambda f: f.start_time)
    assert [(c.start_time, c.end_time) for c in chap] == [(0, 2000), (2000, 4000), (4000, 6000)]


def test_vorbis_chapter_comments(tmp_path: Path) -> None:
    path = make_audio(tmp_path / "set.flac")
    write_chapters(path, EXPECTED, SECONDS)
    tags = mutagen.File(path).tags
    assert tags["CHAPTER002"] == ["00:00:02.000"]
    assert tags["CHAPTER002NAME"] == ["RÜFÜS DU SOL - Innerbloom"]


def test_unsupported_format(tmp_path: Path) -> None:
    path = make_audio(tmp_path / "set.wma")
    with pytest.raises(ChaptersUnsupported):
        write_chapters(path, EXPECTED, SECONDS)
