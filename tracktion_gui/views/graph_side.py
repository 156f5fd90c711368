"""The side panel of the graph view: next-track suggestions and the set planner (A → B in N steps)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from backend.graph.port import SetPath, Suggestion, TrackNode


def node_text(node: TrackNode | None, *, short: bool = False) -> str:
    """ "Artist – Title · 124.0 BPM · 8A · E6" (or just the name, shortened, when short)."""
    if node is None:
        return "?"
    name = node_name(node)
    if short:
        return name if len(name) <= 28 else name[:27] + "…"
    return " · ".join([name, *node_facts(node)])


def node_name(node: TrackNode) -> str:
    name = node.title or f"Track {node.id}"
    return f"{node.artist} – {name}" if node.artist else name


def node_facts(node: TrackNode) -> list[str]:
    """Tempo, key and energy, those that are known."""
    facts = [f"{node.bpm:.1f} BPM" if node.bpm else "", node.camelot or ""]
    if node.energy is not None:
        facts.append(f"E{node.energy:.0f}")
    return [f for f in facts if f]


class GraphSidePanel(QWidget):
    """Suggestions list and set planner; emits what the user asks for, the page does the work."""

    open_track = Signal(int)
    plan_requested = Signal(int, int, object)  # a, b, steps (None = shortest)
    save_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.current = -1
        self.a = -1
        self.b = -1
        self.a_pinned = False  # A follows the selection until the user sets it
        self.names: dict[int, str] = {}
        self.suggestion_list = QListWidget()
        self.suggestion_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.suggestion_list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.suggestion_list.setAlternatingRowColors(True)
        self.suggestion_list.itemActivated.connect(self._activate)
        self.a_label = QLabel("A: –")
        self.b_label = QLabel("B: –")
        set_a = QPushButton("Selected → A")
        set_b = QPushButton("Selected → B")
        set_a.clicked.connect(self._pin_a)
        set_b.clicked.connect(lambda: self.set_ends(self.a, self.current))
        self.steps = QSpinBox()
        self.steps.setRange(0, 30)
        self.steps.setSpecialValueText("shortest")
        self.steps.setPrefix("")
        self.plan_button = QPushButton("Plan set")
        self.plan_button.clicked.connect(self._plan)
        self.path_list = QListWidget()
        self.path_list.itemActivated.connect(self._activate)
        self.save_button = QPushButton("Save as M3U8…")
        self.save_button.setEnabled(False)
        self.save_button.clicked.connect(self.save_requested)

        planner = QGroupBox("Set planner")
        grid = QVBoxLayout(planner)
        for label, button in ((self.a_label, set_a), (self.b_label, set_b)):
            row = QHBoxLayout()
            row.addWidget(label, 1)
            row.addWidget(button)
            grid.addLayout(row)
        row = QHBoxLayout()
        row.addWidget(QLabel("Steps"))
        row.addWidget(self.steps)
        row.addWidget(self.plan_button)
        grid.addLayout(row)
        grid.addWidget(self.path_list, 1)
        grid.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("<b>Next-track suggestions</b>"))
        layout.addWidget(self.suggestion_list, 1)
        layout.addWidget(planner, 1)

    def set_current(self, track_id: int) -> None:
        self.current = track_id
        if not self.a_pinned:
            self.set_ends(track_id, self.b)

    def _pin_a(self) -> None:
        self.a_pinned = True
        self.set_ends(self.current, self.b)

    def set_ends(self, a: int, b: int) -> None:
        self.a, self.b = a, b
        self.refresh_names()

    def refresh_names(self, names: dict[int, str] | None = None) -> None:
        """Show A and B by name once the graph knows them."""
        self.names.update(names or {})
        for label, end, track_id in ((self.a_label, "A", self.a), (self.b_label, "B", self.b)):
            name = self.names.get(track_id, f"track {track_id}") if track_id >= 0 else "–"
            label.setText(f"{end}: {name}")

    def show_suggestions(self, suggestions: list[Suggestion]) -> None:
        self.suggestion_list.clear()
        for s in suggestions:
            # Two lines (name, then the facts and the match) so a narrow panel needs no side-scrolling.
            facts = [*node_facts(s.track), f"match {s.score:.0%}"]
            item = QListWidgetItem(f"{node_name(s.track)}\n{' · '.join(facts)}")
            item.setData(Qt.ItemDataRole.UserRole, s.track.id)
            item.setToolTip("\n".join(s.reasons))
            self.suggestion_list.addItem(item)

    def show_path(self, path: SetPath | None) -> None:
        self.path_list.clear()
        self.save_button.setEnabled(path is not None)
        if path is None:
            self.path_list.addItem("No mixable path")
            return
        reasons = ["start", *("; ".join(h.reasons) or h.kind for h in path.hops)]
        for i, (track, why) in enumerate(zip(path.tracks, reasons, strict=False)):
            item = QListWidgetItem(f"{i + 1}. {node_text(track)}")
            item.setData(Qt.ItemDataRole.UserRole, track.id)
            item.setToolTip(why)
            self.path_list.addItem(item)

    def _plan(self) -> None:
        if self.a >= 0 and self.b >= 0:
            self.plan_requested.emit(self.a, self.b, self.steps.value() or None)

    def _activate(self, item: QListWidgetItem) -> None:
        track_id = item.data(Qt.ItemDataRole.UserRole)
        if track_id is not None:
            self.open_track.emit(int(track_id))
