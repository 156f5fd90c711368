"""The audio fingerprint: tag edits keep it, audio changes alter it, in every format."""

from __future__ import annotations

from pathlib import Path

import pytest

from backend.audio.encode import extension, write_tags
from backend.catalog.fingerprint import FingerprintError, fingerprint_file
from backend.catalog.formats import sniff_file
from tests.catalog.conftest import ALL_FORMATS, MakeAudio, copy_with_new_audio

COVER = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40  # a 10 kB "JPEG"


@pytest.mark.parametrize("fmt", ALL_FORMATS)
def test_tag_edit_keeps_fingerprint(fmt: str, tmp_path: Path, make_audio: MakeAudio) -> None:
    path = make_audio(tmp_path / f"a{extension(fmt)}", fmt, seed=1)
    before = fingerprint_file(str(path))
    size_before = path.stat().st_size
    # Much longer tags and a cover: the tag block grows, audio offsets move.
    write_tags(path, {"title": "A new title " * 40, "comment": "x" * 5000, "cover": COVER})
    assert path.stat().st_size > size_before
    assert fingerprint_file(str(path)) == before


@pytest.mark.parametrize("fmt", ALL_FORMATS)
def test_different_audio_different_fingerprint(
    fmt: str, tmp_path: Path, make_audio: MakeAudio
) -> None:
    a = make_audio(tmp_path / f"a{extension(fmt)}", fmt, seed=1)
    b = make_audio(tmp_path / f"b{extension(fmt)}", fmt, seed=2)
    assert fingerprint_file(str(a)) != fingerprint_file(str(b))
    # One flipped byte in the audio payload changes it too.
    c = copy_with_new_audio(a, tmp_path / f"c{extension(fmt)}")
    assert fingerprint_file(str(c)) != fingerprint_file(str(a))


def test_same_audio_different_tags_is_a_duplicate(tmp_path: Path, make_audio: MakeAudio) -> None:
    a = make_audio(tmp_path / "a.flac", seed=3, title="One")
    b = tmp_path / "b.flac"
    b.write_bytes(a.read_bytes())
    write_tags(b, {"title": "Two", "artist": "Someone else"})
    assert fingerprint_file(str(a)) == fingerprint_file(str(b))


def test_mp3_id3v1_and_ape_tags_are_left_out(tmp_path: Path, make_audio: MakeAudio) -> None:
    path = make_audio(tmp_path / "a.mp3", seed=4)
    before = fingerprint_file(str(path))
    write_tags(path, {"title": "With v1"}, id3v1=True)  # appends a 128-byte ID3v1 block
    assert path.read_bytes()[-128:-125] == b"TAG"
    assert fingerprint_file(str(path)) == before
    from mutagen.apev2 import APEv2

    ape = APEv2()
    ape["Title"] = "APE title"
    ape.save(str(path))  # APEv2 goes before the ID3v1 block
    assert b"APETAGEX" in path.read_bytes()[-400:]
    assert fingerprint_file(str(path)) == before


def test_id3v23_and_v24_tags_hash_alike(tmp_path: Path, make_audio: MakeAudio) -> None:
    path = make_audio(tmp_path / "a.mp3", seed=5)
    before = fingerprint_file(str(path))
    write_tags(path, {"title": "v2.3 now", "date": "2001"}, id3_version=3)
    assert path.read_bytes()[3] == 3
    assert fingerprint_file(str(path)) == before


def test_empty_file_has_no_fingerprint(tmp_path: Path) -> None:
    path = tmp_path / "empty.mp3"
    path.write_bytes(b"")
    with pytest.raises(FingerprintError, match="empty"):
        fingerprint_file(str(path))


def test_flac_with_only_metadata_has_no_fingerprint(tmp_path: Path, make_audio: MakeAudio) -> None:
    path = make_audio(tmp_path / "a.flac", seed=6)
    data = path.read_bytes()
    # Keep the header and metadata blocks, drop every audio frame.
    import struct

    pos = 4
    while True:
        header = data[pos : pos + 4]
        pos += 4 + struct.unpack(">I", b"\0" + header[1:4])[0]
        if header[0] & 0x80:
            break
    (tmp_path / "b.flac").write_bytes(data[:pos])
    with pytest.raises(FingerprintError, match="no audio"):
        fingerprint_file(str(tmp_path / "b.flac"))


@pytest.mark.parametrize("fmt", ["mp3", "flac", "m4a", "ogg", "wav", "wma"])
def test_truncated_files_still_fingerprint(fmt: str, tmp_path: Path, make_audio: MakeAudio) -> None:
    path = make_audio(tmp_path / f"a{extension(fmt)}", fmt, seed=7)
    data = path.read_bytes()
    cut = tmp_path / f"cut{extension(fmt)}"
    cut.write_bytes(data[: len(data) * 2 // 3])
    # Never raises on a damaged file other than "no audio"; a partial file is a different payload.
    try:
        value = fingerprint_file(str(cut))
    except FingerprintError:
        return
    assert value != fingerprint_file(str(path))


@pytest.mark.parametrize("fmt", ALL_FORMATS)
def test_format_is_known_by_content_not_extension(
    fmt: str, tmp_path: Path, make_audio: MakeAudio
) -> None:
    path = make_audio(tmp_path / f"a{extension(fmt)}", fmt, seed=8)
    disguised = tmp_path / "disguised.mp3" if fmt != "mp3" else tmp_path / "disguised.flac"
    disguised.write_bytes(path.read_bytes())
    expected = {"m4a": "mp4", "alac": "mp4", "wma": "asf"}.get(fmt, fmt)
    assert sniff_file(str(disguised)) == expected
    assert fingerprint_file(str(disguised)) == fingerprint_file(str(path))


def test_text_named_like_audio_is_not_audio(tmp_path: Path) -> None:
    path = tmp_path / "notes.mp3"
    path.write_text("these are my DJ notes\n" * 50)
    assert sniff_file(str(path)) is None


def test_random_bytes_are_not_audio(tmp_path: Path) -> None:
    import random

    rng = random.Random(1)
    for i in range(50):
        data = bytes(rng.getrandbits(8) for _ in range(4000))
        path = tmp_path / f"r{i}.mp3"
        path.write_bytes(b"\xff\xfb" + data if i % 2 else data)  # half start with an MP3 sync word
        assert sniff_file(str(path)) is None
