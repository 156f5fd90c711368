"""Find, fetch, align and store the tracklist of a recording (used by the worker handler and the CLI).

Order of work: everything that talks to the site happens first; the database is written once at the end,
in one transaction. So a block page (or any fetch error) leaves the database untouched.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.catalog.paths import absolute
from backend.db.models import (
    AnalysisResult,
    CuePoint,
    LibraryRoot,
    Track,
    Tracklist,
    TracklistEntry,
)
from backend.tracklists.align import Alignment, align, choose_timeline, transitions_from
from backend.tracklists.client import ClientConfig, TracklistsClient
from backend.tracklists.cue import find_cue_for, import_cue
from backend.tracklists.linking import LibraryTrack, link_entries
from backend.tracklists.matching import Candidate, Recording, Score, auto_apply, rank, score
from backend.tracklists.model import CueSource, Entry, MashupPart, Timeline, TracklistPage
from backend.tracklists.search import build_query

if TYPE_CHECKING:
    from backend.services import Services

log = logging.getLogger(__name__)

MAX_PAGES = 3  # candidate pages fetched per recording (each costs a polite request)
MIN_SEARCH_CONFIDENCE = 0.3  # search hits below this are not worth a request

Status = Literal["applied", "candidates", "none"]


@dataclass
class Outcome:
    """What happened for one recording."""

    status: Status
    track_id: int
    applied_id: int | None = None
    candidate_ids: list[int] = field(default_factory=list)
    message: str = ""


@dataclass
class _Found:
    page: TracklistPage
    key: str
    score: Score
    source: str = "1001tracklists"


@dataclass
class _RecordingInfo:
    track_id: int
    path: Path
    duration_s: float | None
    tags: dict[str, str | None]
    fingerprint: str | None


async def _recording(session: AsyncSession, track_id: int) -> _RecordingInfo:
    track = await session.get(Track, track_id)
    if track is None:
        raise LookupError(f"no track with id {track_id}")
    root = await session.get(LibraryRoot, track.root_id)
    if root is None:
        raise LookupError(f"track {track_id} has no library folder")
    tags = {
        "artist": track.artist,
        "albumartist": track.album_artist,
        "album": track.album,
        "title": track.title,
        "date": track.date,
    }
    return _RecordingInfo(
        track_id,
        Path(absolute(root.path, track.rel_path)),
        track.duration_s,
        tags,
        track.fingerprint,
    )


class TracklistService:
    """The tracklist pipeline for one deployment's services."""

    def __init__(self, services: Services, client: TracklistsClient | None = None) -> None:
        self.services = services
        self.settings = services.settings.tracklists
        self._own_client = client is None
        self.client = client or TracklistsClient(
            services.cache, ClientConfig.from_settings(self.settings)
        )

    async def close(self) -> None:
        if self._own_client:
            await self.client.close()

    async def find_and_apply(self, track_id: int, url: str | None = None) -> Outcome:
        """Use a .cue next to the file, the page at ``url``, or search; store what was found."""
        async with self.services.db.read() as session:
            rec = await _recording(session, track_id)
            transitions = await self._transitions(session, rec.fingerprint)
        cue_file = find_cue_for(rec.path) if url is None else None
        if cue_file is not None:
            page = import_cue(cue_file)
            found = _Found(page, str(cue_file), Score(Candidate.from_page(page), 1.0), "cue")
            return await self._store(rec, [found], found, transitions)
        recording = Recording.from_query(build_query(rec.path, rec.tags), rec.duration_s)
        if url is not None:
            page = await self.client.fetch_tracklist(url)
            # The user chose this page: it is applied whatever the clues say.
            found = _Found(page, url, score(recording, Candidate.from_page(page, url)))
            return await self._store(rec, [found], found, transitions, user_choice=True)
        found_pages = await self._search(recording)
        ranked = rank(recording, [f.score.candidate for f in found_pages])
        best = auto_apply(ranked, self.settings.auto_apply_confidence)
        chosen = None
        if best is not None:
            chosen = next(f for f in found_pages if f.key == best.candidate.key)
        return await self._store(rec, found_pages, chosen, transitions)

    async def _search(self, recording: Recording) -> list[_Found]:
        text = " ".join(p for p in (recording.dj, recording.event) if p)
        if not text:
            return []
        hits = await self.client.search(text)
        if not hits and recording.dj and recording.event:
            hits = await self.client.search(recording.dj)  # a second, broader try
        ranked = rank(recording, [Candidate.from_hit(h) for h in hits])
        found = []
        for s in ranked[:MAX_PAGES]:
            if s.confidence < MIN_SEARCH_CONFIDENCE:
                break
            page = await self.client.fetch_tracklist(s.candidate.key)
            candidate = Candidate.from_page(page, s.candidate.key)
            found.append(_Found(page, s.candidate.key, score(recording, candidate)))
        return found

    async def _transitions(self, session: AsyncSession, fingerprint: str | None) -> Any:
        if fingerprint is None:
            return []
        row = await session.scalar(
            select(AnalysisResult)
            .where(AnalysisResult.fingerprint == fingerprint)
            .order_by(AnalysisResult.created_at.desc())
            .limit(1)
        )
        raw = (row.data or {}).get("transitions") if row is not None else None
        return transitions_from(raw if isinstance(raw, list) else None)

    async def _store(
        self,
        rec: _RecordingInfo,
        found: Sequence[_Found],
        chosen: _Found | None,
        transitions: Any,
        *,
        user_choice: bool = False,
    ) -> Outcome:
        """Write what was found in one transaction; the user's earlier decisions stand.

        A page already applied (perhaps with cue edits) or rejected by the user is not stored again by an
        automatic run; ``user_choice`` (``apply --url``, a .cue file) replaces it.
        """
        outcome = Outcome("none", rec.track_id, message="no tracklist found")
        async with self.services.db.unit_of_work() as session:
            library = await self._library(session, rec.track_id)
            existing = {
                url: (status, tl_id)
                for url, status, tl_id in await session.execute(
                    select(Tracklist.url, Tracklist.status, Tracklist.id).where(
                        Tracklist.track_id == rec.track_id
                    )
                )
            }
            if chosen is not None and not user_choice:
                status, kept_id = existing.get(_url_of(chosen), ("", 0))
                if status == "applied":
                    outcome.status, outcome.applied_id = "applied", kept_id
                    outcome.message = "the tracklist found is already applied; kept as it is"
                    chosen = None
                elif status == "rejected":
                    chosen = None  # the user said no to this page once
            keep = {"applied", "rejected"}
            todo = [
                item
                for item in found
                if item is chosen
                or user_choice
                or existing.get(_url_of(item), ("", 0))[0] not in keep
            ]
            for item in todo:
                # Fetching the same page again replaces what was stored from it.
                await session.execute(
                    delete(Tracklist).where(
                        Tracklist.track_id == rec.track_id, Tracklist.url == _url_of(item)
                    )
                )
            if chosen is not None:
                await session.execute(
                    update(Tracklist)
                    .where(Tracklist.track_id == rec.track_id, Tracklist.status == "applied")
                    .values(status="candidate")
                )
                await session.execute(
                    delete(CuePoint).where(
                        CuePoint.track_id == rec.track_id, CuePoint.kind == "tracklist"
                    )
                )
            for item in todo:
                applied = item is chosen
                row = self._tracklist_row(rec, item, applied, transitions, library)
                session.add(row)
                await session.flush()
                if applied:
                    outcome.status, outcome.applied_id = "applied", row.id
                    outcome.message = f"applied {row.title!r} ({item.score.confidence:.2f})"
                    for entry in row.entries:
                        if entry.cue_s is not None:
                            session.add(
                                CuePoint(
                                    track_id=rec.track_id,
                                    position_s=entry.cue_s,
                                    kind="tracklist",
                                    label=f"{entry.artist} - {entry.title}",
                                    source=entry.cue_source or "site",
                                )
                            )
                else:
                    outcome.candidate_ids.append(row.id)
            if outcome.status == "none" and outcome.candidate_ids:
                outcome.status = "candidates"
                outcome.message = f"{len(outcome.candidate_ids)} candidate(s); choose one to apply"
        return outcome

    def _tracklist_row(
        self,
        rec: _RecordingInfo,
        item: _Found,
        applied: bool,
        transitions: Any,
        library: list[LibraryTrack],
    ) -> Tracklist:
        page = item.page
        alignment: Alignment | None = None
        timeline = page.timelines[0] if page.timelines else None
        if rec.duration_s:
            timeline = choose_timeline(page, rec.duration_s, transitions) or timeline
            if applied and timeline is not None:
                alignment = align(timeline, rec.duration_s, transitions)
                timeline = alignment.timeline
        entries = timeline.entries if timeline is not None else ()
        links = {link.entry_index: link for link in link_entries(entries, library)}
        row = Tracklist(
            track_id=rec.track_id,
            source=item.source,
            url=_url_of(item),
            title=page.title,
            djs=list(page.djs),
            date=page.date.isoformat() if page.date else None,
            genres=list(page.genres),
            timeline_name=timeline.name if timeline is not None else None,
            confidence=item.score.confidence,
            status="applied" if applied else "candidate",
            data={
                "event": page.event,
                "sources": list(page.sources),
                "short_id": page.short_id,
                "recordings": [
                    {"source": r.source, "name": r.name, "duration_s": r.duration_s}
                    for r in page.recordings
                ],
                "match": item.score.parts,
                "alignment": None
                if alignment is None
                else {"usable": alignment.usable, "reason": alignment.reason},
            },
        )
        for ordinal, entry in enumerate(entries):
            link = links.get(ordinal)
            row.entries.append(
                TracklistEntry(
                    ordinal=ordinal,
                    position=entry.position,
                    cue_s=entry.cue_s,
                    cue_source=entry.cue_source if entry.cue_s is not None else None,
                    artist=entry.artist,
                    title=entry.title,
                    label=entry.label,
                    duration_s=entry.duration_s,
                    with_previous=entry.with_previous,
                    is_id=entry.is_id,
                    mashup_of=[{"artist": m.artist, "title": m.title} for m in entry.mashup_of],
                    linked_track_id=link.track_id if link else None,
                    confidence=link.confidence if link else None,
                )
            )
        return row

    async def _library(self, session: AsyncSession, exclude: int) -> list[LibraryTrack]:
        rows = await session.execute(
            select(Track.id, Track.artist, Track.title, Track.duration_s).where(
                Track.is_mix.is_(False), Track.id != exclude, Track.title.is_not(None)
            )
        )
        return [LibraryTrack(r.id, r.artist or "", r.title or "", r.duration_s) for r in rows]


def _url_of(item: _Found) -> str:
    return item.page.url or item.key


async def load_applied(services: Services, track_id: int) -> tuple[TracklistPage, Path]:
    """The applied tracklist of a recording (with the user's cue edits) and the recording's path."""
    async with services.db.read() as session:
        rec = await _recording(session, track_id)
        tracklist = await session.scalar(
            select(Tracklist).where(Tracklist.track_id == track_id, Tracklist.status == "applied")
        )
        if tracklist is None:
            raise LookupError(f"track {track_id} has no applied tracklist")
        rows = await tracklist.awaitable_attrs.entries
    entries = tuple(
        Entry(
            position=r.position,
            cue_s=r.cue_s,  # fractions kept: a dragged cue lands on its CUE frame
            artist=r.artist or "",
            title=r.title or "",
            label=r.label,
            duration_s=None if r.duration_s is None else round(r.duration_s),
            with_previous=bool(r.with_previous),
            is_id=bool(r.is_id),
            mashup_of=tuple(MashupPart(m["artist"], m["title"]) for m in r.mashup_of or ()),
            cue_source=_cue_source(r.cue_source),
        )
        for r in rows
    )
    try:
        date = dt.date.fromisoformat(tracklist.date) if tracklist.date else None
    except ValueError:
        date = None
    page = TracklistPage(
        title=tracklist.title or rec.path.stem,
        djs=tuple(str(d) for d in tracklist.djs or ()),
        date=date,
        genres=tuple(str(g) for g in tracklist.genres or ()),
        url=tracklist.url,
        short_id=(tracklist.data or {}).get("short_id"),
        timelines=(Timeline(tracklist.timeline_name, None, entries),),
    )
    return page, rec.path


def _cue_source(value: str | None) -> CueSource:
    if value == "aligned":
        return "aligned"
    if value == "user":
        return "user"
    return "site"
