"""Optional chapters written into the recording itself, so players show the tracklist without a .cue.

- MP3, WAV and AIFF: ID3v2 ``CHAP`` frames (one per track, title in a ``TIT2`` sub-frame) under a top-level,
  ordered ``CTOC`` table of contents (the ID3 chapter addendum; read by e.g. VLC, foobar2000, podcast apps);
- FLAC, Ogg Vorbis, Opus: the Vorbis-comment chapter convention ``CHAPTER001=00:00:00.000`` and
  ``CHAPTER001NAME=Title`` (read by foobar2000, mpv, VLC);
- MP4/M4A: mutagen only *reads* MP4 chapters, so the file is remuxed (stream copy, no re-encoding) with
  PyAV/ffmpeg, which writes a Nero ``chpl`` box plus a QuickTime chapter track; the tags are copied back
  with mutagen afterwards because the remux drops them;
- WMA and other formats: not supported (:class:`ChaptersUnsupported`).

Writing replaces the chapters Tracktion (or anyone) wrote before; other tags are left alone.
"""

from __future__ import annotations

import fractions
import importlib
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from backend.tracklists.model import Timeline

if TYPE_CHECKING:
    from av.container.core import Chapter as AvChapter

_ID3_EXT = {".mp3", ".wav", ".aif", ".aiff"}
_VORBIS_EXT = {".flac", ".ogg", ".oga", ".opus"}
_MP4_EXT = {".m4a", ".mp4", ".m4b", ".aac"}
_VORBIS_KEY = re.compile(r"^CHAPTER(\d{3})(NAME)?$", re.I)


class ChaptersUnsupported(ValueError):
    """This file format cannot carry chapters written by Tracktion."""


@dataclass(frozen=True)
class Chapter:
    start_s: float
    title: str


def chapters_from(timeline: Timeline) -> list[Chapter]:
    """One chapter per cued entry ("w/" rows without a cue are folded into the title, as in CUE sheets)."""
    chapters: list[Chapter] = []
    for entry in timeline.entries:
        if entry.cue_s is None:
            if entry.with_previous and chapters:
                last = chapters[-1]
                chapters[-1] = Chapter(last.start_s, f"{last.title} w/ {entry.display}")
            continue
        chapters.append(Chapter(float(entry.cue_s), entry.display))
    return sorted(chapters, key=lambda c: c.start_s)


def _clock(seconds: float) -> str:
    ms = round(seconds * 1000)
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def _parse_clock(text: str) -> float | None:
    m = re.fullmatch(r"(\d+):(\d{2}):(\d{2})(?:\.(\d{1,3}))?", text.strip())
    if not m:
        return None
    h, mi, s = int(m.group(1)), int(m.group(2)), int(m.group(3))
    return h * 3600 + mi * 60 + s + int((m.group(4) or "0").ljust(3, "0")) / 1000


def write_chapters(path: Path, chapters: Sequence[Chapter], duration_s: float) -> None:
    """Write ``chapters`` into ``path`` (replacing earlier chapters); see the module docstring."""
    ext = path.suffix.lower()
    ordered = sorted(chapters, key=lambda c: c.start_s)
    if ext in _ID3_EXT:
        _write_id3(path, ordered, duration_s)
    elif ext in _VORBIS_EXT:
        _write_vorbis(path, ordered)
    elif ext in _MP4_EXT:
        _write_mp4(path, ordered, duration_s)
    else:
        raise ChaptersUnsupported(f"chapters cannot be written into {ext or 'this'} files")


def read_chapters(path: Path) -> list[Chapter]:
    """The chapters stored in ``path`` (empty when there are none)."""
    ext = path.suffix.lower()
    if ext in _ID3_EXT:
        return _read_id3(path)
    if ext in _VORBIS_EXT:
        return _read_vorbis(path)
    if ext in _MP4_EXT:
        found = _mp4(path).chapters
        return [Chapter(float(c.start), str(c.title)) for c in (found or [])]
    raise ChaptersUnsupported(f"chapters cannot be read from {ext or 'this'} files")


def _id3_file(path: Path) -> Any:
    import mutagen

    audio = mutagen.File(path)
    if audio is None:
        raise ChaptersUnsupported(f"{path.name}: not an audio file mutagen can read")
    if audio.tags is None:
        audio.add_tags()
    return audio


def _write_id3(path: Path, chapters: Sequence[Chapter], duration_s: float) -> None:
    # mutagen's frame classes are untyped; the module is used as Any on purpose.
    id3: Any = importlib.import_module("mutagen.id3")
    CHAP, CTOC, TIT2, CTOCFlags = id3.CHAP, id3.CTOC, id3.TIT2, id3.CTOCFlags
    audio = _id3_file(path)
    tags = audio.tags
    tags.delall("CHAP")
    tags.delall("CTOC")
    ids = [f"chp{i}" for i in range(len(chapters))]
    for i, chapter in enumerate(chapters):
        end = chapters[i + 1].start_s if i + 1 < len(chapters) else duration_s
        tags.add(
            CHAP(
                element_id=ids[i],
                start_time=round(chapter.start_s * 1000),
                end_time=round(max(end, chapter.start_s) * 1000),
                # 0xFFFFFFFF: "no byte offsets", times only (what the addendum asks when unknown).
                start_offset=0xFFFFFFFF,
                end_offset=0xFFFFFFFF,
                sub_frames=[TIT2(encoding=3, text=[chapter.title])],
            )
        )
    tags.add(
        CTOC(
            element_id="toc",
            flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
            child_element_ids=ids,
            sub_frames=[TIT2(encoding=3, text=["Tracklist"])],
        )
    )
    audio.save()


def _read_id3(path: Path) -> list[Chapter]:
    audio = _id3_file(path)
    out = []
    for frame in audio.tags.getall("CHAP"):
        title_frame = frame.sub_frames.get("TIT2")
        title = str(title_frame.text[0]) if title_frame else frame.element_id
        out.append(Chapter(frame.start_time / 1000, title))
    return sorted(out, key=lambda c: c.start_s)


def _write_vorbis(path: Path, chapters: Sequence[Chapter]) -> None:
    import mutagen

    audio = mutagen.File(path)
    if audio is None:
        raise ChaptersUnsupported(f"{path.name}: not an audio file mutagen can read")
    if audio.tags is None:
        audio.add_tags()
    for key in list(audio.tags.keys()):
        if _VORBIS_KEY.match(key):
            del audio.tags[key]
    for i, chapter in enumerate(chapters, start=1):
        audio.tags[f"CHAPTER{i:03d}"] = _clock(chapter.start_s)
        audio.tags[f"CHAPTER{i:03d}NAME"] = chapter.title
    audio.save()


def _read_vorbis(path: Path) -> list[Chapter]:
    import mutagen

    audio = mutagen.File(path)
    starts: dict[str, float] = {}
    names: dict[str, str] = {}
    for key, values in (audio.tags or {}).items():
        m = _VORBIS_KEY.match(key)
        if not m or not values:
            continue
        if m.group(2):
            names[m.group(1)] = str(values[0])
        else:
            start = _parse_clock(str(values[0]))
            if start is not None:
                starts[m.group(1)] = start
    return sorted(
        (Chapter(start, names.get(n, f"Chapter {int(n)}")) for n, start in starts.items()),
        key=lambda c: c.start_s,
    )


def _mp4(path: Path) -> Any:
    from mutagen.mp4 import MP4

    mp4: Any = MP4
    return mp4(path)


def _write_mp4(path: Path, chapters: Sequence[Chapter], duration_s: float) -> None:
    import av

    MP4 = _mp4
    old_tags = dict(MP4(path).tags or {})
    tmp = path.with_name(f".{path.name}.chapters.tmp")
    ms = fractions.Fraction(1, 1000)
    marks: list[AvChapter] = []
    for i, chapter in enumerate(chapters):
        end = chapters[i + 1].start_s if i + 1 < len(chapters) else duration_s
        marks.append(
            {
                "id": i + 1,
                "start": round(chapter.start_s * 1000),
                "end": round(max(end, chapter.start_s) * 1000),
                "time_base": ms,
                "metadata": {"title": chapter.title},
            }
        )
    try:
        with av.open(str(path)) as src, av.open(str(tmp), "w", format="mp4") as dst:
            streams = {s.index: dst.add_stream_from_template(s) for s in src.streams.audio}
            dst.set_chapters(marks)
            for packet in src.demux(*src.streams.audio):
                if packet.dts is None:
                    continue  # the demuxer's end-of-stream marker
                packet.stream = streams[packet.stream.index]
                dst.mux(packet)
        remuxed = MP4(tmp)
        if remuxed.tags is None:
            remuxed.add_tags()
        remuxed.tags.clear()
        remuxed.tags.update(old_tags)
        remuxed.save()
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
