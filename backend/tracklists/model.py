"""Typed records of a 1001tracklists tracklist page, shared by the parser, exporters and handler."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

CueSource = Literal["site", "aligned", "user"]  # user: typed in or imported from a .cue


class BlockedError(RuntimeError):
    """The site answered with a block, captcha or challenge page instead of the content.

    Never parsed as an empty tracklist; the message tells the user what to do.
    """

    def __init__(self, message: str, url: str | None = None, retry_after_s: float | None = None):
        super().__init__(message)
        self.url = url
        self.retry_after_s = retry_after_s


class NotATracklistError(ValueError):
    """The page is neither a tracklist nor a block page (wrong URL, layout change)."""


@dataclass(frozen=True)
class MashupPart:
    """One component of a mashup row."""

    artist: str
    title: str


@dataclass(frozen=True)
class Entry:
    """One main row of a tracklist ("w/" rows are entries with ``with_previous``)."""

    position: int | None
    # Whole seconds as the site gives them; a cue the user dragged in the app keeps its fraction.
    cue_s: float | None
    artist: str
    title: str  # as displayed, including the remix/edit suffix
    remix: str | None = None
    label: str | None = None
    duration_s: int | None = None
    with_previous: bool = False
    is_id: bool = False
    mashup_of: tuple[MashupPart, ...] = ()
    track_url: str | None = None
    cue_source: CueSource = "site"

    @property
    def display(self) -> str:
        """``Artist - Title (Remix)`` as the site prints it."""
        return f"{self.artist} - {self.title}" if self.artist else self.title


@dataclass(frozen=True)
class Timeline:
    """A run of rows whose cues share one time axis (one recording of the set)."""

    name: str | None
    duration_s: int | None
    entries: tuple[Entry, ...]


@dataclass(frozen=True)
class LinkedRecording:
    """A recording of the set linked from the page's media tabs (e.g. YouTube "Player 1 [1:07:49]")."""

    source: str
    name: str
    duration_s: int | None


@dataclass(frozen=True)
class TracklistPage:
    """Everything the parser reads from one tracklist page."""

    title: str
    djs: tuple[str, ...]
    date: dt.date | None
    genres: tuple[str, ...]
    url: str | None
    short_id: str | None
    event: str | None = None
    sources: tuple[str, ...] = ()
    timelines: tuple[Timeline, ...] = ()
    recordings: tuple[LinkedRecording, ...] = field(default=())

    @property
    def entries(self) -> tuple[Entry, ...]:
        """All entries of every timeline, in page order."""
        return tuple(e for t in self.timelines for e in t.entries)


def entry_json(entry: Entry) -> dict[str, Any]:
    """The JSON shape of one entry as the issue specifies it."""
    return {
        "position": entry.position,
        "cue_s": entry.cue_s,
        "artist": entry.artist,
        "title": entry.title,
        "label": entry.label,
        "with_previous": entry.with_previous,
        "is_id": entry.is_id,
        "mashup_of": [{"artist": p.artist, "title": p.title} for p in entry.mashup_of],
    }


def page_json(page: TracklistPage) -> dict[str, Any]:
    """The ``--json`` document for a page."""
    return {
        "title": page.title,
        "djs": list(page.djs),
        "date": page.date.isoformat() if page.date else None,
        "genres": list(page.genres),
        "url": page.url,
        "timelines": [
            {
                "name": t.name,
                "duration_s": t.duration_s,
                "entries": [entry_json(e) for e in t.entries],
            }
            for t in page.timelines
        ],
    }
