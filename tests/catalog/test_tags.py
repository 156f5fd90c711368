"""Tags and properties of every format; damaged and odd files give a reason, never a crash."""

from __future__ import annotations

import struct
from pathlib import Path

import av
import pytest

from backend.audio.encode import extension, write_tags
from backend.catalog.reader import inspect_one
from backend.catalog.tags import TagReadError, read_tags, repair_text
from tests.catalog.conftest import ALL_FORMATS, SR, MakeAudio

FULL_TAGS = {
    "title": "Café Nocturne",
    "artist": ["Ана", "Björk"],
    "album": "Tëst Album",
    "album_artist": "Various",
    "genre": "Deep House",
    "date": "2019-04-05",
    "track_no": 7,
    "disc_no": 2,
    "bpm": 123,
    "key": "8A",
    "comment": "für DJs",
    "label": "Label Records",
    "isrc": "GBABC1900001",
    "compilation": True,
    "cover": b"\x89PNG\r\n\x1a\n" + b"\0" * 200,
}
PROPS = {  # fmt → (format, codec, lossless bit depth or None)
    "mp3": ("mp3", "mp3", None),
    "flac": ("flac", "flac", 16),
    "ogg": ("ogg", "vorbis", None),
    "opus": ("opus", "opus", None),
    "m4a": ("mp4", "aac", None),
    "alac": ("mp4", "alac", "any"),
    "aiff": ("aiff", "pcm", 16),
    "wav": ("wav", "pcm", 16),
    "wma": ("asf", "wma", None),
}


@pytest.mark.parametrize("fmt", ALL_FORMATS)
def test_every_field_of_every_format(fmt: str, tmp_path: Path, make_audio: MakeAudio) -> None:
    path = make_audio(tmp_path / f"t{extension(fmt)}", fmt, seconds=2.0, **FULL_TAGS)
    rec = read_tags(str(path))
    container, codec, depth = PROPS[fmt]
    assert (rec.format, rec.codec) == (container, codec)
    assert rec.duration_s == pytest.approx(2.0, abs=0.1)
    assert rec.sample_rate == (48000 if fmt == "opus" else SR)
    assert rec.channels in (1, 2) and rec.bitrate and rec.bitrate > 0
    if depth == "any":
        assert rec.bit_depth in (16, 24)
    else:
        assert rec.bit_depth == depth
    assert rec.title == "Café Nocturne"
    assert rec.artist == "Ана; Björk" and rec.extra_tags["artists"] == ["Ана", "Björk"]
    assert (rec.album, rec.album_artist, rec.genre) == ("Tëst Album", "Various", "Deep House")
    assert rec.date == "2019-04-05" and rec.year == 2019
    assert (rec.track_no, rec.disc_no, rec.bpm_tag, rec.key_tag) == (7, 2, 123.0, "8A")
    assert (rec.comment, rec.label, rec.isrc) == ("für DJs", "Label Records", "GBABC1900001")
    assert rec.compilation is True and rec.has_cover is True


def test_id3v23_and_id3v1_only(tmp_path: Path, make_audio: MakeAudio) -> None:
    v23 = make_audio(tmp_path / "v23.mp3", title="Old tagger", date="1998", track_no="3/12")
    write_tags(v23, {"title": "Old tagger", "date": "1998", "track_no": "3/12"}, id3_version=3)
    rec = read_tags(str(v23))
    assert (rec.title, rec.year, rec.track_no) == ("Old tagger", 1998, 3)
    # ID3v1 only: strip the ID3v2 tag, keep a v1 block written in latin-1.
    v1 = tmp_path / "v1.mp3"
    make_audio(v1, title="x")
    from mutagen.id3 import ID3

    ID3(str(v1)).delete(str(v1))
    title = "Señorita".encode("latin-1").ljust(30, b"\0")
    block = (
        b"TAG" + title + b"Artist".ljust(30, b"\0") + b"\0" * 30 + b"2001" + b"\0" * 30 + b"\x0c"
    )
    v1.write_bytes(v1.read_bytes() + block)
    rec = read_tags(str(v1))
    assert (rec.title, rec.artist, rec.year) == ("Señorita", "Artist", 2001)


def test_mojibake_is_repaired_or_kept() -> None:
    assert repair_text("CafÃ© del Mar") == "Café del Mar"  # UTF-8 read as latin-1
    assert repair_text("Itâ€™s") == "It’s"  # UTF-8 read as cp1252
    assert repair_text("Café") == "Café"  # already fine: untouched
    assert repair_text(b"Caf\xe9") == "Café"  # latin-1 bytes
    assert repair_text("bad\udcffsurrogate\x00") == "bad\ufffdsurrogate"  # never raises
    assert repair_text("Ïðèâåò") == "Ïðèâåò"  # cp1251 read as latin-1: ambiguous, kept as-is


def test_mojibake_in_a_real_file(tmp_path: Path, make_audio: MakeAudio) -> None:
    path = make_audio(tmp_path / "m.flac", title="CafÃ© Tacvba", artist="MotÃ¶rhead")
    rec = read_tags(str(path))
    assert (rec.title, rec.artist) == ("Café Tacvba", "Motörhead")


def test_gigantic_tags_are_cut_to_size(tmp_path: Path, make_audio: MakeAudio) -> None:
    path = make_audio(tmp_path / "big.mp3")
    write_tags(
        path,
        {
            "title": "T" * 100_000,
            "comment": "C" * 3_000_000,
            "cover": b"\xff\xd8\xff" + b"\0" * 8_000_000,
            "extra": {f"K{i}": "v" * 5000 for i in range(200)},
        },
    )
    assert path.stat().st_size > 11_000_000
    rec = read_tags(str(path))
    assert rec.title == "T" * 1024
    assert rec.comment is not None and len(rec.comment) == 8192
    assert rec.has_cover
    assert len(rec.extra_tags) <= 64
    assert all(len(str(v)) <= 1024 for v in rec.extra_tags.values())
    assert rec.duration_s == pytest.approx(1.0, abs=0.1)


@pytest.mark.parametrize("fmt", ["mp3", "flac", "m4a"])
def test_truncated_files_give_a_reason(fmt: str, tmp_path: Path, make_audio: MakeAudio) -> None:
    path = make_audio(tmp_path / f"a{extension(fmt)}", fmt, seconds=2.0)
    data = path.read_bytes()
    for keep in (40, len(data) // 3):
        cut = tmp_path / f"cut{keep}{extension(fmt)}"
        cut.write_bytes(data[:keep])
        result = inspect_one("x", str(cut))
        # Either read (audio partly there) or an error that says what is wrong; never an exception.
        if result.error is not None:
            assert any(
                w in result.error for w in ("damaged", "truncated", "not an audio", "no audio")
            )
        else:
            assert result.columns is not None and result.fingerprint


def test_odd_files(tmp_path: Path, make_audio: MakeAudio) -> None:
    (tmp_path / "empty.flac").write_bytes(b"")
    assert inspect_one("e", str(tmp_path / "empty.flac")).error == "empty file (0 bytes)"
    (tmp_path / "notes.mp3").write_text("not audio at all\n" * 100)
    assert "not an audio file" in (inspect_one("n", str(tmp_path / "notes.mp3")).error or "")
    # Audio without an audio extension is found by its content; non-audio without one is ignored.
    src = make_audio(tmp_path / "real.ogg", "ogg")
    (tmp_path / "track_without_ext").write_bytes(src.read_bytes())
    found = inspect_one("w", str(tmp_path / "track_without_ext"))
    assert found.columns is not None and found.columns["format"] == "ogg"
    (tmp_path / "README").write_text("hello")
    assert inspect_one("r", str(tmp_path / "README")).ignored
    with pytest.raises(TagReadError, match="not an audio file"):
        read_tags(str(tmp_path / "notes.mp3"))


def test_wav_with_riff_info_chunk_reads(tmp_path: Path, make_audio: MakeAudio) -> None:
    path = make_audio(tmp_path / "a.wav", title="With ID3")
    data = bytearray(path.read_bytes())
    info = b"INFOINAM" + struct.pack("<I", 6) + b"Hello\0"
    chunk = b"LIST" + struct.pack("<I", len(info)) + info
    data[4:8] = struct.pack("<I", len(data) - 8 + len(chunk))
    path.write_bytes(bytes(data[:12]) + chunk + bytes(data[12:]))
    rec = read_tags(str(path))
    assert rec.title == "With ID3" and rec.duration_s == pytest.approx(1.0, abs=0.05)


@pytest.mark.parametrize("fmt", ALL_FORMATS)
def test_encoded_files_decode_back(fmt: str, tmp_path: Path, make_audio: MakeAudio) -> None:
    """encode() writes real, decodable audio of the asked length (other areas' tests rely on it)."""
    path = make_audio(tmp_path / f"d{extension(fmt)}", fmt, seconds=1.5)
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        samples = sum(frame.samples for frame in container.decode(stream))
        rate = stream.rate
    assert samples / rate == pytest.approx(1.5, abs=0.1)
