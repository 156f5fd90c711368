"""The relational schema as typed SQLAlchemy 2 models.

Alembic migrations (``backend/db/migrations``) are the only thing that creates or changes tables; these models
describe them for queries. Both PostgreSQL and SQLite run every migration (tested on both).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.ext.asyncio import AsyncAttrs
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Stable constraint names, so migrations can alter them on both databases.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(AsyncAttrs, DeclarativeBase):
    # AsyncAttrs: ``await row.awaitable_attrs.entries`` loads a relationship in async code.
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class LibraryRoot(Base):
    """A watched folder. Tracks store paths relative to it, so a moved drive only changes this row."""

    __tablename__ = "library_roots"

    id: Mapped[int] = mapped_column(primary_key=True)
    path: Mapped[str] = mapped_column(String(4096), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    # online: readable; offline: drive unmounted/unreadable (nothing under it is marked missing); paused.
    state: Mapped[str] = mapped_column(String(16), default="online")
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    added_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_scan_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)

    tracks: Mapped[list[Track]] = relationship(back_populates="root")


class Track(Base):
    """One audio file, identified across moves and tag edits by its audio-payload fingerprint."""

    __tablename__ = "tracks"
    __table_args__ = (
        UniqueConstraint("root_id", "rel_path", name="uq_tracks_root_path"),
        Index("ix_tracks_status", "status"),
        Index("ix_tracks_root_status", "root_id", "status"),  # scans and offline checks per root
        Index("ix_tracks_artist", "artist"),
        Index("ix_tracks_title", "title"),
        Index("ix_tracks_bpm", "bpm"),
        Index("ix_tracks_camelot", "camelot"),
        # Search-box filters (migration 0003): each term's ids come from the index alone.
        Index("ix_tracks_energy", "energy"),
        Index("ix_tracks_year", "year"),
        Index("ix_tracks_genre", "genre"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    root_id: Mapped[int] = mapped_column(ForeignKey("library_roots.id", ondelete="CASCADE"))
    rel_path: Mapped[str] = mapped_column(String(4096))
    size: Mapped[int] = mapped_column(Integer, default=0)
    mtime: Mapped[float] = mapped_column(Float, default=0.0)
    fingerprint: Mapped[str | None] = mapped_column(String(64), index=True)
    format: Mapped[str | None] = mapped_column(String(16))
    codec: Mapped[str | None] = mapped_column(String(32))
    duration_s: Mapped[float | None] = mapped_column(Float)
    bitrate: Mapped[int | None] = mapped_column(Integer)
    sample_rate: Mapped[int | None] = mapped_column(Integer)
    bit_depth: Mapped[int | None] = mapped_column(Integer)
    channels: Mapped[int | None] = mapped_column(Integer)
    # Common tags as columns (sortable, searchable); everything else in extra_tags.
    title: Mapped[str | None] = mapped_column(String(1024))
    artist: Mapped[str | None] = mapped_column(String(1024))
    album: Mapped[str | None] = mapped_column(String(1024))
    album_artist: Mapped[str | None] = mapped_column(String(1024))
    genre: Mapped[str | None] = mapped_column(String(255))
    date: Mapped[str | None] = mapped_column(String(32))
    year: Mapped[int | None] = mapped_column(Integer)
    track_no: Mapped[int | None] = mapped_column(Integer)
    disc_no: Mapped[int | None] = mapped_column(Integer)
    bpm_tag: Mapped[float | None] = mapped_column(Float)
    key_tag: Mapped[str | None] = mapped_column(String(32))
    comment: Mapped[str | None] = mapped_column(Text)
    label: Mapped[str | None] = mapped_column(String(255))
    isrc: Mapped[str | None] = mapped_column(String(32))
    compilation: Mapped[bool] = mapped_column(Boolean, default=False)
    has_cover: Mapped[bool] = mapped_column(Boolean, default=False)
    extra_tags: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    is_mix: Mapped[bool] = mapped_column(Boolean, default=False)
    # Analysis summary copied here for sorting/filtering 100k rows without a join.
    bpm: Mapped[float | None] = mapped_column(Float)
    key: Mapped[str | None] = mapped_column(String(32))
    camelot: Mapped[str | None] = mapped_column(String(4))
    energy: Mapped[float | None] = mapped_column(Float)
    loudness_lufs: Mapped[float | None] = mapped_column(Float)
    analysis_version: Mapped[str | None] = mapped_column(String(32))
    # ok | pending | missing | error
    status: Mapped[str] = mapped_column(String(16), default="ok")
    last_error: Mapped[str | None] = mapped_column(Text)
    added_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
    missing_since: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    root: Mapped[LibraryRoot] = relationship(back_populates="tracks")


class AnalysisResult(Base):
    """Analysis output, keyed by audio payload + algorithm version (so a move or tag edit reuses it)."""

    __tablename__ = "analysis_results"
    __table_args__ = (
        UniqueConstraint("fingerprint", "algorithm_version", name="uq_analysis_fp_version"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    algorithm_version: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    waveform: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Job(Base):
    """A unit of work on the bus, visible to the user (jobs panel, status)."""

    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_status", "status"),
        Index("ix_jobs_correlation", "correlation_id"),
        Index("ix_jobs_created_at", "created_at"),  # the jobs panel lists newest first
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # = message id of the command
    kind: Mapped[str] = mapped_column(String(64))
    # queued | running | retrying | done | failed | dead | cancelled
    status: Mapped[str] = mapped_column(String(16), default="queued")
    # No foreign key: a job is a log entry and outlives a purged track.
    track_id: Mapped[int | None] = mapped_column(Integer, index=True)
    correlation_id: Mapped[str | None] = mapped_column(String(36))
    title: Mapped[str | None] = mapped_column(String(1024))
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    worker: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class ProcessedMessage(Base):
    """Inbox: a message id a handler has committed, so a redelivery changes nothing."""

    __tablename__ = "processed_messages"

    message_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    handler: Mapped[str] = mapped_column(String(64), primary_key=True)
    processed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # The follow-up messages it published (encoded): a redelivery re-publishes them instead of re-running.
    outbox: Mapped[list[Any]] = mapped_column(JSON, default=list)


class Tracklist(Base):
    """A tracklist of a recording (from 1001tracklists, an imported .cue, or the user)."""

    __tablename__ = "tracklists"
    __table_args__ = (Index("ix_tracklists_track", "track_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    track_id: Mapped[int] = mapped_column(ForeignKey("tracks.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(32))  # 1001tracklists | cue | user
    url: Mapped[str | None] = mapped_column(String(2048))
    title: Mapped[str | None] = mapped_column(String(1024))
    djs: Mapped[list[Any]] = mapped_column(JSON, default=list)
    date: Mapped[str | None] = mapped_column(String(32))
    genres: Mapped[list[Any]] = mapped_column(JSON, default=list)
    timeline_name: Mapped[str | None] = mapped_column(String(255))
    confidence: Mapped[float] = mapped_column(Float, default=0.0)
    status: Mapped[str] = mapped_column(
        String(16), default="candidate"
    )  # candidate | applied | rejected
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    entries: Mapped[list[TracklistEntry]] = relationship(
        back_populates="tracklist", cascade="all, delete-orphan", order_by="TracklistEntry.ordinal"
    )


class TracklistEntry(Base):
    """One row of a tracklist; ``cue_source`` says where its cue came from (site, aligned, user)."""

    __tablename__ = "tracklist_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    tracklist_id: Mapped[int] = mapped_column(
        ForeignKey("tracklists.id", ondelete="CASCADE"), index=True
    )
    ordinal: Mapped[int] = mapped_column(Integer)
    position: Mapped[int | None] = mapped_column(Integer)
    cue_s: Mapped[float | None] = mapped_column(Float)
    cue_source: Mapped[str | None] = mapped_column(String(16))
    artist: Mapped[str | None] = mapped_column(String(1024))
    title: Mapped[str | None] = mapped_column(String(1024))
    label: Mapped[str | None] = mapped_column(String(255))
    duration_s: Mapped[float | None] = mapped_column(Float)
    with_previous: Mapped[bool] = mapped_column(Boolean, default=False)
    is_id: Mapped[bool] = mapped_column(Boolean, default=False)
    mashup_of: Mapped[list[Any]] = mapped_column(JSON, default=list)
    linked_track_id: Mapped[int | None] = mapped_column(
        ForeignKey("tracks.id", ondelete="SET NULL")
    )
    confidence: Mapped[float | None] = mapped_column(Float)

    tracklist: Mapped[Tracklist] = relationship(back_populates="entries")


class CuePoint(Base):
    """A cue on a track (hot cue, memory cue, or a tracklist boundary)."""

    __tablename__ = "cue_points"

    id: Mapped[int] = mapped_column(primary_key=True)
    track_id: Mapped[int] = mapped_column(ForeignKey("tracks.id", ondelete="CASCADE"), index=True)
    position_s: Mapped[float] = mapped_column(Float)
    kind: Mapped[str] = mapped_column(String(16), default="cue")
    label: Mapped[str | None] = mapped_column(String(1024))
    source: Mapped[str] = mapped_column(String(16), default="user")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class EditJournal(Base):
    """Every tag edit with its old and new value, grouped by batch, for undo/redo."""

    __tablename__ = "edit_journal"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[str] = mapped_column(String(36), index=True)
    track_id: Mapped[int] = mapped_column(ForeignKey("tracks.id", ondelete="CASCADE"), index=True)
    field: Mapped[str] = mapped_column(String(64))
    old_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    new_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    undone: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class GraphEdge(Base):
    """An edge of the similarity graph in embedded mode (services mode keeps them in Neo4j)."""

    __tablename__ = "graph_edges"
    __table_args__ = (
        UniqueConstraint("source_id", "target_id", "kind", name="uq_graph_edges_src_dst_kind"),
        Index("ix_graph_edges_target", "target_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("tracks.id", ondelete="CASCADE"))
    target_id: Mapped[int] = mapped_column(ForeignKey("tracks.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # similar | harmonic | transition
    score: Mapped[float] = mapped_column(Float)
    reasons: Mapped[list[Any]] = mapped_column(JSON, default=list)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class WorkerHeartbeat(Base):
    """The last sign of life of each worker process."""

    __tablename__ = "worker_heartbeats"

    name: Mapped[str] = mapped_column(String(255), primary_key=True)  # kind@host:pid
    kind: Mapped[str] = mapped_column(String(64))
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    beat_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    jobs_done: Mapped[int] = mapped_column(Integer, default=0)
    jobs_failed: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(
        String(16), default="running"
    )  # running | draining | stopped


__all__ = [
    "AnalysisResult",
    "Base",
    "CuePoint",
    "EditJournal",
    "GraphEdge",
    "Job",
    "LibraryRoot",
    "ProcessedMessage",
    "Track",
    "Tracklist",
    "TracklistEntry",
    "WorkerHeartbeat",
    "utcnow",
]
