"""One behaviour suite for every graph store (embedded SQLite/PostgreSQL, Neo4j adapter on ArcadeDB/Neo4j)."""

from __future__ import annotations

import pytest

from backend.graph.port import EdgeRow, NeighbourFilter, TrackNode
from tests.graph.conftest import Harness


def track(
    i: int, bpm: float = 124.0, key: str = "8A", energy: float = 0.5, **kw: object
) -> TrackNode:
    defaults: dict[str, object] = {
        "title": f"Track {i}",
        "artist": f"Artist {i % 3}",
        "label": "Label X" if i % 2 else "Label Y",
        "genre": "techno",
        "duration_s": 360.0,
    }
    defaults.update(kw)
    return TrackNode(id=i, bpm=bpm, camelot=key, energy=energy, **defaults)  # type: ignore[arg-type]


def edge(a: int, b: int, kind: str = "similar", score: float = 0.8, *reasons: str) -> EdgeRow:
    return EdgeRow(a, b, kind, score, reasons or (f"{kind} {a}-{b}",), {"distance": 1 - score})  # type: ignore[arg-type]


async def test_schema_can_be_ensured_twice(harness: Harness) -> None:
    await harness.store.ensure_schema()
    await harness.store.ensure_schema()


async def test_upsert_is_idempotent_and_updates_score_and_reasons(harness: Harness) -> None:
    await harness.add_tracks([track(1), track(2)])
    await harness.store.upsert_edges([edge(1, 2, "similar", 0.5, "first")])
    await harness.store.upsert_edges([edge(1, 2, "similar", 0.7, "second")])
    await harness.store.upsert_edges([edge(1, 2, "similar", 0.7, "second")])
    got = await harness.store.neighbours(1)
    assert [(n.track.id, n.kind, n.score, n.reasons, n.direction) for n in got] == [
        (2, "similar", 0.7, ("second",), "out")
    ]
    assert got[0].data == {"distance": pytest.approx(0.3)}
    assert got[0].track == track(2)


async def test_neighbours_both_directions_best_edge_per_kind_ranked(harness: Harness) -> None:
    await harness.add_tracks([track(i) for i in range(1, 6)])
    await harness.store.upsert_edges(
        [
            edge(1, 2, "similar", 0.6),
            edge(2, 1, "similar", 0.9, "from 2"),  # the better of the two directions wins
            edge(3, 1, "harmonic", 0.8),
            edge(1, 4, "similar", 0.8),
            edge(1, 5, "similar", 0.8),
            edge(1, 3, "similar", 0.5),
        ]
    )
    got = await harness.store.neighbours(1)
    assert [(n.track.id, n.kind, n.score, n.direction) for n in got] == [
        (2, "similar", 0.9, "in"),
        (3, "harmonic", 0.8, "in"),
        (4, "similar", 0.8, "out"),
        (5, "similar", 0.8, "out"),
        (3, "similar", 0.5, "out"),
    ]
    assert got[0].reasons == ("from 2",)
    only_harmonic = await harness.store.neighbours(1, kinds=["harmonic"])
    assert [n.track.id for n in only_harmonic] == [3]
    assert [n.track.id for n in await harness.store.neighbours(1, limit=2)] == [2, 3]


async def test_neighbour_filters(harness: Harness) -> None:
    await harness.add_tracks(
        [
            track(1),
            track(2, bpm=120, key="8A"),
            track(3, bpm=128, key="9A", genre="house"),
            track(4, bpm=140, key="8B"),
        ]
    )
    await harness.store.upsert_edges(
        [edge(1, 2, score=0.9), edge(1, 3, score=0.8), edge(1, 4, score=0.7)]
    )

    async def ids(f: NeighbourFilter) -> list[int]:
        return [n.track.id for n in await harness.store.neighbours(1, filters=f)]

    assert await ids(NeighbourFilter(bpm_min=125)) == [3, 4]
    assert await ids(NeighbourFilter(bpm_max=130)) == [2, 3]
    assert await ids(NeighbourFilter(camelot=("8A", "8B"))) == [2, 4]
    assert await ids(NeighbourFilter(genre="house")) == [3]
    assert await ids(NeighbourFilter(min_score=0.75)) == [2, 3]


async def test_replace_edges_rewrites_only_that_kind_of_those_sources(harness: Harness) -> None:
    await harness.add_tracks([track(i) for i in range(1, 6)])
    await harness.store.upsert_edges([edge(1, 2), edge(1, 3), edge(1, 4, "harmonic"), edge(5, 2)])
    await harness.store.replace_edges("similar", {1: [edge(1, 5, score=0.95)]})
    one = {(n.track.id, n.kind) for n in await harness.store.neighbours(1)}
    assert one == {(5, "similar"), (4, "harmonic")}
    assert {n.track.id for n in await harness.store.neighbours(2)} == {5}
    await harness.store.replace_edges("similar", {1: []})
    assert {(n.track.id, n.kind) for n in await harness.store.neighbours(1)} == {(4, "harmonic")}


async def test_remove_track_drops_every_edge_touching_it(harness: Harness) -> None:
    await harness.add_tracks([track(i) for i in range(1, 4)])
    await harness.store.upsert_edges([edge(1, 2), edge(2, 3), edge(3, 1, "harmonic")])
    await harness.store.remove_track(1)
    assert await harness.store.neighbours(1) == []
    assert [n.track.id for n in await harness.store.neighbours(2)] == [3]
    assert [n.track.id for n in await harness.store.neighbours(3)] == [2]
    await harness.store.remove_track(1)  # removing twice is harmless


async def test_sets_count_transitions_once_per_set_and_can_be_rerecorded(harness: Harness) -> None:
    await harness.add_tracks(
        [track(i) for i in range(1, 6)] + [track(100, title="Mix 1"), track(101, title="Mix 2")]
    )
    await harness.store.record_set(100, [1, 2, 3, None, 4])
    await harness.store.record_set(100, [1, 2, 3, None, 4])  # redelivered: nothing doubles
    await harness.store.record_set(101, [2, 3, 5])
    got = [(t.source_id, t.target_id, t.count, t.sets) for t in await harness.store.transitions()]
    assert got == [(2, 3, 2, (100, 101)), (1, 2, 1, (100,)), (3, 5, 1, (101,))]
    # The set's tracklist was corrected: what it said before is forgotten.
    await harness.store.record_set(100, [1, 3, 2])
    got = [(t.source_id, t.target_id, t.count, t.sets) for t in await harness.store.transitions()]
    assert got == [(1, 3, 1, (100,)), (2, 3, 1, (101,)), (3, 2, 1, (100,)), (3, 5, 1, (101,))]
    of3 = {(t.source_id, t.target_id) for t in await harness.store.transitions(track_id=5)}
    assert of3 == {(3, 5)}
    n = await harness.store.neighbours(3, kinds=["transition"])
    # 3 → 2 and 2 → 3 were both played: one entry per neighbour and kind, the outgoing one.
    assert [(x.track.id, x.direction, x.data["count"], x.data["sets"]) for x in n] == [
        (1, "in", 1, [100]),
        (2, "out", 1, [100]),
        (5, "out", 1, [101]),
    ]
    assert all("1 set" in x.reasons[0] for x in n)


async def test_subgraph_depth_limit_and_entities(harness: Harness) -> None:
    await harness.add_tracks([track(i) for i in range(1, 7)])
    await harness.store.upsert_edges(
        [
            edge(1, 2, score=0.9),
            edge(1, 3, score=0.5),
            edge(2, 4),
            edge(4, 5),
            edge(3, 2, "harmonic"),
        ]
    )
    one = await harness.store.subgraph(1, depth=1)
    tracks1 = {n.key for n in one.nodes if n.kind == "track"}
    assert tracks1 == {"track:1", "track:2", "track:3"}
    assert {
        (x.source, x.target, x.kind) for x in one.links if x.kind in ("similar", "harmonic")
    } == {
        ("track:1", "track:2", "similar"),
        ("track:1", "track:3", "similar"),
        ("track:3", "track:2", "harmonic"),
    }
    assert {"artist:Artist 1", "label:Label X", "genre:techno"} <= {n.key for n in one.nodes}
    assert ("track:1", "artist:Artist 1", "by_artist") in {
        (x.source, x.target, x.kind) for x in one.links
    }
    two = await harness.store.subgraph(1, depth=2)
    assert {n.key for n in two.nodes if n.kind == "track"} == tracks1 | {"track:4"}
    small = await harness.store.subgraph(1, depth=2, limit=2)
    assert {n.key for n in small.nodes if n.kind == "track"} == {"track:1", "track:2"}
    assert (await harness.store.subgraph(999)).nodes == ()


async def test_suggestions_mix_similarity_harmony_transitions_and_energy(harness: Harness) -> None:
    await harness.add_tracks(
        [
            track(1, bpm=124, key="8A", energy=0.5),
            track(2, bpm=125, key="9A", energy=0.7),  # mixable, energy up
            track(3, bpm=124, key="3B", energy=0.5),  # similar sound but clashing key
            track(4, bpm=126, key="8A", energy=0.3),  # mixable, energy down
            track(5, bpm=124, key="8B", energy=0.5),
            track(100, title="Mix"),
        ]
    )
    await harness.store.upsert_edges(
        [edge(1, 2, score=0.7), edge(1, 3, score=0.9), edge(1, 4, score=0.7), edge(5, 1, score=0.6)]
    )
    up = await harness.store.suggestions(1, energy="up")
    assert up[0].track.id == 2
    assert any("9A" in r for r in up[0].reasons)
    down = await harness.store.suggestions(1, energy="down")
    assert down[0].track.id == 4
    clash = next(s for s in up if s.track.id == 3)
    assert clash.components["harmony"] == 0.0
    # A transition DJs actually played lifts a track to the top.
    await harness.store.record_set(100, [1, 5])
    await harness.store.record_set(100, [1, 5])
    first = (await harness.store.suggestions(1))[0]
    assert first.track.id == 5
    assert any(r == "played after it in 1 set" for r in first.reasons)
    assert await harness.store.suggestions(999) == []


async def _chain(harness: Harness) -> None:
    keys = {1: "8A", 2: "9A", 3: "10A", 4: "11A", 5: "12A", 6: "1A", 7: "8A", 8: "9A", 9: "12A"}
    energy = {7: 0.9, 8: 0.2}
    await harness.add_tracks([track(i, key=keys[i], energy=energy.get(i, 0.5)) for i in keys])
    await harness.store.upsert_edges(
        [
            edge(1, 2, "harmonic", 0.9),
            edge(2, 3, "harmonic", 0.9),
            edge(4, 3, "harmonic", 0.9),  # read both ways
            edge(4, 5, "harmonic", 0.9),
            edge(5, 6, "harmonic", 0.9),
            edge(1, 7, "harmonic", 0.8),
            edge(1, 8, "harmonic", 0.8),
            edge(7, 9, "harmonic", 0.8),
            edge(8, 9, "harmonic", 0.8),
            edge(9, 6, "transition", 0.5),  # proven, one way only
            edge(1, 6, "similar", 0.99),  # similar is not a mixable hop
        ]
    )


async def test_path_shortest_and_exact_steps(harness: Harness) -> None:
    await _chain(harness)
    shortest = await harness.store.path(1, 6)
    assert shortest is not None
    assert len(shortest.hops) == 3 and shortest.track_ids[0] == 1 and shortest.track_ids[-1] == 6
    assert shortest.track_ids[2] == 9
    assert all(h.kind in ("harmonic", "transition") for h in shortest.hops)
    five = await harness.store.path(1, 6, steps=5)
    assert five is not None and five.track_ids == (1, 2, 3, 4, 5, 6)
    assert await harness.store.path(1, 6, steps=2) is None
    # The transition was played 9 → 6, not 6 → 9.
    back = await harness.store.path(6, 1)
    assert back is not None and back.track_ids == (6, 5, 4, 3, 2, 1)
    assert await harness.store.path(1, 999) is None


async def test_path_follows_an_energy_curve(harness: Harness) -> None:
    await _chain(harness)
    high = await harness.store.path(1, 9, steps=2, energy_curve=[0.5, 0.9, 0.5])
    low = await harness.store.path(1, 9, steps=2, energy_curve=[0.5, 0.2, 0.5])
    assert high is not None and high.track_ids == (1, 7, 9)
    assert low is not None and low.track_ids == (1, 8, 9)


async def test_clusters_separate_unconnected_groups(harness: Harness) -> None:
    await harness.add_tracks([track(i) for i in range(1, 9)])
    await harness.store.upsert_edges(
        [
            edge(1, 2),
            edge(2, 3),
            edge(3, 1),
            edge(4, 1, score=0.1),
            edge(5, 6),
            edge(6, 7),
            edge(7, 5),
        ]
    )
    clusters = await harness.store.clusters()
    groups = [set(c.track_ids) for c in clusters]
    assert {1, 2, 3} <= groups[0] and {5, 6, 7}.isdisjoint(groups[0])
    assert {5, 6, 7} in groups
    assert all(8 not in g for g in groups)  # no edges, no cluster
    assert [c.id for c in clusters] == list(range(len(clusters)))


async def test_stored_lists_give_back_each_sources_edges_with_distances(harness: Harness) -> None:
    await harness.add_tracks([track(i) for i in range(1, 5)])
    await harness.store.replace_edges(
        "similar", {1: [edge(1, 2, score=0.9), edge(1, 3, score=0.7)], 2: [edge(2, 1, score=0.9)]}
    )
    await harness.store.upsert_edges([edge(3, 4, "harmonic", 0.6)])
    similar = await harness.store.stored_lists("similar")
    assert {k: sorted(v) for k, v in similar.items()} == {
        1: [(2, pytest.approx(0.1)), (3, pytest.approx(0.3))],
        2: [(1, pytest.approx(0.1))],
    }
    assert await harness.store.stored_lists("harmonic") == {3: [(4, pytest.approx(0.4))]}
