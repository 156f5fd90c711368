"""CUE sheets for recordings: write one from a tracklist, and import an existing ``.cue`` as a tracklist.

Writer choices, for DJ software and players:
- ``FILE "<real file name>" <type>``: MP3 for .mp3, AIFF for .aif/.aiff, WAVE for everything else (the
  convention foobar2000, EAC and most players follow for FLAC/M4A/OGG too);
- ``TITLE``/``PERFORMER`` in double quotes; a double quote inside a value becomes ``'`` because the format
  has no escape, and line breaks become spaces;
- ``INDEX 01 mm:ss:ff`` with 75 frames per second; minutes keep counting past 99 (a 2-hour set has 120:00:00);
- ``REM GENRE`` / ``REM DATE`` from the tracklist, ``REM COMMENT`` with the source page;
- "w/" rows without their own cue are folded into the main entry's title (``Title w/ Artist - Title``);
  "w/" rows with their own cue become tracks. Entries still without a cue are left out, and the format allows
  at most 99 tracks, so later ones are left out too (both are reported by :func:`cue_sheet`).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from backend.tracklists.model import Entry, Timeline, TracklistPage

FRAMES_PER_SECOND = 75
MAX_TRACKS = 99
WITH_SEPARATOR = " w/ "
WITH_REM = "PLAYED_WITH_PREVIOUS"
_FILE_TYPES = {".mp3": "MP3", ".aif": "AIFF", ".aiff": "AIFF"}
_LINE = re.compile(r"^\s*(\S+)\s*(.*?)\s*$")


@dataclass(frozen=True)
class CueSheet:
    """The text of a CUE sheet and what could not be put into it."""

    text: str
    tracks: int
    left_out: tuple[Entry, ...]


def quote(value: str) -> str:
    """A CUE string value: one line, in double quotes, without inner double quotes."""
    value = re.sub(r"[\r\n]+", " ", value).replace('"', "'")
    return f'"{value.strip()}"'


def index_time(seconds: float) -> str:
    """``mm:ss:ff`` at 75 frames per second (minutes are not capped at 99)."""
    frames = int(max(seconds, 0.0) * FRAMES_PER_SECOND + 0.5)  # half frames round up
    minutes, rest = divmod(frames, 60 * FRAMES_PER_SECOND)
    secs, ff = divmod(rest, FRAMES_PER_SECOND)
    return f"{minutes:02d}:{secs:02d}:{ff:02d}"


def file_type(path: Path) -> str:
    return _FILE_TYPES.get(path.suffix.lower(), "WAVE")


def _fold(entries: tuple[Entry, ...]) -> tuple[list[tuple[Entry, str]], list[Entry]]:
    """Pair each cue track with its title (w/ rows folded in); return the entries left out."""
    tracks: list[tuple[Entry, str]] = []
    left_out: list[Entry] = []
    for entry in entries:
        if entry.with_previous and entry.cue_s is None and tracks:
            main, title = tracks[-1]
            tracks[-1] = (main, f"{title}{WITH_SEPARATOR}{entry.display}")
        elif entry.cue_s is None:
            left_out.append(entry)
        else:
            tracks.append((entry, entry.title))
    return tracks, left_out


def cue_sheet(page: TracklistPage, timeline: Timeline, audio_file: Path) -> CueSheet:
    """The CUE sheet of ``timeline`` (the one that matches ``audio_file``) of ``page``."""
    lines: list[str] = []
    if page.genres:
        lines.append(f"REM GENRE {quote(', '.join(page.genres))}")
    if page.date:
        lines.append(f"REM DATE {page.date.isoformat()}")
    if page.url:
        lines.append(f"REM COMMENT {quote('Tracklist: ' + page.url)}")
    if page.djs:
        lines.append(f"PERFORMER {quote(' & '.join(page.djs))}")
    lines.append(f"TITLE {quote(page.title)}")
    lines.append(f"FILE {quote(audio_file.name)} {file_type(audio_file)}")
    tracks, left_out = _fold(timeline.entries)
    tracks.sort(key=lambda t: t[0].cue_s or 0)
    if len(tracks) > MAX_TRACKS:
        left_out.extend(entry for entry, _ in tracks[MAX_TRACKS:])
        tracks = tracks[:MAX_TRACKS]
    for number, (entry, title) in enumerate(tracks, start=1):
        lines.append(f"  TRACK {number:02d} AUDIO")
        lines.append(f"    TITLE {quote(title)}")
        if entry.artist:
            lines.append(f"    PERFORMER {quote(entry.artist)}")
        if entry.with_previous:
            # Players ignore REM; the importer reads it back so the "w/" row keeps its meaning.
            lines.append(f"    REM {WITH_REM}")
        lines.append(f"    INDEX 01 {index_time(entry.cue_s or 0)}")
    return CueSheet("\r\n".join(lines) + "\r\n", len(tracks), tuple(left_out))


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def _parse_index(value: str) -> float | None:
    m = re.fullmatch(r"\s*\d+\s+(\d+):(\d{1,2}):(\d{1,2})\s*", value)
    if not m:
        return None
    minutes, secs, frames = (int(g) for g in m.groups())
    return minutes * 60 + secs + frames / FRAMES_PER_SECOND


def read_cue_text(path: Path) -> str:
    """The text of a CUE file: UTF-8 (with or without BOM), else Windows-1252 as older rippers wrote."""
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def parse_cue(text: str) -> tuple[TracklistPage, str | None]:
    """A CUE sheet as a tracklist (cues from the sheet are the user's) and the FILE name it names."""
    title = ""
    performer: str | None = None
    date: dt.date | None = None
    genres: tuple[str, ...] = ()
    url: str | None = None
    file_name: str | None = None
    entries: list[Entry] = []
    track: dict[str, str | float | None] | None = None

    def flush() -> None:
        if track is None or track.get("index") is None:
            return
        index = track["index"]
        assert isinstance(index, float)
        parts = str(track.get("title") or "").split(WITH_SEPARATOR)
        artist = str(track.get("performer") or "")
        w = bool(track.get("with"))
        position = None if w else sum(1 for e in entries if not e.with_previous) + 1
        # Frame-exact: a sheet's cues are the user's own and must survive an export unchanged.
        entries.append(_entry(position, index, artist, parts[0], w))
        for extra in parts[1:]:
            a, sep, t = extra.partition(" - ")
            entries.append(_entry(None, None, a if sep else "", t if sep else a, True))

    for line in text.splitlines():
        m = _LINE.match(line)
        if not m:
            continue
        keyword, rest = m.group(1).upper(), m.group(2)
        if keyword == "TRACK":
            flush()
            track = {"index": None}
        elif keyword == "INDEX" and track is not None:
            if rest.strip().startswith("01"):
                track["index"] = _parse_index(rest)
        elif keyword in ("TITLE", "PERFORMER"):
            if track is not None:
                track[keyword.lower()] = _unquote(rest)
            elif keyword == "TITLE":
                title = _unquote(rest)
            else:
                performer = _unquote(rest)
        elif keyword == "FILE":
            fm = re.match(r'\s*("[^"]*"|\S+)', rest)
            file_name = _unquote(fm.group(1)) if fm else None
        elif keyword == "REM":
            key, _, value = rest.strip().partition(" ")
            value = _unquote(value)
            if key.upper() == "DATE":
                date = _cue_date(value)
            elif key.upper() == "GENRE":
                genres = tuple(g.strip() for g in value.split(",") if g.strip())
            elif key.upper() == WITH_REM and track is not None:
                track["with"] = 1.0
            elif key.upper() == "COMMENT" and value.startswith("Tracklist: "):
                url = value.removeprefix("Tracklist: ")
    flush()
    page = TracklistPage(
        title=title,
        djs=tuple(p.strip() for p in performer.split(" & ")) if performer else (),
        date=date,
        genres=genres,
        url=url,
        short_id=None,
        timelines=(Timeline(None, None, tuple(entries)),),
    )
    return page, file_name


def _entry(position: int | None, cue: float | None, artist: str, title: str, w: bool) -> Entry:
    base = re.sub(r"\s*\([^)]*\)\s*$", "", title).strip()
    return Entry(
        position=position,
        cue_s=cue,
        artist=artist.strip(),
        title=title.strip(),
        with_previous=w,
        is_id=base.upper() == "ID" or artist.strip().upper() == "ID",
        cue_source="user",
    )


def _cue_date(value: str) -> dt.date | None:
    value = value.strip()
    try:
        if re.fullmatch(r"\d{4}", value):
            return dt.date(int(value), 1, 1)
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


def find_cue_for(recording: Path) -> Path | None:
    """An existing CUE sheet next to ``recording``: same stem, or one whose FILE names the recording."""
    same = recording.with_suffix(".cue")
    if same.exists():
        return same
    for candidate in sorted(recording.parent.glob("*.cue")):
        try:
            _, file_name = parse_cue(read_cue_text(candidate))
        except OSError:
            continue
        if file_name and Path(file_name).name == recording.name:
            return candidate
    return None


def import_cue(path: Path) -> TracklistPage:
    """Read a CUE file as a tracklist."""
    page, _ = parse_cue(read_cue_text(path))
    return page
