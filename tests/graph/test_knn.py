"""The incremental index always equals an exact brute-force search, through inserts, removals and moves."""

from __future__ import annotations

import random

import numpy as np
import pytest

from backend.graph.edges import edges_for
from backend.graph.knn import KnnIndex, TrackPoint

KEYS = [f"{n}{letter}" for n in range(1, 13) for letter in "AB"]


def random_point(rng: np.random.Generator, track_id: int, dim: int = 12) -> TrackPoint:
    return TrackPoint(
        track_id,
        rng.normal(size=dim).tolist() if rng.random() > 0.03 else None,
        float(rng.uniform(80, 175)) if rng.random() > 0.03 else None,
        KEYS[int(rng.integers(24))] if rng.random() > 0.05 else None,
        float(rng.random()) if rng.random() > 0.05 else None,
    )


def assert_exact(index: KnnIndex, points: dict[int, TrackPoint]) -> None:
    for tid, point in points.items():
        for kind in ("similar", "harmonic"):
            got = index.neighbours(tid, kind)
            want = index.brute_force_neighbours(point, kind)
            # Equal distances may be listed in another order: compare the distance profiles.
            got_d = sorted(d for _, d in got)
            want_d = sorted(index.distance(tid, w) for w in want)
            assert np.allclose(got_d, want_d, atol=1e-5), (tid, kind, got, want)
            assert tid not in [g for g, _ in got]


def test_incremental_inserts_removals_and_moves_match_brute_force() -> None:
    rng = np.random.default_rng(7)
    index = KnnIndex(k=6)
    points = {i: random_point(rng, i) for i in range(1, 301)}
    for p in points.values():
        index.insert(p)
    assert len(index) == 300
    assert_exact(index, points)
    for tid in random.Random(3).sample(sorted(points), 80):
        index.remove(tid)
        del points[tid]
    assert_exact(index, points)
    for tid in sorted(points)[:40]:
        points[tid] = random_point(rng, tid)
        index.move(points[tid])
    assert_exact(index, points)
    assert sorted(index.track_ids) == sorted(points)


def test_insert_reports_exactly_the_lists_that_changed() -> None:
    rng = np.random.default_rng(1)
    index = KnnIndex(k=4)
    points = [random_point(rng, i) for i in range(1, 120)]
    index.build(points)
    before = {t: (index.neighbours(t), index.neighbours(t, "harmonic")) for t in index.track_ids}
    changed = index.insert(random_point(rng, 999))
    after = {t: (index.neighbours(t), index.neighbours(t, "harmonic")) for t in before}
    moved = {t for t in before if before[t] != after[t]}
    assert changed == moved | {999}


def test_removal_researches_the_tracks_that_listed_it() -> None:
    index = KnnIndex(k=2)
    base = [0.0] * 4
    for i in range(1, 6):
        vec = list(base)
        vec[0] = 1.0
        vec[1] = i * 0.1
        index.insert(TrackPoint(i, vec, 124.0, "8A", 0.5))
    listed_3 = {t for t in index.track_ids if 3 in [n for n, _ in index.neighbours(t)]}
    assert index.remove(3) == listed_3
    assert all(3 not in [n for n, _ in index.neighbours(t)] for t in index.track_ids)
    assert all(len(index.neighbours(t)) == 2 for t in index.track_ids)
    assert index.remove(3) == set()


def test_build_equals_incremental() -> None:
    rng = np.random.default_rng(5)
    points = [random_point(rng, i) for i in range(1, 200)]
    a, b = KnnIndex(k=5), KnnIndex(k=5)
    a.build(points)
    for p in points:
        b.insert(p)
    for p in points:
        for kind in ("similar", "harmonic"):
            da = sorted(d for _, d in a.neighbours(p.track_id, kind))
            db = sorted(d for _, d in b.neighbours(p.track_id, kind))
            assert np.allclose(da, db, atol=1e-5)


def test_harmonic_lists_only_hold_mixable_tracks() -> None:
    rng = np.random.default_rng(11)
    index = KnnIndex(k=5, tempo_tolerance_pct=6.0)
    points = {i: random_point(rng, i) for i in range(1, 250)}
    index.build(points.values())
    rows = edges_for(index, "harmonic", points, tolerance_pct=6.0, energy_boost=True)
    total = 0
    for source, edges in rows.items():
        assert len(edges) == len(index.neighbours(source, "harmonic"))
        for e in edges:
            total += 1
            assert e.kind == "harmonic" and 0 < e.score <= 1
            assert any("BPM" in r for r in e.reasons)
    assert total > 0


def test_similar_edges_say_why() -> None:
    index = KnnIndex(k=1)
    index.insert(TrackPoint(1, [1.0, 0.0], 124.0, "8A", 0.5))
    index.insert(TrackPoint(2, [1.0, 0.1], 126.0, "9A", 0.7))
    (edge,) = edges_for(index, "similar", [1], tolerance_pct=6.0, energy_boost=True)[1]
    assert edge.target_id == 2 and 0.8 < edge.score < 1.0
    assert edge.reasons[0].startswith("sound ") and "% alike" in edge.reasons[0]
    assert any("8A → 9A" in r for r in edge.reasons)
    assert "energy up 0.20" in edge.reasons


def test_vectors_of_another_length_are_refused() -> None:
    index = KnnIndex(k=3)
    index.insert(TrackPoint(1, [1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match="3"):
        index.insert(TrackPoint(2, [1.0, 2.0]))
    assert index.track_ids == [1]


def test_restore_from_saved_lists_is_exact_after_changes_while_down() -> None:
    rng = np.random.default_rng(13)
    points = {i: random_point(rng, i) for i in range(1, 260)}
    first = KnnIndex(k=5)
    first.build(points.values())
    saved = {
        kind: {t: first.neighbours(t, kind) for t in first.track_ids}
        for kind in ("similar", "harmonic")
    }
    # While the worker was down: tracks left the library and new ones were analysed.
    for tid in (3, 50, 77, 120):
        del points[tid]
    for tid in range(1000, 1015):
        points[tid] = random_point(rng, tid)
    restored = KnnIndex(k=5)
    changed = restored.restore(points.values(), saved)
    assert_exact(restored, points)
    assert set(range(1000, 1015)) <= changed
    untouched = [t for t in points if t not in changed]
    assert untouched and all(
        restored.neighbours(t) == first.neighbours(t)
        or np.allclose(
            [d for _, d in restored.neighbours(t)], [d for _, d in first.neighbours(t)], atol=1e-6
        )
        for t in untouched
    )
