"""The library table's columns: title, width, alignment, editability and how a value is shown."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from backend.analysis import keys


@dataclass(frozen=True)
class Column:
    """One column of the library table (``name`` = backend column name)."""

    name: str
    title: str
    width: int
    numeric: bool = False
    editable: bool = False
    default_visible: bool = True


COLUMNS: tuple[Column, ...] = (
    Column("artist", "Artist", 180, editable=True),
    Column("title", "Title", 240, editable=True),
    Column("bpm", "BPM", 60, numeric=True),
    Column("key", "Key", 56),
    Column("energy", "Energy", 60, numeric=True),
    Column("duration", "Time", 60, numeric=True),
    Column("genre", "Genre", 110, editable=True),
    Column("album", "Album", 170, editable=True),
    Column("label", "Label", 120, editable=True),
    Column("year", "Year", 52, numeric=True, editable=True),
    Column("comment", "Comment", 160, editable=True, default_visible=False),
    Column("album_artist", "Album artist", 150, editable=True, default_visible=False),
    Column("track_no", "#", 36, numeric=True, editable=True, default_visible=False),
    Column("disc_no", "Disc", 40, numeric=True, editable=True, default_visible=False),
    Column("bpm_tag", "BPM (tag)", 70, numeric=True, editable=True, default_visible=False),
    Column("key_tag", "Key (tag)", 70, editable=True, default_visible=False),
    Column("isrc", "ISRC", 110, editable=True, default_visible=False),
    Column("loudness", "LUFS", 56, numeric=True, default_visible=False),
    Column("format", "Format", 60),
    Column("bitrate", "Bitrate", 64, numeric=True, default_visible=False),
    Column("sample_rate", "Rate", 60, numeric=True, default_visible=False),
    Column("status", "Status", 70),
    Column("added", "Added", 90, default_visible=False),
    Column("path", "Path", 260, default_visible=False),
)
BY_NAME = {c.name: c for c in COLUMNS}
INDEX = {c.name: i for i, c in enumerate(COLUMNS)}


def format_key(camelot: str | None, notation: str) -> str:
    """A Camelot code in the user's notation (camelot, openkey or standard)."""
    if not camelot:
        return ""
    try:
        if notation == "openkey":
            return keys.camelot_to_open_key(camelot)
        if notation == "standard":
            name = keys.camelot_to_name(camelot)
            return name.replace(" minor", "m").replace(" major", "")
    except keys.KeyParseError:
        return camelot
    return camelot


def _duration(value: float) -> str:
    total = round(value)
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def _number(digits: int) -> Callable[[Any], str]:
    def fmt(value: Any) -> str:
        number = float(value)
        return str(int(number)) if number.is_integer() else f"{number:.{digits}f}"

    return fmt


_FORMATTERS: dict[str, Callable[[Any], str]] = {
    "bpm": _number(1),
    "bpm_tag": _number(1),
    "energy": _number(1),
    "loudness": lambda v: f"{float(v):.1f}",
    "duration": _duration,
    "bitrate": lambda v: f"{int(v) // 1000}k" if int(v) >= 1000 else str(v),
    "sample_rate": lambda v: f"{int(v) / 1000:g} kHz",
    "added": lambda v: v.strftime("%Y-%m-%d") if isinstance(v, dt.datetime) else str(v)[:10],
}


def display(column: str, value: Any, notation: str = "camelot") -> str:
    """The text a cell shows."""
    if value is None:
        return ""
    if column == "key":
        return format_key(value, notation)
    formatter = _FORMATTERS.get(column)
    return formatter(value) if formatter else str(value)
