"""Colours and sizes of the graph view: edge pens per kind, node brushes by cluster or key, energy sizes."""

from __future__ import annotations

from collections.abc import Sequence

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor

from backend.graph.port import TrackNode

EDGE_PENS = {
    "similar": pg.mkPen(150, 160, 180, 110, width=1.2),
    "harmonic": pg.mkPen(90, 210, 130, 170, width=1.5, style=Qt.PenStyle.DashLine),
    "transition": pg.mkPen(255, 150, 60, 220, width=2.5),
}
CLUSTER_COLOURS = [
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
    "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
]  # fmt: skip
UNKNOWN = "#777777"


def camelot_colour(code: str | None) -> QColor:
    """The Camelot wheel as hues: 12 numbers around the circle, A (minor) deeper than B (major)."""
    if not code or len(code) < 2 or not code[:-1].isdigit():
        return QColor(UNKNOWN)
    number, letter = int(code[:-1]), code[-1].upper()
    hue = ((number - 1) * 30 + 200) % 360  # 8A/8B land on green-ish like the usual wheel prints
    return QColor.fromHsv(hue, 200 if letter == "A" else 120, 235)


def node_brushes(nodes: Sequence[TrackNode], clusters: dict[int, int], *, by: str) -> list[QBrush]:
    brushes = []
    for node in nodes:
        if by == "key":
            colour = camelot_colour(node.camelot)
        else:
            cluster = clusters.get(node.id)
            colour = QColor(
                CLUSTER_COLOURS[cluster % len(CLUSTER_COLOURS)] if cluster is not None else UNKNOWN
            )
        brushes.append(QBrush(colour))
    return brushes


def node_sizes(nodes: Sequence[TrackNode], *, centre: int, path: set[int]) -> list[float]:
    """Energy 1..10 → 9..27 px; the centre and path nodes a little larger."""
    sizes = []
    for node in nodes:
        energy = node.energy if node.energy is not None else 5.0
        size = 7.0 + 2.0 * max(1.0, min(10.0, energy))
        if node.id == centre:
            size += 8
        elif node.id in path:
            size += 4
        sizes.append(size)
    return sizes
