"""The "graph" main view: the selected track's neighbourhood, suggestions and the set planner.

Nodes are coloured by cluster or Camelot key and sized by energy; edges are drawn per kind (one item each,
toggled by the check boxes); hovering a node shows why it is related. The force layout runs in a
one-thread executor so the GUI thread only draws. Click a node to select it in the library, double-click to
re-centre the graph on it.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, QTimer, Signal
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from backend.api import media
from backend.graph.port import SetPath, Suggestion, TrackNode
from backend.services import Services
from tracktion_gui.views.extra_tasks import LatestTask, TaskSet
from tracktion_gui.views.graph_layout import force_layout, non_overlapping, rings
from tracktion_gui.views.graph_side import GraphSidePanel, node_text
from tracktion_gui.views.graph_style import EDGE_PENS, node_brushes, node_sizes

# Layout runs here: numpy releases the GIL for most of the work, and one thread keeps layouts in order.
_LAYOUT_EXECUTOR = ThreadPoolExecutor(max_workers=1, thread_name_prefix="graph-layout")


class GraphPage(QWidget):
    """Neighbourhood plot + suggestions + set planner for the selected track."""

    drawn = Signal()  # after every completed draw (tests, screenshots)

    def __init__(
        self,
        services: Services,
        select_track: Callable[[int], None] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.services = services
        self.select_track = select_track or (lambda _id: None)
        self.centre = -1
        self.selected = -1
        self.hood: media.Neighbourhood | None = None
        self.nodes: list[TrackNode] = []
        self.index: dict[int, int] = {}
        self.links: list[media.GraphLinkView] = []
        self.positions = np.zeros((0, 2))
        self.layout_centre = -1
        self.path: SetPath | None = None
        self.suggestions: list[Suggestion] = []
        self.load = LatestTask(self._error)
        self.tasks = TaskSet(self._error)

        self.plot = pg.PlotWidget()
        self.plot.setBackground("#15161a")
        self.plot.hideAxis("left")
        self.plot.hideAxis("bottom")
        self.plot.setAspectLocked(True)
        self.plot.getPlotItem().getViewBox().setMenuEnabled(False)
        self.edge_items = {
            kind: pg.PlotCurveItem(pen=pen, connect="pairs") for kind, pen in EDGE_PENS.items()
        }
        for item in self.edge_items.values():
            self.plot.addItem(item)
        self.path_item = pg.PlotCurveItem(pen=pg.mkPen("#ffe14d", width=5), connect="pairs")
        self.path_item.setZValue(5)
        self.plot.addItem(self.path_item)
        self.scatter = pg.ScatterPlotItem(hoverable=True, tip=self._tip, pxMode=True)
        self.scatter.setZValue(10)
        self.plot.addItem(self.scatter)
        self.labels: list[pg.TextItem] = []
        self.scatter.sigClicked.connect(self._clicked)

        self.colour_by = QComboBox()
        self.colour_by.addItems(["key", "cluster"])
        self.toggles = {kind: QCheckBox(kind) for kind in EDGE_PENS}
        for kind, box in self.toggles.items():
            box.setChecked(True)
            box.toggled.connect(lambda on, k=kind: self.edge_items[k].setVisible(on))
        self.colour_by.currentTextChanged.connect(self._colour_by_changed)
        self.status = QLabel("Select a track to see what goes with it")
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Colour by"))
        bar.addWidget(self.colour_by)
        for box in self.toggles.values():
            bar.addWidget(box)
        bar.addStretch(1)
        bar.addWidget(self.status)

        self.side = GraphSidePanel(self)
        self.side.open_track.connect(self.select_track)
        self.side.plan_requested.connect(self.plan)
        self.side.save_requested.connect(self._ask_save)
        left = QVBoxLayout()
        left.addLayout(bar)
        left.addWidget(self.plot, 1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(left, 3)
        layout.addWidget(self.side, 1)

        # graph.updated arrives in bursts while the worker catches up: reload at most twice a second.
        self._refresh = QTimer(self, singleShot=True, interval=500)
        self._refresh.timeout.connect(self._reload)

    # ---- loading ---------------------------------------------------------------------------------------

    def set_track(self, track_id: int) -> None:
        """Follow the library selection: the selected track becomes the planner's A and the centre."""
        self.selected = track_id
        self.side.set_current(track_id)
        if track_id >= 0 and track_id != self.centre:
            self.recentre(track_id)

    def recentre(self, track_id: int) -> None:
        self.centre = track_id
        self.path = None
        self.status.setText("Loading…")
        self.load.start(self._load(track_id))

    def graph_changed(self, track_ids: tuple[int, ...]) -> None:
        """Live update: reload when the event touches what is on screen (or says nothing specific)."""
        if self.centre >= 0 and (
            not track_ids or set(track_ids) & ({self.centre} | set(self.index))
        ):
            self._refresh.start()

    def _colour_by_changed(self, by: str) -> None:
        # Communities are only loaded for colouring by them (a whole-graph pass on big libraries).
        if by == "cluster" and self.hood is not None and not self.hood.clusters:
            self._reload()
        else:
            self._draw()

    def _reload(self) -> None:
        if self.centre >= 0:
            self.load.start(self._load(self.centre))

    async def _load(self, track_id: int) -> None:
        by_cluster = self.colour_by.currentText() == "cluster"
        hood = await media.load_neighbourhood(self.services, track_id, with_clusters=by_cluster)
        suggestions = await media.load_suggestions(self.services, track_id)
        nodes = list(hood.nodes)
        if not any(n.id == track_id for n in nodes):
            nodes.insert(0, await self._node(track_id))
        links = list(hood.links)
        if self.path is not None:
            nodes, links = self._merge_path(nodes, links, self.path)
        await self._layout(nodes, links)
        self.hood, self.suggestions = hood, suggestions
        self.side.show_suggestions(suggestions)
        self._draw()

    async def _node(self, track_id: int) -> TrackNode:
        """A lone track (no edges yet) still gets a node in the middle."""
        store = await self.services.graph()
        sub = await store.subgraph(track_id, depth=0, limit=1)
        for node in sub.nodes:
            if node.track is not None and node.track.id == track_id:
                return node.track
        return TrackNode(id=track_id, title=f"Track {track_id}")

    async def _layout(self, nodes: list[TrackNode], links: list[media.GraphLinkView]) -> None:
        ordered = sorted(nodes, key=lambda n: n.id != self.centre)  # centre first: it is pinned
        index = {n.id: i for i, n in enumerate(ordered)}
        edges = [(index[x.source], index[x.target], x.score) for x in links]
        if self.layout_centre == self.centre and set(index) & set(self.index):
            # Same centre (live update, a planned path): known nodes stay where they were.
            initial = rings(len(ordered), edges)
            for tid, i in index.items():
                if tid in self.index:
                    initial[i] = self.positions[self.index[tid]]
        else:
            initial = rings(len(ordered), edges)
        loop = asyncio.get_running_loop()
        positions = await loop.run_in_executor(
            _LAYOUT_EXECUTOR,
            lambda: force_layout(len(ordered), edges, pinned=0, initial=initial),
        )
        self.nodes, self.index, self.links, self.positions = ordered, index, links, positions
        self.layout_centre = self.centre

    def _merge_path(
        self, nodes: list[TrackNode], links: list[media.GraphLinkView], path: SetPath
    ) -> tuple[list[TrackNode], list[media.GraphLinkView]]:
        known = {n.id for n in nodes}
        nodes = nodes + [t for t in path.tracks if t.id not in known]
        have = {(x.source, x.target, x.kind) for x in links}
        extra = [
            media.GraphLinkView(h.source_id, h.target_id, h.kind, h.score, h.reasons)
            for h in path.hops
            if (h.source_id, h.target_id, h.kind) not in have
        ]
        return nodes, links + extra

    # ---- set planner -----------------------------------------------------------------------------------

    def plan(self, a: int, b: int, steps: int | None) -> None:
        self.tasks.start(self._plan(a, b, steps))

    async def _plan(self, a: int, b: int, steps: int | None) -> None:
        self.status.setText("Planning…")
        path = await media.plan_path(self.services, a, b, steps)
        self.path = path
        self.side.show_path(path)
        if path is None:
            self._draw()
            self.status.setText("No mixable path between these tracks")
            return
        nodes, links = self._merge_path(self.nodes, self.links, path)
        await self._layout(nodes, links)
        self._draw()

    def _ask_save(self) -> None:
        if self.path is None:
            return
        name, _ = QFileDialog.getSaveFileName(
            self, "Save set as playlist", "set.m3u8", "M3U8 (*.m3u8)"
        )
        if name:
            self.save_path(Path(name))

    def save_path(self, dest: Path) -> asyncio.Task[Path] | None:
        """Write the planned path as an M3U8 playlist."""
        if self.path is None:
            return None
        return self.tasks.start(media.write_m3u8(self.services, self.path.track_ids, dest))

    # ---- drawing ---------------------------------------------------------------------------------------

    def _draw(self) -> None:
        pos = self.positions
        for kind, item in self.edge_items.items():
            pairs = [
                (self.index[x.source], self.index[x.target]) for x in self.links if x.kind == kind
            ]
            xy = pos[np.array(pairs).reshape(-1)] if pairs else np.zeros((0, 2))
            item.setData(xy[:, 0], xy[:, 1])
        path_ids = [t for t in (self.path.track_ids if self.path else ()) if t in self.index]
        if len(path_ids) >= 2:
            seg = np.array(
                [[self.index[a], self.index[b]] for a, b in itertools.pairwise(path_ids)]
            )
            xy = pos[seg.reshape(-1)]
            self.path_item.setData(xy[:, 0], xy[:, 1])
        else:
            self.path_item.setData([], [])
        clusters = self.hood.clusters if self.hood else {}
        brushes = node_brushes(self.nodes, clusters, by=self.colour_by.currentText())
        sizes = node_sizes(self.nodes, centre=self.centre, path=set(path_ids))
        self.scatter.setData(
            pos=pos, size=sizes, brush=brushes, data=[n.id for n in self.nodes],
            pen=[pg.mkPen("#ffffff" if n.id == self.centre else "#000000", width=1.5) for n in self.nodes],
        )  # fmt: skip
        # The selected track in the middle of the view, whatever the shape of its neighbourhood.
        reach = float(np.abs(pos).max()) * 1.15 if len(pos) else 1.0
        self.plot.getPlotItem().getViewBox().setRange(
            xRange=(-reach, reach), yRange=(-reach, reach), padding=0.05
        )
        self._draw_labels(path_ids)
        self.side.refresh_names({n.id: node_text(n, short=True) for n in self.nodes})
        counts = {k: sum(1 for x in self.links if x.kind == k) for k in EDGE_PENS}
        summary = ", ".join(f"{v} {k}" for k, v in counts.items())
        self.status.setText(f"{len(self.nodes)} tracks · {summary}")
        self.drawn.emit()

    def _draw_labels(self, path_ids: list[int]) -> None:
        """Name the nodes, most important first (centre, path, strongest links), never one over another."""
        for label in self.labels:
            self.plot.removeItem(label)
        self.labels = []
        strength: dict[int, float] = {}
        for x in self.links:
            if self.centre in (x.source, x.target):
                other = x.target if x.source == self.centre else x.source
                strength[other] = max(strength.get(other, 0.0), x.score)
        on_path = set(path_ids)
        order = sorted(
            range(len(self.nodes)),
            key=lambda i: (
                self.nodes[i].id != self.centre,
                self.nodes[i].id not in on_path,
                -strength.get(self.nodes[i].id, -1.0),
            ),
        )
        texts = [node_text(self.nodes[i], short=True) for i in order]
        vb = self.plot.getPlotItem().getViewBox()
        metrics = QFontMetrics(self.font())
        rects = []
        for i, text in zip(order, texts, strict=True):
            at = vb.mapViewToScene(QPointF(*map(float, self.positions[i])))
            width, height = metrics.horizontalAdvance(text) + 4, metrics.height() + 2
            # Matches the TextItem anchor below: centred under the node.
            rects.append((at.x() - width / 2, at.y() + 0.4 * height, width, height))
        for j in non_overlapping(rects):
            i = order[j]
            label = pg.TextItem(
                texts[j], color="#e6e6e6", anchor=(0.5, -0.4), fill=pg.mkBrush(21, 22, 26, 190)
            )
            label.setPos(float(self.positions[i, 0]), float(self.positions[i, 1]))
            self.plot.addItem(label)
            self.labels.append(label)

    def reasons_for(self, track_id: int) -> list[str]:
        """What links ``track_id`` to the centre (for the hover text)."""
        out = []
        for x in self.links:
            if {x.source, x.target} == {self.centre, track_id}:
                why = "; ".join(x.reasons) if x.reasons else f"score {x.score:.2f}"
                out.append(f"{x.kind}: {why}")
        return out

    def _tip(self, x: float, y: float, data: object) -> str:
        track_id = int(data)  # type: ignore[call-overload]
        node = self.nodes[self.index[track_id]] if track_id in self.index else None
        lines = [node_text(node) if node else f"Track {track_id}"]
        lines += self.reasons_for(track_id) or (
            ["the selected track"] if track_id == self.centre else []
        )
        return "\n".join(lines)

    def _clicked(self, _item: object, points: list[object], ev: object) -> None:
        if not points:
            return
        track_id = int(points[0].data())  # type: ignore[attr-defined]
        if getattr(ev, "double", lambda: False)():
            self.recentre(track_id)
        else:
            self.select_track(track_id)

    def _error(self, exc: BaseException) -> None:
        self.status.setText(f"Graph unavailable: {exc}")
        self.status.setToolTip(repr(exc))
        self.status.setAlignment(Qt.AlignmentFlag.AlignRight)
