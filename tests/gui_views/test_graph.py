"""The graph view on a real analysed library: neighbours, reasons on hover, selection, paths, M3U8."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPointF, Qt

from tests.gui_views.conftest import Library, run, snapshot
from tracktion_gui.asyncutil import idle
from tracktion_gui.views.graph import GraphPage
from tracktion_gui.views.graph_style import CLUSTER_COLOURS


async def settle() -> None:
    assert await idle(60), "graph loads did not finish"


@pytest.fixture
def graph(qloop: asyncio.AbstractEventLoop, library: Library, qtbot: Any) -> Any:
    selected: list[int] = []
    page = GraphPage(library.services, selected.append)
    page.selected_ids = selected
    qtbot.addWidget(page)
    page.resize(1100, 650)
    page.show()
    qtbot.waitExposed(page)
    return page


def node_pixel(page: GraphPage, track_id: int) -> Any:
    x, y = page.positions[page.index[track_id]]
    vb = page.plot.getPlotItem().getViewBox()
    return page.plot.mapFromScene(vb.mapViewToScene(QPointF(float(x), float(y))))


def test_graph_shows_the_selected_tracks_neighbours(
    qloop: asyncio.AbstractEventLoop, library: Library, graph: Any, qtbot: Any
) -> None:
    centre = library.ids["a.flac"]
    graph.set_track(centre)
    run(qloop, settle())
    store = run(qloop, library.services.graph())
    neighbours = run(qloop, store.neighbours(centre))
    assert neighbours, "the graph worker produced no edges for the track"
    shown = {n.id for n in graph.nodes}
    assert centre in shown
    assert {n.track.id for n in neighbours} <= shown
    # Edges are drawn per kind, and the status line counts them.
    drawn = sum(len(item.getData()[0]) // 2 for item in graph.edge_items.values())
    assert drawn == len(graph.links) > 0
    assert f"{len(graph.nodes)} tracks" in graph.status.text()
    # Hovering a neighbour explains the link with the store's reasons.
    first = neighbours[0]
    tip = graph._tip(0.0, 0.0, first.track.id)
    assert first.kind in tip
    assert all(reason in tip for reason in first.reasons)
    # Suggestions are listed beside the graph.
    assert graph.side.suggestion_list.count() > 0
    # Names never print over each other; the selected track is always named.
    boxes = [label.sceneBoundingRect() for label in graph.labels]
    assert boxes and any(label.toPlainText().startswith("Ava Lund") for label in graph.labels), (
        "the centre is not labelled"
    )
    for i, box in enumerate(boxes):
        assert not any(box.intersects(other) for other in boxes[i + 1 :])
    # Colouring by community loads the clusters (only then: a whole-graph pass) and paints by them.
    assert graph.hood.clusters == {}
    graph.colour_by.setCurrentText("cluster")
    run(qloop, settle())
    clusters = run(qloop, store.clusters())
    expected = {t: c.id for c in clusters for t in c.track_ids if t in graph.index}
    assert graph.hood.clusters == expected and expected
    colours = {graph.scatter.data[i]["brush"].color().name() for i in range(len(graph.nodes))}
    assert colours == {CLUSTER_COLOURS[c % len(CLUSTER_COLOURS)].lower() for c in expected.values()}
    graph.colour_by.setCurrentText("key")
    # Toggling an edge kind hides its lines.
    kind = first.kind
    graph.toggles[kind].setChecked(False)
    assert not graph.edge_items[kind].isVisible()
    graph.toggles[kind].setChecked(True)

    # Click a node: the library selects it; double-click: the graph re-centres on it.
    other = first.track.id
    qtbot.mouseClick(graph.plot.viewport(), Qt.MouseButton.LeftButton, pos=node_pixel(graph, other))
    assert graph.selected_ids == [other]
    # A real double-click: press/release, then the double-click press and its release.
    pos = node_pixel(graph, other)
    qtbot.mouseClick(graph.plot.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    qtbot.mouseDClick(graph.plot.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    qtbot.mouseRelease(graph.plot.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    run(qloop, settle())
    assert graph.centre == other
    assert graph.positions[graph.index[other]].tolist() == [0.0, 0.0]


def test_set_planner_highlights_a_path_and_saves_it(
    qloop: asyncio.AbstractEventLoop, library: Library, graph: Any, tmp_path: Path
) -> None:
    a, b = library.ids["d.flac"], library.ids["b.flac"]
    graph.set_track(a)
    run(qloop, settle())
    graph.side.set_ends(a, b)
    graph.side.plan_button.click()
    run(qloop, settle())
    store = run(qloop, library.services.graph())
    expected = run(qloop, store.path(a, b))
    assert expected is not None, "the store finds no path between two harmonically linked tracks"
    assert graph.path is not None and graph.path.track_ids == expected.track_ids
    # The path is highlighted: one segment per hop, through the right nodes.
    x, y = graph.path_item.getData()
    assert len(x) == 2 * (len(expected.track_ids) - 1)
    start = graph.positions[graph.index[a]]
    assert (float(x[0]), float(y[0])) == pytest.approx((float(start[0]), float(start[1])))
    assert graph.side.path_list.count() == len(expected.track_ids)
    assert graph.side.save_button.isEnabled()
    snapshot(graph, "graph-path")

    dest = tmp_path / "set.m3u8"
    graph.save_path(dest)
    run(qloop, settle())
    lines = dest.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "#EXTM3U"
    files = [line for line in lines if not line.startswith("#")]
    names = {v: k for k, v in library.ids.items()}
    assert [Path(f).name for f in files] == [names[t] for t in expected.track_ids]
    assert all(Path(f).exists() for f in files)
