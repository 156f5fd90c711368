"""Tempo, key and energy timelines of a long recording, drawn under its waveform with the same time axis."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QBrush

from backend.api.media import TimelineSegment
from tracktion_gui.views.graph_style import camelot_colour


def merge_keys(segments: Sequence[TimelineSegment]) -> list[tuple[float, float, str | None]]:
    """Consecutive windows with the same key as one span (fewer items, readable labels)."""
    spans: list[tuple[float, float, str | None]] = []
    for seg in segments:
        if spans and spans[-1][2] == seg.camelot and abs(spans[-1][1] - seg.start_s) < 1.0:
            spans[-1] = (spans[-1][0], seg.end_s, seg.camelot)
        else:
            spans.append((seg.start_s, seg.end_s, seg.camelot))
    return spans


class Timelines(pg.GraphicsLayoutWidget):  # type: ignore[misc]
    """Three stacked rows: BPM (step line), key (coloured spans), energy (filled steps)."""

    AXIS_WIDTH = 44  # the waveform above reserves the same, so the time axes line up

    def __init__(self, parent: object = None) -> None:
        super().__init__(parent)
        self.setBackground("#15161a")
        self.setFixedHeight(170)
        # No margins anywhere: the plot areas must start at the same pixel as the waveform's above.
        self.ci.layout.setContentsMargins(0, 0, 0, 0)
        self.ci.layout.setSpacing(0)
        self.tempo = self.addPlot(row=0, col=0)
        self.key = self.addPlot(row=1, col=0)
        self.energy = self.addPlot(row=2, col=0)
        for plot, name in ((self.tempo, "BPM"), (self.key, "Key"), (self.energy, "Energy")):
            plot.hideAxis("bottom")
            plot.setMouseEnabled(x=False, y=False)
            plot.setMenuEnabled(False)
            plot.getAxis("left").setWidth(self.AXIS_WIDTH)
            plot.setLabel("left", name)
            plot.hideButtons()
            plot.setContentsMargins(0, 2, 0, 2)
        self.key.getAxis("left").setStyle(showValues=False)
        self.key.setYRange(0, 1, padding=0)
        self.energy.getAxis("left").setTicks([[(0, "0"), (5, "5"), (10, "10")]])
        self.energy.setYRange(0, 10.5, padding=0)
        self.tempo_curve = pg.PlotDataItem(pen=pg.mkPen("#66ccff", width=2), stepMode="center")
        self.energy_curve = pg.PlotDataItem(
            pen=pg.mkPen("#ffaa33", width=1.5),
            stepMode="center",
            fillLevel=0,
            brush=pg.mkBrush(255, 170, 51, 70),
        )
        self.tempo.addItem(self.tempo_curve)
        self.energy.addItem(self.energy_curve)
        self.key_bars: pg.BarGraphItem | None = None
        self.key_labels: list[pg.TextItem] = []
        self.segments: tuple[TimelineSegment, ...] = ()

    def link_to(self, plot: pg.PlotWidget) -> None:
        """Follow the waveform's zoomed time axis."""
        for row in (self.tempo, self.key, self.energy):
            row.setXLink(plot.getPlotItem())

    def set_segments(self, segments: Sequence[TimelineSegment]) -> None:
        self.segments = tuple(segments)
        if self.key_bars is not None:
            self.key.removeItem(self.key_bars)
            self.key_bars = None
        for label in self.key_labels:
            self.key.removeItem(label)
        self.key_labels = []
        if not segments:
            self.tempo_curve.setData([], [])
            self.energy_curve.setData([], [])
            return
        edges = np.array([s.start_s for s in segments] + [segments[-1].end_s])
        bpm = np.array([s.bpm if s.bpm else np.nan for s in segments], dtype=float)
        energy = np.array([s.energy if s.energy is not None else 0.0 for s in segments])
        # Unknown tempo windows (breakdowns) hold the previous value so the line stays readable.
        for i in range(1, len(bpm)):
            if np.isnan(bpm[i]):
                bpm[i] = bpm[i - 1]
        bpm = np.nan_to_num(bpm, nan=float(np.nanmean(bpm)) if np.isfinite(bpm).any() else 0.0)
        self.tempo_curve.setData(edges, bpm)
        if np.isfinite(bpm).any() and bpm.max() > 0:
            low, high = float(bpm.min()), float(bpm.max())
            self.tempo.setYRange(low - 3, high + 3, padding=0)
            # Two labels (slowest, fastest) stay readable in a 40-pixel row.
            ticks = sorted({round(low), round(high)})
            self.tempo.getAxis("left").setTicks([[(t, str(t)) for t in ticks]])
        self.energy_curve.setData(edges, energy)
        spans = merge_keys(segments)
        x0 = np.array([s[0] for s in spans])
        width = np.array([s[1] - s[0] for s in spans])
        brushes = [QBrush(camelot_colour(s[2])) for s in spans]
        self.key_bars = pg.BarGraphItem(
            x0=x0, width=width, y0=0.1, height=0.8, brushes=brushes, pen=pg.mkPen("#15161a")
        )
        self.key.addItem(self.key_bars)
        for start, _end, code in spans:
            label = pg.TextItem(" " + (code or "?"), color="#101010", anchor=(0, 0.5))
            label.setPos(start, 0.5)
            self.key.addItem(label)
            self.key_labels.append(label)
