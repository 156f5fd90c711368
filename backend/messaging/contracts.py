"""Every message Tracktion sends, in one place: frozen, versioned records validated on consume.

A message is an :class:`Envelope` (id = idempotency key, type = routing key, schema version, timestamp,
correlation id) around a typed payload. ``decode()`` rejects anything that does not match the payload's fields
exactly, with a reason that ends up on the job (and so in the app).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import types
import typing
import uuid
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, TypeVar

SCHEMA_VERSION = 1


class InvalidMessage(ValueError):
    """A message that cannot be decoded or fails validation (poison: dead-lettered at once)."""


@dataclass(frozen=True)
class Payload:
    """Base of every payload; subclasses set TYPE (routing key) and VERSION."""

    TYPE: ClassVar[str] = ""
    VERSION: ClassVar[int] = 1


# ---- file events from the watcher (consumed by the catalog worker) -----------------------------------------


@dataclass(frozen=True)
class FilesChanged(Payload):
    """Files created or modified under a root (paths relative to it), already stable on disk."""

    TYPE: ClassVar[str] = "file.changed"
    root_id: int
    rel_paths: tuple[str, ...]


@dataclass(frozen=True)
class FilesDeleted(Payload):
    """Files (or whole folders) gone from a root."""

    TYPE: ClassVar[str] = "file.deleted"
    root_id: int
    rel_paths: tuple[str, ...]


@dataclass(frozen=True)
class ScanRequested(Payload):
    """Re-scan a root (incremental unless ``full``)."""

    TYPE: ClassVar[str] = "file.scan"
    root_id: int
    full: bool = False


# ---- track events from the catalog (batched) -------------------------------------------------------------


@dataclass(frozen=True)
class TrackBatch(Payload):
    """Tracks that changed the same way; one message per batch, never one per file."""

    track_ids: tuple[int, ...]


@dataclass(frozen=True)
class TracksAdded(TrackBatch):
    TYPE: ClassVar[str] = "track.added"


@dataclass(frozen=True)
class TracksUpdated(TrackBatch):
    TYPE: ClassVar[str] = "track.updated"


@dataclass(frozen=True)
class TracksMoved(TrackBatch):
    TYPE: ClassVar[str] = "track.moved"


@dataclass(frozen=True)
class TracksMissing(TrackBatch):
    TYPE: ClassVar[str] = "track.missing"


@dataclass(frozen=True)
class TracksRelinked(TrackBatch):
    TYPE: ClassVar[str] = "track.relinked"


@dataclass(frozen=True)
class TracksRemoved(TrackBatch):
    TYPE: ClassVar[str] = "track.removed"


# ---- analysis ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnalysisRequested(Payload):
    """Analyse one track's audio (skipped when a result for fingerprint + version exists)."""

    TYPE: ClassVar[str] = "analysis.requested"
    track_id: int
    fingerprint: str
    is_long: bool = False
    force: bool = False


@dataclass(frozen=True)
class AnalysisBatch(Payload):
    """Tracks whose audio is new or changed; the analysis worker turns it into one request per track.

    The catalog announces analysis in batches: a first scan of 100k files should not also write 100k
    job rows and publish 100k messages before it can finish. ``long_ids``: which of them are mixes.
    """

    TYPE: ClassVar[str] = "analysis.batch"
    track_ids: tuple[int, ...]
    fingerprints: tuple[str, ...]
    long_ids: tuple[int, ...] = ()

    def requests(self) -> list[AnalysisRequested]:
        if len(self.track_ids) != len(self.fingerprints):
            raise InvalidMessage(
                f"{self.TYPE}: {len(self.track_ids)} track ids but {len(self.fingerprints)} fingerprints"
            )
        long = set(self.long_ids)
        return [
            AnalysisRequested(track_id, fingerprint, is_long=track_id in long)
            for track_id, fingerprint in zip(self.track_ids, self.fingerprints, strict=True)
        ]


@dataclass(frozen=True)
class TrackAnalyzed(Payload):
    TYPE: ClassVar[str] = "track.analyzed"
    track_id: int
    fingerprint: str
    algorithm_version: str


@dataclass(frozen=True)
class RecordingAnalyzed(Payload):
    """A long recording (mix) was analysed: its timeline and transitions are ready for the tracklist aligner."""

    TYPE: ClassVar[str] = "recording.analyzed"
    track_id: int
    fingerprint: str
    algorithm_version: str


# ---- tracklists -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TracklistRequested(Payload):
    """Find (or, with ``url``, fetch) the tracklist of a recording."""

    TYPE: ClassVar[str] = "tracklist.requested"
    track_id: int
    url: str | None = None


@dataclass(frozen=True)
class TracklistApplied(Payload):
    TYPE: ClassVar[str] = "tracklist.applied"
    track_id: int
    tracklist_id: int


@dataclass(frozen=True)
class TracklistCandidates(Payload):
    """Candidates found, none sure enough to apply by itself: the app asks the user."""

    TYPE: ClassVar[str] = "tracklist.candidates"
    track_id: int
    tracklist_ids: tuple[int, ...]


# ---- graph ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GraphUpdated(Payload):
    TYPE: ClassVar[str] = "graph.updated"
    track_ids: tuple[int, ...]


# ---- jobs (for live views) --------------------------------------------------------------------------------


@dataclass(frozen=True)
class JobUpdated(Payload):
    TYPE: ClassVar[str] = "job.updated"
    job_id: str
    kind: str
    status: str
    progress: float = 0.0
    error: str | None = None
    track_id: int | None = None


PAYLOADS: dict[str, type[Payload]] = {
    cls.TYPE: cls
    for cls in (
        FilesChanged,
        FilesDeleted,
        ScanRequested,
        TracksAdded,
        TracksUpdated,
        TracksMoved,
        TracksMissing,
        TracksRelinked,
        TracksRemoved,
        AnalysisRequested,
        AnalysisBatch,
        TrackAnalyzed,
        RecordingAnalyzed,
        TracklistRequested,
        TracklistApplied,
        TracklistCandidates,
        GraphUpdated,
        JobUpdated,
    )
}

P = TypeVar("P", bound=Payload)


@dataclass(frozen=True)
class Envelope(typing.Generic[P]):
    """A message on the bus. ``id`` is the idempotency key; ``correlation_id`` ties a scan to its effects."""

    payload: P
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    correlation_id: str = ""
    causation_id: str | None = None
    timestamp: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat())
    schema_version: int = SCHEMA_VERSION

    @property
    def type(self) -> str:
        return self.payload.TYPE

    def caused(self, payload: Q) -> Envelope[Q]:
        """A follow-up message that keeps this one's correlation id."""
        return Envelope(
            payload=payload, correlation_id=self.correlation_id or self.id, causation_id=self.id
        )


Q = TypeVar("Q", bound=Payload)


def new(payload: P, correlation_id: str | None = None) -> Envelope[P]:
    """A fresh message; it starts its own correlation unless one is given."""
    msg_id = str(uuid.uuid4())
    return Envelope(payload=payload, id=msg_id, correlation_id=correlation_id or msg_id)


def encode(message: Envelope[Any]) -> bytes:
    body = {
        "id": message.id,
        "type": message.type,
        "version": message.payload.VERSION,
        "schema_version": message.schema_version,
        "timestamp": message.timestamp,
        "correlation_id": message.correlation_id,
        "causation_id": message.causation_id,
        # Payloads are flat records (primitives and tuples of them): a shallow copy of the fields is
        # what asdict() would build, at a fraction of its cost (a scan encodes two per track).
        "payload": {
            f.name: getattr(message.payload, f.name) for f in dataclasses.fields(message.payload)
        },
    }
    return json.dumps(body, separators=(",", ":")).encode()


def decode(raw: bytes) -> Envelope[Payload]:
    """Parse and validate a message; raises InvalidMessage with a readable reason."""
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidMessage(f"not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise InvalidMessage("message body is not an object")
    for key, kind in (("id", str), ("type", str), ("version", int), ("payload", dict)):
        if not isinstance(body.get(key), kind):
            raise InvalidMessage(f"field {key!r} missing or not {kind.__name__}")
    cls = PAYLOADS.get(body["type"])
    if cls is None:
        raise InvalidMessage(f"unknown message type {body['type']!r}")
    if body["version"] != cls.VERSION:
        raise InvalidMessage(
            f"{body['type']} version {body['version']} not supported (this worker reads {cls.VERSION})"
        )
    try:
        uuid.UUID(body["id"])
    except ValueError:
        raise InvalidMessage(f"id {body['id']!r} is not a UUID") from None
    payload = _build_payload(cls, body["payload"])
    return Envelope(
        payload=payload,
        id=body["id"],
        correlation_id=str(body.get("correlation_id") or body["id"]),
        causation_id=body.get("causation_id"),
        timestamp=str(body.get("timestamp", "")),
        schema_version=int(body.get("schema_version", SCHEMA_VERSION)),
    )


def _build_payload(cls: type[P], data: dict[str, Any]) -> P:
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(data) - names
    if unknown:
        raise InvalidMessage(f"{cls.TYPE}: unknown field(s) {', '.join(sorted(unknown))}")
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.name not in data:
            if f.default is dataclasses.MISSING:
                raise InvalidMessage(f"{cls.TYPE}: field {f.name!r} is required")
            continue
        kwargs[f.name] = _check(f"{cls.TYPE}.{f.name}", data[f.name], hints[f.name])
    return cls(**kwargs)


def _check(where: str, value: Any, annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _check(where, value, inner[0])
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise InvalidMessage(f"{where}: expected a list, got {type(value).__name__}")
        return tuple(_check(f"{where}[]", v, args[0]) for v in value)
    if origin is Literal:
        if value not in args:
            raise InvalidMessage(f"{where}: {value!r} not one of {args}")
        return value
    if annotation is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidMessage(f"{where}: expected a number, got {value!r}")
        return float(value)
    if annotation is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidMessage(f"{where}: expected an integer, got {value!r}")
        return value
    if annotation in (str, bool):
        if not isinstance(value, annotation):
            raise InvalidMessage(f"{where}: expected {annotation.__name__}, got {value!r}")
        return value
    raise InvalidMessage(f"{where}: unsupported field type {annotation!r}")  # pragma: no cover
