"""The site's tracklist search: form fields, result-page parsing, and a query built from a recording."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bs4 import BeautifulSoup, Tag

from backend.tracklists.parser import clean, raise_if_blocked

SEARCH_PATH = "/search/result.php"
SEARCH_TRACKLISTS = "9"  # the form's "search_selection" value for tracklists

_TRACKLIST_HREF = re.compile(r"^/tracklist/([0-9a-z]+)/[^/]+\.html$")
_PLAY_TIME = re.compile(r"^(?:(\d+)h)?\s*(?:(\d+)m)?$")
_DATE_PATTERNS = (
    (re.compile(r"(?<!\d)(\d{4})[-._ ](\d{2})[-._ ](\d{2})(?!\d)"), ("y", "m", "d")),
    (re.compile(r"(?<!\d)(\d{2})[-._ ](\d{2})[-._ ](\d{4})(?!\d)"), ("d", "m", "y")),
    (re.compile(r"(?<!\d)(20\d{2}|19\d{2})(\d{2})(\d{2})(?!\d)"), ("y", "m", "d")),
)
_NOISE = re.compile(
    r"\b(?:live|set|mix|dj[- ]?set|full|hq|hd|recording|official|audio|video|"
    r"\d+\s*(?:hr|hrs|hour|hours|h))\b",
    re.I,
)


@dataclass(frozen=True)
class SearchHit:
    """One tracklist in a search result."""

    tracklist_id: str
    title: str
    path: str  # site path, e.g. /tracklist/2r65b051/slug.html
    date: dt.date | None
    ided_tracks: int | None
    total_tracks: int | None
    play_time_s: int | None
    genres: tuple[str, ...]
    media: tuple[str, ...]  # "youtube", "soundcloud", ... linked recordings


@dataclass(frozen=True)
class SearchQuery:
    """What we know about a recording for finding its tracklist."""

    dj: str | None
    event: str | None
    date: dt.date | None

    @property
    def text(self) -> str:
        """The search box text: DJ and event (the date only narrows matching, titles carry it anyway)."""
        parts = [p for p in (self.dj, self.event) if p]
        return " ".join(parts)


def search_form(query: str) -> dict[str, str]:
    """The form fields the site's search page posts for a tracklist search."""
    return {"main_search": query, "search_selection": SEARCH_TRACKLISTS}


def _play_time(text: str) -> int | None:
    m = _PLAY_TIME.match(text.strip())
    if not m or not any(m.groups()):
        return None
    return int(m.group(1) or 0) * 3600 + int(m.group(2) or 0) * 60


def _field(item: Tag, title: str) -> str | None:
    node = item.find("div", attrs={"title": title})
    return clean(node.get_text(" ")) if isinstance(node, Tag) else None


def parse_search_results(html: str) -> list[SearchHit]:
    """Parse a search result page (no hits → empty list; block page → BlockedError)."""
    raise_if_blocked(html)
    soup = BeautifulSoup(html, "lxml")
    hits: list[SearchHit] = []
    for item in soup.select("div.bItm"):
        link = item.select_one(".bTitle a[href]")
        if link is None:
            continue
        path = str(link["href"])
        m = _TRACKLIST_HREF.match(path)
        if not m:
            continue
        date_text = _field(item, "tracklist date") or ""
        try:
            date = dt.date.fromisoformat(date_text)
        except ValueError:
            date = None
        ided = total = None
        counts = _field(item, "IDed tracks / total tracks") or ""
        cm = re.fullmatch(r"(\d+)\s*/\s*(\d+)", counts)
        if cm:
            ided, total = int(cm.group(1)), int(cm.group(2))
        genres = _field(item, "musicstyle(s)")
        media = tuple(
            str(i["title"]).removeprefix("with ").split()[0].lower()
            for i in item.select("i[title^='with ']")
        )
        hits.append(
            SearchHit(
                tracklist_id=m.group(1),
                title=clean(link.get_text(" ")),
                path=path,
                date=date,
                ided_tracks=ided,
                total_tracks=total,
                play_time_s=_play_time(_field(item, "play time") or ""),
                genres=tuple(g.strip() for g in genres.split(",")) if genres else (),
                media=media,
            )
        )
    return hits


def find_date(text: str) -> tuple[dt.date | None, str]:
    """The first plausible date in ``text`` and the text without it."""
    for pattern, order in _DATE_PATTERNS:
        for m in pattern.finditer(text):
            values = dict(zip(order, (int(g) for g in m.groups()), strict=True))
            try:
                date = dt.date(values["y"], values["m"], values["d"])
            except ValueError:
                continue
            if 1970 <= date.year <= 2100:
                return date, (text[: m.start()] + " " + text[m.end() :]).strip()
    return None, text


def _tidy(text: str) -> str:
    text = re.sub(r"[\[\](){}_]+", " ", text)
    text = _NOISE.sub(" ", text)
    text = re.sub(r"\s+", " ", text).strip(" -,@.")
    return re.sub(r"^(?:at|@)\s+", "", text, flags=re.I)


def build_query(path: Path | str, tags: Mapping[str, str | None] | None = None) -> SearchQuery:
    """DJ, event and date of a recording from its tags, falling back to its file name.

    Tags win where present (artist/albumartist → DJ, album or title → event, date); the file name fills
    the gaps: ``"2023-04-28 Bicep @ The Warehouse Project.mp3"``, ``"Bicep - Live at WHP (2023.04.28)"``.
    """
    tags = tags or {}
    dj = (tags.get("albumartist") or tags.get("artist") or "").strip() or None
    event = (tags.get("album") or tags.get("title") or "").strip() or None
    date, _ = find_date(tags.get("date") or "")
    if date is None and event:
        date, event = find_date(event)
    stem = Path(path).stem
    file_date, rest = find_date(stem)
    date = date or file_date
    file_dj, file_event = None, rest
    for sep in (" @ ", " - ", " live at ", " Live at ", " at "):
        if sep in rest:
            file_dj, file_event = rest.split(sep, 1)
            break
    dj = dj or (_tidy(file_dj) if file_dj else None) or None
    if event:
        event_date, event = find_date(event)
        date = date or event_date
    event = _tidy(event or file_event or "") or None
    if dj and event and event.lower().startswith(dj.lower()):
        event = _tidy(event[len(dj) :]) or None
    return SearchQuery(dj=dj, event=event, date=date)
