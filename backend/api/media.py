"""Async queries and small commands behind the waveform, mix and graph views (and the CLI's TRACK args).

Everything returns frozen, Qt-free records so the views only draw. Heavy work (decoding the stored waveform
bytes of a 3-hour mix) runs in a thread; nothing here is recomputed from audio: the waveform levels were
precomputed by the analysis worker and are only read back.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import select

from backend.analysis.beatgrid import beat_grid
from backend.api.commands import enqueue
from backend.api.media_graph import (
    GraphLinkView,
    Neighbourhood,
    load_neighbourhood,
    load_suggestions,
    plan_path,
    write_m3u8,
    write_text_atomic,
)
from backend.db.models import (
    AnalysisResult,
    CuePoint,
    LibraryRoot,
    Track,
    Tracklist,
    TracklistEntry,
)
from backend.messaging.contracts import TracklistRequested
from backend.services import Services

FloatArray = npt.NDArray[np.float64]

__all__ = [
    "Candidate",
    "Cue",
    "GraphLinkView",
    "MixEntry",
    "MixInfo",
    "MixTracklist",
    "Neighbourhood",
    "TimelineSegment",
    "TrackMedia",
    "WaveLevel",
    "WaveformData",
    "apply_candidate",
    "default_tracks",
    "export_cue",
    "find_tracklist",
    "load_mix",
    "load_neighbourhood",
    "load_suggestions",
    "load_track_media",
    "move_cue",
    "plan_path",
    "resolve_track",
    "track_path",
    "write_m3u8",
]

Float32 = npt.NDArray[np.float32]

# Cues closer than this are "the same cue" when a tracklist entry and its cue point are edited together.
_SAME_CUE_S = 0.05


@dataclass(frozen=True)
class Cue:
    """A marker on the waveform: a cue point, or a tracklist entry's start (``entry_id`` set)."""

    position_s: float
    label: str | None
    kind: str
    source: str
    cue_id: int | None = None
    entry_id: int | None = None


@dataclass(frozen=True)
class TimelineSegment:
    """One analysis window of a long recording."""

    start_s: float
    end_s: float
    bpm: float | None
    key: str | None
    camelot: str | None
    energy: float | None


@dataclass(frozen=True)
class TrackMedia:
    """What the waveform and mix views show for one track."""

    track_id: int
    path: Path | None
    title: str
    artist: str
    duration_s: float
    is_mix: bool
    status: str
    bpm: float | None = None
    key: str | None = None
    camelot: str | None = None
    energy: float | None = None
    analysed: bool = False
    beats: FloatArray = field(default_factory=lambda: np.zeros(0))
    bar_phase: int = 0  # beats[i] is a downbeat when (i - bar_phase) % 4 == 0
    waveform: WaveformData | None = None
    cues: tuple[Cue, ...] = ()
    timeline: tuple[TimelineSegment, ...] = ()
    transitions: tuple[tuple[float, float], ...] = ()


@dataclass(frozen=True)
class MixEntry:
    """A row of the applied tracklist."""

    entry_id: int
    ordinal: int
    position: int | None
    cue_s: float | None
    cue_source: str | None
    artist: str
    title: str
    label: str | None
    confidence: float | None
    linked_track_id: int | None
    with_previous: bool
    is_id: bool

    @property
    def display(self) -> str:
        return f"{self.artist} – {self.title}" if self.artist else self.title


@dataclass(frozen=True)
class MixTracklist:
    tracklist_id: int
    title: str
    url: str | None
    source: str
    confidence: float
    entries: tuple[MixEntry, ...]


@dataclass(frozen=True)
class Candidate:
    """A tracklist found for a recording but not applied (the user decides)."""

    tracklist_id: int
    title: str
    url: str | None
    confidence: float
    date: str | None


@dataclass(frozen=True)
class MixInfo:
    applied: MixTracklist | None
    candidates: tuple[Candidate, ...]


# ---- waveform levels ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WaveLevel:
    """One precomputed resolution: per bin the min/max sample and the low/mid/high band levels (0..1)."""

    seconds_per_bin: float
    minimum: Float32
    maximum: Float32
    low: Float32
    mid: Float32
    high: Float32

    @property
    def bins(self) -> int:
        return int(self.maximum.shape[0])


@dataclass(frozen=True)
class WaveformData:
    """All resolutions of a track's waveform, finest first."""

    duration_s: float
    levels: tuple[WaveLevel, ...]

    def level_for(self, seconds_per_pixel: float) -> WaveLevel:
        """The coarsest level that still has at least one bin per pixel (never resampled on zoom)."""
        best = self.levels[0]
        for level in self.levels:
            if level.seconds_per_bin <= seconds_per_pixel:
                best = level if level.seconds_per_bin >= best.seconds_per_bin else best
        return best


def waveform_from_analysis(waveform: Any, duration_s: float) -> WaveformData:
    """Adapt ``backend.analysis.waveform.Waveform`` (uint8 peaks and band levels) to :class:`WaveformData`.

    Peaks are symmetric amplitudes 0..255 → ±0..1; bands are scaled by one per-file factor, so 0..255 →
    0..1 keeps their relative loudness over time (what the colours show).
    """
    levels = []
    for level in waveform.levels:
        peak = np.asarray(level.peak, dtype=np.float32) / np.float32(255.0)
        levels.append(
            WaveLevel(
                seconds_per_bin=1.0 / float(level.points_per_s),
                minimum=-peak,
                maximum=peak,
                low=np.asarray(level.low, dtype=np.float32) / np.float32(255.0),
                mid=np.asarray(level.mid, dtype=np.float32) / np.float32(255.0),
                high=np.asarray(level.high, dtype=np.float32) / np.float32(255.0),
            )
        )
    levels.sort(key=lambda lv: lv.seconds_per_bin)
    duration = duration_s or float(waveform.duration_s)
    return WaveformData(float(duration), tuple(levels))


def decode_waveform(blob: bytes, duration_s: float) -> WaveformData | None:
    """Stored waveform bytes → levels (runs in a thread: a 3-hour mix is a few MB)."""
    from backend.analysis.waveform import Waveform

    waveform = Waveform.from_bytes(blob)
    data = waveform_from_analysis(waveform, duration_s)
    return data if data.levels else None


# ---- tracks ---------------------------------------------------------------------------------------------


async def resolve_track(services: Services, text: str) -> int:
    """A CLI TRACK argument (a track id or a file path inside a watched folder) → track id.

    Raises LookupError with a message for the user when nothing matches.
    """
    text = text.strip()
    if text.isdigit():
        async with services.db.read() as session:
            if await session.get(Track, int(text)) is not None:
                return int(text)
        if not Path(text).exists():
            raise LookupError(f"no track with id {text}")
    path = Path(text).expanduser().resolve()
    async with services.db.read() as session:
        roots = (await session.scalars(select(LibraryRoot))).all()
        for root in roots:
            try:
                rel = path.relative_to(Path(root.path).expanduser().resolve())
            except ValueError:
                continue
            track_id = await session.scalar(
                select(Track.id).where(Track.root_id == root.id, Track.rel_path == rel.as_posix())
            )
            if track_id is not None:
                return int(track_id)
    raise LookupError(
        f"{text} is not a track of the library (add its folder with `tracktion folders add`)"
    )


async def default_tracks(services: Services) -> tuple[int | None, int | None]:
    """What the views show before any selection: the first analysed track and the first recording."""
    async with services.db.read() as session:
        track = await session.scalar(
            select(Track.id)
            .where(Track.is_mix.is_(False), Track.status == "ok")
            .order_by(Track.bpm.is_(None), Track.id)
            .limit(1)
        )
        mix = await session.scalar(
            select(Track.id).where(Track.is_mix.is_(True)).order_by(Track.id).limit(1)
        )
    return track, mix


async def track_path(services: Services, track_id: int) -> Path | None:
    """The absolute path of a track's file (None when the track does not exist)."""
    async with services.db.read() as session:
        track = await session.get(Track, track_id)
        if track is None:
            return None
        root = await session.get(LibraryRoot, track.root_id)
        return Path(root.path) / track.rel_path if root is not None else None


async def load_track_media(services: Services, track_id: int) -> TrackMedia:
    """Track, analysis (beats, timeline, transitions), stored waveform levels and cues of one track."""
    async with services.db.read() as session:
        track = await session.get(Track, track_id)
        if track is None:
            raise LookupError(f"no track with id {track_id}")
        root = await session.get(LibraryRoot, track.root_id)
        result = await _analysis_row(session, track)
        cue_rows = (
            await session.scalars(
                select(CuePoint).where(CuePoint.track_id == track_id).order_by(CuePoint.position_s)
            )
        ).all()
        data: dict[str, Any] = dict(result.data) if result is not None else {}
        blob = result.waveform if result is not None else None
        path = Path(root.path) / track.rel_path if root is not None else None
        base: dict[str, Any] = {
            "track_id": track.id,
            "path": path,
            "title": track.title or Path(track.rel_path).stem,
            "artist": track.artist or "",
            "is_mix": bool(track.is_mix),
            "status": track.status,
            "bpm": track.bpm if track.bpm is not None else _float(data.get("bpm")),
            "key": track.key or data.get("key"),
            "camelot": track.camelot or data.get("camelot"),
            "energy": track.energy if track.energy is not None else _float(data.get("energy")),
        }
        duration = float(track.duration_s or _float(data.get("duration_s")) or 0.0)
    cues = tuple(Cue(c.position_s, c.label, c.kind, c.source, cue_id=c.id) for c in cue_rows)
    waveform = await asyncio.to_thread(decode_waveform, blob, duration) if blob else None
    if waveform is not None and duration <= 0:
        duration = waveform.duration_s
    beats, bar_phase = _beats(data, duration)
    return TrackMedia(
        duration_s=duration,
        analysed=result is not None,
        beats=beats,
        bar_phase=bar_phase,
        waveform=waveform,
        cues=cues,
        timeline=_timeline(data),
        transitions=tuple(
            (float(t["time_s"]), float(t.get("strength", 1.0)))
            for t in data.get("transitions") or ()
            if isinstance(t, dict) and "time_s" in t
        ),
        **base,
    )


async def _analysis_row(session: Any, track: Track) -> AnalysisResult | None:
    if not track.fingerprint:
        return None
    query = select(AnalysisResult).where(AnalysisResult.fingerprint == track.fingerprint)
    if track.analysis_version:
        exact = await session.scalar(
            query.where(AnalysisResult.algorithm_version == track.analysis_version)
        )
        if exact is not None:
            return exact  # type: ignore[no-any-return]
    row = await session.scalar(query.order_by(AnalysisResult.created_at.desc()).limit(1))
    return row  # type: ignore[no-any-return]


def _float(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


def _beats(data: dict[str, Any], duration_s: float) -> tuple[FloatArray, int]:
    """Beat times and the index of the first downbeat (mod 4).

    Stored times when the tempo varies; else the grid (first downbeat + BPM), extended back to the start of
    the track like DJ software draws it.
    """
    beats = data.get("beats")
    if isinstance(beats, list) and beats:
        return np.asarray(beats, dtype=np.float64), 0
    bpm = _float(data.get("bpm"))
    offset = _float(data.get("beat_offset_s")) or 0.0
    if not bpm or bpm <= 0 or duration_s <= 0:
        return np.zeros(0), 0
    grid, before = beat_grid(bpm, offset, duration_s)
    return grid, before % 4


def _timeline(data: dict[str, Any]) -> tuple[TimelineSegment, ...]:
    from backend.analysis.keys import KeyParseError, parse_key

    segments = []
    for item in data.get("timeline") or ():
        if not isinstance(item, dict):
            continue
        key = item.get("key")
        camelot = item.get("camelot")
        if key and not camelot:
            try:
                camelot = parse_key(str(key)).camelot
            except KeyParseError:
                camelot = None
        segments.append(
            TimelineSegment(
                float(item.get("start_s", 0.0)),
                float(item.get("end_s", 0.0)),
                _float(item.get("bpm")),
                key,
                camelot,
                _float(item.get("energy")),
            )
        )
    return tuple(segments)


# ---- mixes and tracklists -------------------------------------------------------------------------------


async def load_mix(services: Services, track_id: int) -> MixInfo:
    """The applied tracklist of a recording (entries in order) and the candidates awaiting a decision."""
    async with services.db.read() as session:
        lists = (
            await session.scalars(
                select(Tracklist)
                .where(Tracklist.track_id == track_id)
                .order_by(Tracklist.confidence.desc(), Tracklist.id)
            )
        ).all()
        applied = next((t for t in lists if t.status == "applied"), None)
        mix = None
        if applied is not None:
            rows = await applied.awaitable_attrs.entries
            mix = MixTracklist(
                applied.id,
                applied.title or "",
                applied.url,
                applied.source,
                float(applied.confidence or 0.0),
                tuple(_entry(r) for r in rows),
            )
        candidates = tuple(
            Candidate(
                t.id, t.title or t.url or f"#{t.id}", t.url, float(t.confidence or 0.0), t.date
            )
            for t in lists
            if t.status == "candidate" and not (applied is not None and t.url == applied.url)
        )
    return MixInfo(mix, candidates)


def _entry(row: TracklistEntry) -> MixEntry:
    return MixEntry(
        entry_id=row.id,
        ordinal=row.ordinal,
        position=row.position,
        cue_s=row.cue_s,
        cue_source=row.cue_source,
        artist=row.artist or "",
        title=row.title or "",
        label=row.label,
        confidence=row.confidence,
        linked_track_id=row.linked_track_id,
        with_previous=bool(row.with_previous),
        is_id=bool(row.is_id),
    )


async def find_tracklist(services: Services, track_id: int, url: str | None = None) -> str:
    """Ask the tracklists worker to search (or fetch ``url``) for this recording; returns the job id."""
    messages = await enqueue(services, [TracklistRequested(track_id=track_id, url=url)])
    return messages[0].id


async def apply_candidate(services: Services, track_id: int, tracklist_id: int) -> str:
    """Apply a candidate: the worker fetches its page again (cached) and aligns and stores it."""
    async with services.db.read() as session:
        row = await session.get(Tracklist, tracklist_id)
        if row is None or row.track_id != track_id:
            raise LookupError(f"tracklist {tracklist_id} is not a candidate of track {track_id}")
        url = row.url
    if not url:
        raise ValueError("this candidate has no URL to fetch")
    return await find_tracklist(services, track_id, url)


async def move_cue(
    services: Services,
    track_id: int,
    position_s: float,
    *,
    cue_id: int | None = None,
    entry_id: int | None = None,
) -> None:
    """The user dragged a cue marker: store the new position with source ``user``.

    A tracklist entry and the cue point at its old start move together, so the CUE export and the waveform
    agree.
    """
    position_s = max(0.0, float(position_s))
    async with services.db.unit_of_work() as session:
        old: float | None = None
        if entry_id is not None:
            entry = await session.get(TracklistEntry, entry_id)
            if entry is None:
                raise LookupError(f"no tracklist entry {entry_id}")
            old = entry.cue_s
            entry.cue_s = position_s
            entry.cue_source = "user"
        if cue_id is not None:
            cue = await session.get(CuePoint, cue_id)
            if cue is None or cue.track_id != track_id:
                raise LookupError(f"no cue {cue_id} on track {track_id}")
            old = cue.position_s if old is None else old
            cue.position_s = position_s
            cue.source = "user"
        if old is None:
            return
        # The twin of the edited marker (cue point ↔ entry of the applied tracklist) at the old position.
        if cue_id is None:
            twins = (
                await session.scalars(
                    select(CuePoint).where(
                        CuePoint.track_id == track_id,
                        CuePoint.position_s.between(old - _SAME_CUE_S, old + _SAME_CUE_S),
                    )
                )
            ).all()
            for twin in twins:
                twin.position_s = position_s
                twin.source = "user"
        if entry_id is None:
            entries = (
                await session.scalars(
                    select(TracklistEntry)
                    .join(Tracklist, Tracklist.id == TracklistEntry.tracklist_id)
                    .where(
                        Tracklist.track_id == track_id,
                        Tracklist.status == "applied",
                        TracklistEntry.cue_s.between(old - _SAME_CUE_S, old + _SAME_CUE_S),
                    )
                )
            ).all()
            for twin_entry in entries:
                twin_entry.cue_s = position_s
                twin_entry.cue_source = "user"


async def export_cue(services: Services, track_id: int, dest: Path | None = None) -> Path:
    """Write the CUE sheet of a recording's applied tracklist, with the user's cue edits.

    Written next to the recording (same name, ``.cue``) unless ``dest`` is given. Cues keep their fractional
    seconds, so a marker dragged in the mix view lands on the right CUE frame.
    """
    from backend.tracklists.cue import cue_sheet
    from backend.tracklists.service import load_applied

    try:
        page, audio = await load_applied(services, track_id)
    except LookupError as exc:
        raise LookupError(f"this recording has no applied tracklist to export ({exc})") from None
    sheet = cue_sheet(page, page.timelines[0], audio)
    target = dest or audio.with_suffix(".cue")
    await asyncio.to_thread(write_text_atomic, target, sheet.text)
    return target
