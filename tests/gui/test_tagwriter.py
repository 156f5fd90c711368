"""The safe tag writer on every format: edited fields change, everything else in the file stays."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import mutagen
import pytest

from backend.audio.encode import FORMATS, encode, extension, tone
from backend.library.tagwriter import (
    TagConflict,
    TagWriteError,
    read_fields,
    stat_identity,
    write_tags,
)

COVER = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
TAGS = {
    "title": "Old Title",
    "artist": "Someone",
    "album": "An Album",
    "genre": "House",
    "date": "2001",
    "track_no": 3,
    "bpm": 124,
    "key": "8A",
    "comment": "keep me",
    "label": "A Label",
    "isrc": "GBAAA0100001",
    "cover": COVER,
}


COVER_KEYS = ("APIC", "covr", "metadata_block_picture", "picture", "WM/Picture")


def make(tmp_path: Path, fmt: str) -> Path:
    path = tmp_path / f"song{extension(fmt)}"
    encode(path, tone(1.0), 22050, fmt, TAGS)
    return path


def snapshot(path: Path) -> dict[str, Any]:
    """Every tag key with its value (as text), as mutagen sees the file."""
    audio = mutagen.File(path)
    out = {str(k): repr(v) for k, v in audio.tags.items()}
    for pic in getattr(audio, "pictures", []) or []:
        out["picture"] = repr(pic.data)
    return out


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_only_the_edited_fields_change(tmp_path: Path, fmt: str) -> None:
    path = make(tmp_path, fmt)
    before = snapshot(path)
    audio_before = mutagen.File(path).info.length
    result = write_tags(
        path,
        {"title": "New Title", "bpm_tag": 126, "year": 2020, "comment": None},
        stat_identity(path),
    )
    assert result.old == {
        "title": "Old Title",
        "bpm_tag": 124.0,
        "year": 2001,
        "comment": "keep me",
    }
    fields = read_fields(path)
    assert fields["title"] == "New Title"
    assert fields["bpm_tag"] == 126.0
    assert fields["year"] == 2020
    assert fields["comment"] is None
    # Untouched fields keep their values…
    assert fields["artist"] == "Someone" and fields["album"] == "An Album"
    assert fields["key_tag"] == "8A" and fields["label"] == "A Label"
    assert fields["isrc"] == "GBAAA0100001" and fields["track_no"] == 3
    # …and so does every other frame (cover art included), byte for byte.
    after = snapshot(path)
    changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    edited_keys = {
        "TIT2",
        "TBPM",
        "TDRC",
        "COMM::eng",
        "title",
        "bpm",
        "date",
        "comment",
        "©nam",
        "tmpo",
        "©day",
        "©cmt",
        "Title",
        "WM/BeatsPerMinute",
        "WM/Year",
        "Description",
    }
    assert changed <= edited_keys, changed - edited_keys
    cover_keys = [k for k in before if k.startswith(COVER_KEYS)]
    assert cover_keys and all(after[k] == before[k] for k in cover_keys)
    assert mutagen.File(path).info.length == pytest.approx(audio_before, abs=0.05)
    assert (result.size, result.mtime) == stat_identity(path)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp file left


def test_a_file_changed_since_it_was_read_is_a_conflict(tmp_path: Path) -> None:
    path = make(tmp_path, "mp3")
    seen = stat_identity(path)
    other = mutagen.File(path)
    other["TIT2"] = mutagen.id3.TIT2(encoding=3, text=["Retagged elsewhere"])
    other.save()
    with pytest.raises(TagConflict) as err:
        write_tags(path, {"title": "Mine"}, seen)
    assert "changed by another program" in str(err.value)
    assert read_fields(path)["title"] == "Retagged elsewhere"


def test_the_watcher_hook_sees_the_final_identity_before_the_swap(tmp_path: Path) -> None:
    path = make(tmp_path, "flac")
    seen: list[tuple[Path, int, float]] = []

    def hook(p: Path, size: int, mtime: float) -> None:
        assert read_fields(p)["title"] == "Old Title"  # the original is still in place
        seen.append((p, size, mtime))

    result = write_tags(path, {"title": "New"}, stat_identity(path), hook)
    assert seen == [(path, result.size, result.mtime)]


def test_a_failed_write_leaves_the_file_untouched(tmp_path: Path) -> None:
    path = tmp_path / "not-audio.mp3"
    path.write_bytes(b"this is not audio" * 100)
    before = path.read_bytes()
    with pytest.raises(TagWriteError):
        write_tags(path, {"title": "x"})
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["not-audio.mp3"]


def test_unknown_fields_are_refused(tmp_path: Path) -> None:
    path = make(tmp_path, "ogg")
    with pytest.raises(TagWriteError, match="not editable: fingerprint"):
        write_tags(path, {"fingerprint": "x"})
