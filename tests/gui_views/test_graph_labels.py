"""Which node names the graph view prints: most important first, none over another."""

from __future__ import annotations

from tracktion_gui.views.graph_layout import non_overlapping


def test_a_label_that_would_cover_a_more_important_one_is_left_out() -> None:
    centre = (100.0, 100.0, 80.0, 16.0)
    covering = (150.0, 105.0, 80.0, 16.0)  # overlaps the centre's name
    beside = (190.0, 100.0, 60.0, 16.0)  # clear of the centre's (the covering one is dropped)
    below = (100.0, 130.0, 80.0, 16.0)
    assert non_overlapping([centre, covering, beside, below]) == [0, 2, 3]


def test_labels_closer_than_the_margin_count_as_overlapping() -> None:
    first = (0.0, 0.0, 50.0, 10.0)
    touching = (51.0, 0.0, 50.0, 10.0)  # 1 px apart: too close to read as two names
    clear = (53.0, 0.0, 50.0, 10.0)
    assert non_overlapping([first, touching], margin=2.0) == [0]
    assert non_overlapping([first, clear], margin=2.0) == [0, 1]
