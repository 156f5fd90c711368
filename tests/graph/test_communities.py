"""Communities (label propagation) that colour the graph view: the right groups, the same every time."""

from __future__ import annotations

import random

from backend.graph.algorithms import label_propagation


def two_cliques_and_a_bridge() -> list[tuple[int, int, float]]:
    left = [(a, b, 1.0) for a in range(1, 6) for b in range(a + 1, 6)]
    right = [(a, b, 1.0) for a in range(11, 16) for b in range(a + 1, 16)]
    return [*left, *right, (5, 11, 0.1)]


def test_densely_linked_groups_are_communities() -> None:
    assert label_propagation(two_cliques_and_a_bridge()) == [[1, 2, 3, 4, 5], [11, 12, 13, 14, 15]]


def test_the_order_edges_arrive_in_does_not_change_the_communities() -> None:
    # Equal weights everywhere: every vote is a tie, broken by the smallest label, not by storage order
    # (the database returns edges in whatever order it likes; the view's colours must not flicker).
    rng = random.Random(7)
    edges = [(a, b, 1.0) for a in range(200) for b in rng.sample(range(200), 4) if a != b]
    first = label_propagation(edges)
    for _ in range(5):
        shuffled = [(b, a, w) if rng.random() < 0.5 else (a, b, w) for a, b, w in edges]
        rng.shuffle(shuffled)
        assert label_propagation(shuffled) == first
