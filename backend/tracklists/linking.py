"""Artist/title/remix normalisation, to match tracklist entries to the tracks of the library.

"AFROJACK ft. Eva Simons - Take Over Control (Piano Version)" and a file tagged artist "Afrojack feat.
Eva Simons", title "Take Over Control [Piano Version]" are the same recording; "(Original Mix)" and
"(Extended Mix)" are the track itself; a different remix is a different recording and is not linked.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from backend.tracklists.model import Entry

_FEAT = re.compile(r"\s*(?:\bfeat\.?|\bft\.?|\bfeaturing\b|\bpres\.?|\bpresents\b)\s+", re.I)
_ARTIST_SPLIT = re.compile(r"\s*(?:&|,|\band\b|\bx\b|\bvs\.?|\bwith\b|\+|/)\s*", re.I)
_BRACKETS = re.compile(r"[\(\[]([^\)\]]*)[\)\]]")
_ORIGINAL = {"original mix", "original", "extended mix", "extended", "club mix", "radio edit", ""}
_WORD = re.compile(r"[^\w]+", re.UNICODE)


def fold(text: str) -> str:
    """Lowercase, accents removed, punctuation to single spaces ("RÜFÜS DU SOL" → "rufus du sol")."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.replace("$", "s").replace("ø", "o").replace("Ø", "o")
    return _WORD.sub(" ", text.casefold()).strip()


def artist_names(artist: str) -> frozenset[str]:
    """Every credited artist, normalised: main artists, featured ones, "vs." and "&" partners."""
    parts = _ARTIST_SPLIT.split(_FEAT.sub(" & ", artist))
    return frozenset(f for f in (fold(p) for p in parts) if f and f != "id")


def split_title(title: str, remix: str | None = None) -> tuple[str, str | None]:
    """Base title and normalised remix: "Copy Copy (LOGIC1000 Remix)" → ("copy copy", "logic1000 remix")."""
    versions = [m.group(1) for m in _BRACKETS.finditer(title)]
    base = _BRACKETS.sub(" ", title)
    base = re.sub(r"\s+-\s+.*$", "", base)  # "Title - Extended Mix" style
    dash = re.search(r"\s+-\s+(.*)$", _BRACKETS.sub(" ", title))
    if dash:
        versions.append(dash.group(1))
    if remix:
        versions.append(remix)
    kept = [fold(v) for v in versions if fold(v) not in _ORIGINAL and "acappella" not in fold(v)]
    # Edit notes that are part of the name on the site ("Sensation 2014 Anthem") stay out of the key.
    mix = next(
        (v for v in kept if re.search(r"remix|edit|mix|dub|rework|bootleg|vip|version", v)), None
    )
    return fold(base), mix


@dataclass(frozen=True)
class LibraryTrack:
    """What linking needs of a library track."""

    id: int
    artist: str
    title: str
    duration_s: float | None = None


@dataclass(frozen=True)
class Link:
    """An entry matched to a library track."""

    entry_index: int
    track_id: int
    confidence: float


def match_score(
    entry_artist: str, entry_title: str, remix: str | None, track: LibraryTrack
) -> float:
    """0..1: how surely the entry is this library track (0 when the title or the remix differs)."""
    e_title, e_mix = split_title(entry_title, remix)
    t_title, t_mix = split_title(track.title)
    if not e_title or e_title != t_title or e_title == "id":
        return 0.0
    if e_mix != t_mix:
        return 0.0
    e_artists, t_artists = artist_names(entry_artist), artist_names(track.artist)
    if not e_artists or not t_artists:
        return 0.5
    shared = len(e_artists & t_artists)
    if shared == 0:
        return 0.0
    return 0.7 + 0.3 * shared / max(len(e_artists), len(t_artists))


def link_entries(
    entries: Sequence[Entry], library: Iterable[LibraryTrack], threshold: float = 0.7
) -> list[Link]:
    """The best library track for each entry (mashups are left alone: they are no single track)."""
    by_title: dict[str, list[LibraryTrack]] = {}
    for track in library:
        by_title.setdefault(split_title(track.title)[0], []).append(track)
    links = []
    for index, entry in enumerate(entries):
        if entry.is_id or entry.mashup_of:
            continue
        base, _ = split_title(entry.title, entry.remix)
        best: tuple[float, int] | None = None
        for track in by_title.get(base, ()):
            score = match_score(entry.artist, entry.title, entry.remix, track)
            if score >= threshold and (best is None or score > best[0]):
                best = (score, track.id)
        if best is not None:
            links.append(Link(index, best[1], round(best[0], 3)))
    return links


def followed_by(entries: Sequence[Entry], links: Sequence[Link]) -> list[tuple[int, int]]:
    """(track, next track) pairs of consecutive main entries that are both in the library."""
    linked = {link.entry_index: link.track_id for link in links}
    mains = [i for i, e in enumerate(entries) if not e.with_previous]
    pairs = []
    for a, b in itertools.pairwise(mains):
        if a in linked and b in linked and linked[a] != linked[b]:
            pairs.append((linked[a], linked[b]))
    return pairs
