"""Parse a saved or fetched 1001tracklists tracklist page into a :class:`TracklistPage`.

The page layout (see the fixtures' README): ``div#tlTab`` holds schema.org playlist metadata and one
``div.tlpItem`` per row; ``tlpTog`` rows are main positions or "w/" rows, ``tlpSubTog`` rows are mashup
components of the preceding main row, ``div.bItmH`` header rows split the list into timelines.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, replace
from html import unescape

from bs4 import BeautifulSoup, Tag
from bs4.filter import SoupStrainer

from backend.tracklists.model import (
    BlockedError,
    Entry,
    LinkedRecording,
    MashupPart,
    NotATracklistError,
    Timeline,
    TracklistPage,
)

# Markers of pages served *instead of* content. Strong markers only: a real tracklist page mentions none.
_BLOCK_PATTERNS = (
    re.compile(r"has been limited due to overuse", re.I),
    re.compile(r"/info/unblock_ip", re.I),
    re.compile(r"fill out the captcha", re.I),
    re.compile(r"\b(?:g-recaptcha|h-captcha|cf-turnstile)\b", re.I),
    re.compile(r"challenge-platform|cf-chl-|cf_chl_", re.I),
    re.compile(r"<title>\s*(?:Just a moment|Attention Required)", re.I),
)
_BLOCK_ADVICE = (
    "1001tracklists.com answered with a block/captcha page instead of the tracklist ({why}). "
    "Tracktion never solves captchas: open {url} in your web browser, complete the check there if you "
    "want, and try again later."
)
_SOURCE_NAMES = {"10": "soundcloud", "13": "youtube", "16": "spotify", "40": "mixcloud"}
_WS = re.compile(r"\s+")
_DATE_AT_END = re.compile(r"\s*(\d{4}-\d{2}-\d{2})\s*$")
_PLAYER_TAB = re.compile(r"^(?P<name>.*?)\s*\[(?P<len>\d+(?::\d{1,2}){1,2})\]")
_CANONICAL = re.compile(r'<link[^>]*rel="canonical"[^>]*href="([^"]+)"', re.I)
_OG_URL = re.compile(r'<meta[^>]*property="og:url"[^>]*content="([^"]+)"', re.I)
_TITLE = re.compile(r"<title[^>]*>([^<]*)</title>", re.I)
# Element ids of a row (``tlp12160585_cue_seconds``, ``tlp5_content``, ``tlp5_tracknumber_value``);
# find() with these is much faster than CSS selectors on a page of hundreds of rows.
_CUE_ID = re.compile(r"_cue_seconds$")
_CONTENT_ID = re.compile(r"_content$")
_NUMBER_ID = re.compile(r"_tracknumber_value$")
_ISO_DURATION = re.compile(r"^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?$")


def block_reason(html: str) -> str | None:
    """Why ``html`` looks like a block/captcha/challenge page, or None for a normal page."""
    for pattern in _BLOCK_PATTERNS:
        m = pattern.search(html)
        if m:
            return m.group(0).strip("<>/ ")
    return None


def raise_if_blocked(html: str, url: str | None = None) -> None:
    """Raise :class:`BlockedError` with advice for the user when ``html`` is a block page."""
    why = block_reason(html)
    if why is not None:
        raise BlockedError(_BLOCK_ADVICE.format(why=why, url=url or "the tracklist page"), url=url)


def clean(text: str) -> str:
    """Collapse whitespace and the stray spaces nested spans leave inside brackets."""
    text = _WS.sub(" ", text).strip()
    return re.sub(r"\s+\)", ")", re.sub(r"\(\s+", "(", text))


def parse_clock(text: str) -> int | None:
    """``"mm:ss"``, ``"m:ss"`` or ``"h:mm:ss"`` → seconds; None when empty or malformed."""
    text = text.strip()
    if not re.fullmatch(r"\d+(?::\d{1,2}){1,2}", text):
        return None
    seconds = 0
    for part in text.split(":"):
        seconds = seconds * 60 + int(part)
    return seconds


def _iso_duration(text: str) -> int | None:
    m = _ISO_DURATION.match(text.strip())
    if not m or not any(m.groups()):
        return None
    h, mi, s = (int(g) if g else 0 for g in m.groups())
    return h * 3600 + mi * 60 + s


def _meta(node: Tag, prop: str) -> str | None:
    for m in node.find_all("meta", attrs={"itemprop": prop}, recursive=False):
        content = m.get("content")
        if isinstance(content, str):
            return content
    return None


def _metas(node: Tag, prop: str) -> list[str]:
    out = []
    for m in node.find_all("meta", attrs={"itemprop": prop}, recursive=False):
        content = m.get("content")
        if isinstance(content, str) and content.strip():
            out.append(clean(content))
    return out


@dataclass
class _Row:
    """One parsed ``div.tlpItem`` before rows are grouped into entries."""

    kind: str  # "main" | "with" | "part"
    position: int | None
    raw_cue: int | None  # seconds as the page states them (0 may mean unknown)
    artist: str
    title: str
    remix: str | None
    label: str | None
    duration_s: int | None
    is_id: bool
    track_url: str | None


@dataclass(frozen=True)
class _Header:
    """A timeline header row ("Player 2", optionally with its length)."""

    name: str
    duration_s: int | None


def _split_name(name: str) -> tuple[str, str]:
    artist, sep, title = name.partition(" - ")
    if not sep:
        return "", name
    return artist.strip(), title.strip()


def _restore_forms(name: str, visible: str) -> str:
    """Give words of ``name`` the Unicode form they have in the visible text.

    The page's metadata is NFC-normalised while the visible text (and the site's export) keeps the form
    stored in the site's database, e.g. a decomposed "Ü" in "Jack Ü"; byte parity needs the stored form.
    """
    forms = {
        unicodedata.normalize("NFC", word): word
        for word in visible.split()
        if unicodedata.normalize("NFC", word) != word
    }
    if not forms:
        return name
    return " ".join(forms.get(word, word) for word in name.split(" "))


def _row_cue(item: Tag) -> int | None:
    hidden = item.find("input", id=_CUE_ID)
    if hidden is not None:
        value = str(hidden.get("value") or "").strip()
        if value.isdigit():
            return int(value)
    # Older pages have no hidden input: fall back to the visible "m:ss" / "h:mm:ss" text.
    visible = item.find("div", class_="cue")
    return parse_clock(visible.get_text()) if visible is not None else None


def _parse_row(item: Tag) -> _Row | None:
    classes: list[str] = list(item.get("class") or [])
    content = item.find(id=_CONTENT_ID)
    if content is None:
        return None
    number = item.find(id=_NUMBER_ID)
    number_text = clean(number.get_text()) if number is not None else ""
    if "tlpSubTog" in classes:
        kind, position = "part", None
    elif number_text.lower() == "w/":
        kind, position = "with", None
    else:
        kind = "main"
        position = int(number_text) if number_text.isdigit() else None

    value = content.find(class_="trackValue")
    visible = clean(value.get_text(" ")) if value is not None else clean(content.get_text(" "))
    name = _meta(content, "name")
    # The schema.org name is what the site's own export prints; ID rows carry no metadata.
    artist, title = _split_name(_restore_forms(clean(name), visible) if name else visible)
    base_title = title
    remix = None
    remix_node = value.find(class_="remixValue") if value is not None else None
    if remix_node is not None and remix_node.parent is not None:
        remix = clean(remix_node.parent.get_text(" ")).strip("() ") or None
    # Edit notes ("(Piano Version)") and status notes ("(ID Remix)") are shown after the name only.
    for extra in content.find_all(class_=["trackEditData", "trackStatus"]):
        text = clean(extra.get_text(" "))
        if text:
            title = f"{title} {text}"
            remix = remix or text.strip("() ")
    if remix and base_title.endswith(f"({remix})"):
        base_title = base_title[: -len(remix) - 2].strip()
    labels = [clean(s.get_text(" ")) for s in content.find_all(class_="trackLabel")]
    label = "/".join(lbl for lbl in labels if lbl) or None
    duration = _meta(content, "duration")
    url = _meta(content, "url")
    is_id = base_title.upper() == "ID" or artist.upper() == "ID"
    return _Row(
        kind=kind,
        position=position,
        raw_cue=_row_cue(item),
        artist=artist,
        title=title,
        remix=remix,
        label=label,
        duration_s=_iso_duration(duration) if duration else None,
        is_id=is_id,
        track_url=url,
    )


def _is_timeline_header(node: Tag) -> bool:
    classes: list[str] = list(node.get("class") or [])
    if "bItmH" not in classes or "interaction" in classes:
        # "Add a (live) video ..." is an interaction box that shares the header style.
        return False
    return not clean(node.get_text(" ")).lower().startswith("add a")


def _group(
    rows_and_headers: list[_Row | _Header], recordings: list[LinkedRecording]
) -> list[Timeline]:
    timelines: list[Timeline] = []
    name: str | None = None
    header_len: int | None = None
    entries: list[Entry] = []
    parts: list[MashupPart] = []
    current: _Row | None = None
    seen_rows = False

    def flush_entry() -> None:
        nonlocal current, parts
        if current is not None:
            first = not entries
            cue = current.raw_cue
            # A 0 or missing cue after the timeline's first row means "unknown", not 0:00.
            if cue is not None and cue == 0 and not first:
                cue = None
            entries.append(
                Entry(
                    position=current.position,
                    cue_s=cue,
                    artist=current.artist,
                    title=current.title,
                    remix=current.remix,
                    label=current.label,
                    duration_s=current.duration_s,
                    with_previous=current.kind == "with",
                    is_id=current.is_id,
                    mashup_of=tuple(parts),
                    track_url=current.track_url,
                )
            )
        current, parts = None, []

    def flush_timeline() -> None:
        nonlocal entries
        flush_entry()
        if len(entries) > 1 and not any(e.cue_s for e in entries):
            # No cue times at all: the first row's 0 is the site's default, not a timing.
            entries[0] = replace(entries[0], cue_s=None)
        if entries or name is not None:
            length = header_len or _timeline_duration(name, recordings)
            timelines.append(Timeline(name, length, tuple(entries)))
        entries = []

    for item in rows_and_headers:
        if isinstance(item, _Header):
            if seen_rows or name is not None:
                flush_timeline()
            name, header_len = item.name, item.duration_s
            continue
        seen_rows = True
        if item.kind == "part":
            parts.append(MashupPart(item.artist, item.title))
            continue
        flush_entry()
        current = item
    flush_timeline()
    return timelines


def _timeline_duration(name: str | None, recordings: list[LinkedRecording]) -> int | None:
    if not recordings:
        return None
    if name is None:
        # One unnamed timeline: the first (primary) linked recording is the set as listed.
        return recordings[0].duration_s
    for rec in recordings:
        if rec.name.casefold() == name.casefold():
            return rec.duration_s
    return None


def _recordings(soup: BeautifulSoup) -> list[LinkedRecording]:
    out: list[LinkedRecording] = []
    for tab in soup.select("div.mediaTabItm"):
        source_id = str(tab.get("id") or "").removeprefix("mediaTab")
        source = _SOURCE_NAMES.get(source_id, source_id or "unknown")
        for button in tab.select("li.tBtn"):
            m = _PLAYER_TAB.match(clean(button.get_text(" ")))
            if m:
                out.append(LinkedRecording(source, m.group("name"), parse_clock(m.group("len"))))
    return out


def _page_url(html: str) -> str | None:
    for pattern in (_CANONICAL, _OG_URL):
        m = pattern.search(html)
        if m:
            return unescape(m.group(1))
    return None


def _wanted(element_id: str | None) -> bool:
    """Parse only what the parser reads: the playlist, the media tabs and the page title."""
    return element_id is not None and (
        element_id in ("tlTab", "pageTitle") or element_id.startswith("mediaTab")
    )


def _event(title: str, djs: tuple[str, ...]) -> str | None:
    rest = _DATE_AT_END.sub("", title)
    for sep in (" @ ", " - "):
        if sep in rest:
            return rest.split(sep, 1)[1].strip() or None
    for dj in djs:
        rest = rest.replace(dj, "")
    return rest.strip(" ,-@") or None


def parse_tracklist(html: str, url: str | None = None) -> TracklistPage:
    """Parse a tracklist page; raise BlockedError for block pages, NotATracklistError for others."""
    raise_if_blocked(html, url)
    # Building the whole tree of a 600 kB page is slow; the strainer keeps the parts read below.
    soup = BeautifulSoup(html, "lxml", parse_only=SoupStrainer(id=_wanted))
    tab = soup.select_one("#tlTab")
    if tab is None:
        raise NotATracklistError("not a 1001tracklists tracklist page (no #tlTab playlist)")
    title_match = _TITLE.search(html)
    title = clean(_meta(tab, "name") or (unescape(title_match.group(1)) if title_match else ""))
    djs = tuple(_metas(tab, "author"))
    date_text = _meta(tab, "datePublished") or ""
    m = _DATE_AT_END.search(title)
    try:
        date = dt.date.fromisoformat(date_text.strip() or (m.group(1) if m else ""))
    except ValueError:
        date = None
    recordings = _recordings(soup)
    sequence: list[_Row | _Header] = []
    for node in tab.find_all("div", class_=["tlpItem", "bItmH"]):
        if "bItmH" not in (node.get("class") or []):
            row = _parse_row(node)
            if row is not None:
                sequence.append(row)
        elif _is_timeline_header(node):
            header = clean(node.get_text(" "))
            hm = _PLAYER_TAB.match(header)
            if hm:
                sequence.append(_Header(hm.group("name"), parse_clock(hm.group("len"))))
            else:
                sequence.append(_Header(header, None))
    short_id = tab.get("data-id")
    sources = tuple(clean(a.get_text()) for a in soup.select("#pageTitle a[href*='/source/']"))
    return TracklistPage(
        title=title,
        djs=djs,
        date=date,
        genres=tuple(_metas(tab, "genre")),
        url=_page_url(html) or url,
        short_id=str(short_id) if short_id else None,
        event=_event(title, djs),
        sources=tuple(dict.fromkeys(sources)),
        timelines=tuple(_group(sequence, recordings)),
        recordings=tuple(recordings),
    )
