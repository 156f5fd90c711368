"""The graph-store port: what the app, the CLI and the graph worker ask of a graph, whatever stores it.

Two adapters implement it — Neo4j (``neo4j_store.py``) and tables in the relational database
(``embedded.py``) — and one contract test suite (tests/graph) holds both to the same behaviour.
Edges of kind ``similar`` and ``harmonic`` are read in both directions (they are written from the track whose
neighbour list they belong to); ``transition`` edges are directed: source was played before target.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

EdgeKind = Literal["similar", "harmonic", "transition"]
EDGE_KINDS: tuple[EdgeKind, ...] = ("similar", "harmonic", "transition")
# Hops a set path may take: both ends mixable (harmonic) or proven by a DJ (transition).
MIXABLE_KINDS: tuple[EdgeKind, ...] = ("harmonic", "transition")
EnergyDirection = Literal["up", "down", "keep"]


@dataclass(frozen=True)
class TrackNode:
    """A track as the graph shows it (artist, label and genre are also nodes of their own)."""

    id: int
    title: str | None = None
    artist: str | None = None
    label: str | None = None
    genre: str | None = None
    bpm: float | None = None
    camelot: str | None = None
    energy: float | None = None
    duration_s: float | None = None


@dataclass(frozen=True)
class EdgeRow:
    """An edge to write: ``source → target`` of ``kind`` with a 0..1 score and human-readable reasons."""

    source_id: int
    target_id: int
    kind: EdgeKind
    score: float
    reasons: tuple[str, ...] = ()
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class NeighbourFilter:
    """Optional conditions on the neighbour track (None = no condition)."""

    bpm_min: float | None = None
    bpm_max: float | None = None
    camelot: tuple[str, ...] | None = None
    genre: str | None = None
    min_score: float | None = None


@dataclass(frozen=True)
class Neighbour:
    """One related track: the best edge of ``kind`` between the two, seen from the asked track."""

    track: TrackNode
    kind: EdgeKind
    score: float
    reasons: tuple[str, ...]
    direction: Literal["out", "in"]
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class GraphNode:
    """A node of a subgraph: ``key`` is "track:12", "artist:Name", "label:Name" or "genre:Name"."""

    key: str
    kind: Literal["track", "artist", "label", "genre"]
    name: str
    track: TrackNode | None = None
    depth: int = 0


@dataclass(frozen=True)
class GraphLink:
    """A link of a subgraph between two node keys."""

    source: str
    target: str
    kind: str  # an EdgeKind, or by_artist | on_label | in_genre
    score: float = 1.0


@dataclass(frozen=True)
class Subgraph:
    """The neighbourhood of a track for the graph view."""

    center: int
    nodes: tuple[GraphNode, ...]
    links: tuple[GraphLink, ...]


@dataclass(frozen=True)
class Suggestion:
    """A ranked next track, with the share of each ingredient and the reasons."""

    track: TrackNode
    score: float
    reasons: tuple[str, ...]
    components: Mapping[str, float]


@dataclass(frozen=True)
class Hop:
    """One step of a set path."""

    source_id: int
    target_id: int
    kind: EdgeKind
    score: float
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class SetPath:
    """A path of mixable hops from one track to another."""

    tracks: tuple[TrackNode, ...]
    hops: tuple[Hop, ...]
    cost: float

    @property
    def track_ids(self) -> tuple[int, ...]:
        return tuple(t.id for t in self.tracks)


@dataclass(frozen=True)
class Cluster:
    """A community of tracks (for colouring the graph view); ids are 0.. by decreasing size."""

    id: int
    track_ids: tuple[int, ...]


@dataclass(frozen=True)
class Transition:
    """Source was followed by target in ``count`` real sets (the recordings' track ids in ``sets``)."""

    source_id: int
    target_id: int
    count: int
    sets: tuple[int, ...]


@runtime_checkable
class GraphStore(Protocol):
    """The graph of one deployment. All methods are idempotent where they write."""

    async def ensure_schema(self) -> None:
        """Create constraints/indexes (or check tables) idempotently."""

    async def upsert_tracks(self, rows: Sequence[TrackNode]) -> None:
        """Create or update track nodes and their artist/label/genre links."""

    async def upsert_edges(self, rows: Sequence[EdgeRow]) -> None:
        """Create or update edges (one per source, target and kind)."""

    async def replace_edges(
        self, kind: EdgeKind, rows_by_source: Mapping[int, Sequence[EdgeRow]]
    ) -> None:
        """Make ``rows_by_source[s]`` the complete set of outgoing ``kind`` edges of each source ``s``."""

    async def remove_track(self, track_id: int) -> None:
        """Remove a track's node and every edge touching it."""

    async def record_set(self, set_id: int, track_ids: Sequence[int | None]) -> None:
        """Record (or re-record) a played set: PLAYED_IN links and TRANSITION edges between consecutive tracks.

        ``set_id`` is the recording's track id; ``None`` is an unidentified track (it breaks the chain).
        Recording a set again first forgets what it said before.
        """

    async def neighbours(
        self,
        track_id: int,
        kinds: Sequence[EdgeKind] = EDGE_KINDS,
        filters: NeighbourFilter | None = None,
        limit: int = 25,
    ) -> list[Neighbour]:
        """Related tracks, best score first (ties by id)."""
        ...

    async def subgraph(self, track_id: int, depth: int = 2, limit: int = 100) -> Subgraph:
        """Tracks within ``depth`` hops (at most ``limit``, nearest first) with their entity nodes."""
        ...

    async def suggestions(
        self, track_id: int, limit: int = 10, energy: EnergyDirection | None = None
    ) -> list[Suggestion]:
        """Ranked next tracks mixing similarity, harmony, tempo, energy direction and transitions."""
        ...

    async def path(
        self,
        a: int,
        b: int,
        steps: int | None = None,
        energy_curve: Sequence[float] | None = None,
    ) -> SetPath | None:
        """A set path from ``a`` to ``b``: exactly ``steps`` hops, or the shortest; None if there is none."""
        ...

    async def clusters(self) -> list[Cluster]:
        """Communities of the similarity graph (tracks without edges are left out)."""
        ...

    async def transitions(self, track_id: int | None = None, limit: int = 100) -> list[Transition]:
        """Proven transitions (from or to ``track_id`` if given), most played first."""
        ...

    async def stored_lists(self, kind: EdgeKind) -> dict[int, list[tuple[int, float]]]:
        """Every source's outgoing ``kind`` edges as (target, distance): a saved k-NN state to restore."""
        ...

    async def close(self) -> None:
        """Release connections."""


__all__ = [
    "EDGE_KINDS",
    "MIXABLE_KINDS",
    "Cluster",
    "EdgeKind",
    "EdgeRow",
    "EnergyDirection",
    "GraphLink",
    "GraphNode",
    "GraphStore",
    "Hop",
    "Neighbour",
    "NeighbourFilter",
    "SetPath",
    "Subgraph",
    "Suggestion",
    "TrackNode",
    "Transition",
]
