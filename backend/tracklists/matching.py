"""How surely a tracklist candidate describes a recording: DJ, event, date and length → a confidence.

The confidence is a weighted mean over the clues both sides have, scaled down when clues are missing, so a
candidate known only by a matching name never reaches the auto-apply threshold; the app asks instead.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from backend.tracklists.linking import artist_names, fold
from backend.tracklists.model import TracklistPage
from backend.tracklists.search import SearchHit, SearchQuery

WEIGHTS = {"dj": 0.3, "event": 0.2, "date": 0.25, "duration": 0.25}
AUTO_APPLY_MARGIN = 0.1  # the best candidate must beat the runner-up by this much
_STOP = {"live", "set", "at", "the", "dj", "mix", "b2b", "and", "vs", "x"}


@dataclass(frozen=True)
class Recording:
    """What we know of a recording (from tags, file name and the file itself)."""

    dj: str | None
    event: str | None
    date: dt.date | None
    duration_s: float | None

    @classmethod
    def from_query(cls, query: SearchQuery, duration_s: float | None) -> Recording:
        return cls(query.dj, query.event, query.date, duration_s)


@dataclass(frozen=True)
class Candidate:
    """A tracklist that may be the recording's, as far as a search hit or a fetched page tells."""

    key: str  # site path
    title: str
    djs: tuple[str, ...]
    date: dt.date | None
    lengths_s: tuple[float, ...]  # each linked recording's length (or the play time)
    length_is_rough: bool = False  # search results round the play time to minutes

    @classmethod
    def from_hit(cls, hit: SearchHit) -> Candidate:
        dj = hit.title.split(" @ ")[0] if " @ " in hit.title else ""
        lengths = (float(hit.play_time_s),) if hit.play_time_s else ()
        return cls(hit.path, hit.title, (dj,) if dj else (), hit.date, lengths, True)

    @classmethod
    def from_page(cls, page: TracklistPage, key: str | None = None) -> Candidate:
        lengths = {float(r.duration_s) for r in page.recordings if r.duration_s}
        lengths |= {float(t.duration_s) for t in page.timelines if t.duration_s}
        return cls(
            key or page.url or page.title, page.title, page.djs, page.date, tuple(sorted(lengths))
        )


@dataclass(frozen=True)
class Score:
    candidate: Candidate
    confidence: float
    parts: dict[str, float] = field(default_factory=dict)


def _tokens(text: str) -> set[str]:
    return {t for t in fold(text).split() if t not in _STOP and len(t) > 1}


def dj_score(dj: str, candidate: Candidate) -> float:
    """1 when the DJ is credited; partial when only some of a b2b's names are."""
    ours = artist_names(dj)
    theirs = set().union(*(artist_names(d) for d in candidate.djs)) if candidate.djs else set()
    if ours & theirs:
        return len(ours & theirs) / len(ours)
    # Fall back to the title, which always starts with the DJ names.
    title = fold(candidate.title)
    return 1.0 if all(name in title for name in ours) else 0.0


def event_score(event: str, candidate: Candidate) -> float:
    """Share of the event's words found in the candidate's title."""
    ours = _tokens(event)
    if not ours:
        return 0.0
    return len(ours & _tokens(candidate.title)) / len(ours)


def date_score(date: dt.date, other: dt.date) -> float:
    days = abs((date - other).days)
    # Sets that run past midnight are often dated either day.
    return {0: 1.0, 1: 0.7}.get(days, 0.0)


def duration_score(duration_s: float, lengths: Sequence[float], rough: bool) -> float:
    """1 within a minute (or 2 %), falling to 0 at 15 % off; the best linked recording counts."""
    best = 0.0
    for length in lengths:
        diff = abs(length - duration_s) - (60.0 if rough else 0.0)
        ok = max(60.0, 0.02 * duration_s)
        if diff <= ok:
            return 1.0
        best = max(best, 1.0 - (diff - ok) / (0.15 * duration_s))
    return max(best, 0.0)


def score(recording: Recording, candidate: Candidate) -> Score:
    """The confidence that ``candidate`` is the tracklist of ``recording``."""
    parts: dict[str, float] = {}
    if recording.dj:
        parts["dj"] = dj_score(recording.dj, candidate)
    if recording.event:
        parts["event"] = event_score(recording.event, candidate)
    if recording.date and candidate.date:
        parts["date"] = date_score(recording.date, candidate.date)
    if recording.duration_s and candidate.lengths_s:
        parts["duration"] = duration_score(
            recording.duration_s, candidate.lengths_s, candidate.length_is_rough
        )
    if not parts:
        return Score(candidate, 0.0, parts)
    weight = sum(WEIGHTS[k] for k in parts)
    mean = sum(WEIGHTS[k] * v for k, v in parts.items()) / weight
    # Fewer clues, less certainty: all four clues keep the mean, two of them cost a third of it.
    confidence = mean * (weight**0.5)
    if parts.get("dj", 1.0) == 0.0 or parts.get("date", 1.0) == 0.0:
        confidence *= 0.5  # another DJ or another day is almost surely another set
    return Score(candidate, round(confidence, 3), parts)


def rank(recording: Recording, candidates: Sequence[Candidate]) -> list[Score]:
    """Candidates by confidence, best first."""
    return sorted((score(recording, c) for c in candidates), key=lambda s: -s.confidence)


def auto_apply(ranked: Sequence[Score], threshold: float) -> Score | None:
    """The candidate to apply without asking: above the threshold and clearly ahead of the next one."""
    if not ranked or ranked[0].confidence < threshold:
        return None
    if len(ranked) > 1 and ranked[0].confidence - ranked[1].confidence < AUTO_APPLY_MARGIN:
        return None
    return ranked[0]
