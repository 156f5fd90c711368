"""The waveform widget: an overview of the whole track over a zoomed view (pyqtgraph).

Both views draw the precomputed levels of ``backend.api.media.WaveformData`` as one image each. The zoomed
view picks the level whose bin size fits the visible seconds per pixel and renders only the visible bins,
on a coalescing timer (never per mouse event), so zooming a 3-hour mix costs the same as a 3-minute track.
Beats are drawn as one line item (clipped to the view), cues as draggable lines, the playhead as a line.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

from backend.api.media import Cue, TrackMedia, WaveformData, WaveLevel
from tracktion_gui.views.waveform_render import render_columns, visible_beats

CUE_COLOURS = {
    "site": "#ffcc33",
    "aligned": "#ff9933",
    "user": "#33ddff",
    "cue": "#ffffff",
}
PLAYHEAD = "#ff3355"
# Beat lines are drawn only when they are at least this many pixels apart (else bars only, else none).
MIN_BEAT_SPACING_PX = 5.0


class SeekViewBox(pg.ViewBox):  # type: ignore[misc]
    """A time-axis view box: left click or drag seeks, the wheel zooms in time only."""

    seek = Signal(float)

    def __init__(self) -> None:
        super().__init__(enableMenu=False)
        self.setMouseEnabled(x=True, y=False)

    def mouseClickEvent(self, ev: object) -> None:
        if ev.button() == Qt.MouseButton.LeftButton:  # type: ignore[attr-defined]
            ev.accept()  # type: ignore[attr-defined]
            self.seek.emit(float(self.mapSceneToView(ev.scenePos()).x()))  # type: ignore[attr-defined]
        else:
            super().mouseClickEvent(ev)

    def mouseDragEvent(self, ev: object, axis: int | None = None) -> None:
        if ev.button() == Qt.MouseButton.LeftButton:  # type: ignore[attr-defined]
            ev.accept()  # type: ignore[attr-defined]
            self.seek.emit(float(self.mapSceneToView(ev.scenePos()).x()))  # type: ignore[attr-defined]
        else:
            super().mouseDragEvent(ev, axis)


def _plot(viewbox: SeekViewBox, height: int | None) -> pg.PlotWidget:
    plot = pg.PlotWidget(viewBox=viewbox)
    plot.setBackground("#15161a")
    plot.hideAxis("left")
    plot.setYRange(-1.05, 1.05, padding=0)
    plot.getPlotItem().setContentsMargins(0, 0, 0, 0)
    if height is not None:
        plot.setFixedHeight(height)
    return plot


def fmt_time(seconds: float, decimals: int = 0) -> str:
    """m:ss, or h:mm:ss past an hour (with ``decimals`` digits of the second when zoomed in)."""
    whole = max(0, int(seconds))
    h, rem = divmod(whole, 3600)
    text = f"{h}:{rem // 60:02d}:{rem % 60:02d}" if h else f"{rem // 60}:{rem % 60:02d}"
    if decimals > 0:
        frac = max(0.0, seconds) - whole
        text += f"{frac:.{decimals}f}"[1:]
    return text


class TimeAxis(pg.AxisItem):  # type: ignore[misc]
    def tickStrings(self, values: Sequence[float], scale: float, spacing: float) -> list[str]:
        decimals = 0 if spacing >= 1 else (1 if spacing >= 0.1 else 2)
        return [fmt_time(v, decimals) for v in values]


class WaveformView(QWidget):
    """Overview + zoomed coloured waveform with beat grid, cue markers and a playhead."""

    seek_requested = Signal(float)
    cue_moved = Signal(object, float)  # (Cue, new position in seconds)

    def __init__(self, parent: QWidget | None = None, *, cues_editable: bool = True) -> None:
        super().__init__(parent)
        self.cues_editable = cues_editable
        self.media: TrackMedia | None = None
        self.waveform: WaveformData | None = None
        self.beats = np.zeros(0)
        self.bar_phase = 0
        self.cues: tuple[Cue, ...] = ()
        self.playhead_s = 0.0
        self.rendered_level: WaveLevel | None = (
            None  # the level of the last zoomed render (tests, bench)
        )
        self.render_count = 0

        self.overview_box = SeekViewBox()
        self.overview_box.setMouseEnabled(x=False, y=False)
        self.overview = _plot(self.overview_box, 70)
        self.overview.hideAxis("bottom")
        self.zoom_box = SeekViewBox()
        self.zoom = _plot(self.zoom_box, None)
        self.zoom.setAxisItems({"bottom": TimeAxis("bottom")})
        self.zoom.setMinimumHeight(150)

        self.overview_image = pg.ImageItem(axisOrder="row-major")
        self.zoom_image = pg.ImageItem(axisOrder="row-major")
        self.overview.addItem(self.overview_image)
        self.zoom.addItem(self.zoom_image)
        self.bar_lines = pg.PlotCurveItem(
            pen=pg.mkPen(255, 255, 255, 150, width=1), connect="pairs"
        )
        self.beat_lines = pg.PlotCurveItem(
            pen=pg.mkPen(255, 255, 255, 55, width=1), connect="pairs"
        )
        self.zoom.addItem(self.beat_lines)
        self.zoom.addItem(self.bar_lines)
        self.region = pg.LinearRegionItem(brush=pg.mkBrush(255, 255, 255, 35), movable=True)
        self.region.setZValue(5)
        self.overview.addItem(self.region)
        self.zoom_playhead = pg.InfiniteLine(0, pen=pg.mkPen(PLAYHEAD, width=2), movable=False)
        self.overview_playhead = pg.InfiniteLine(0, pen=pg.mkPen(PLAYHEAD, width=1), movable=False)
        for line in (self.zoom_playhead, self.overview_playhead):
            line.setZValue(20)
        self.zoom.addItem(self.zoom_playhead)
        self.overview.addItem(self.overview_playhead)
        self.message = pg.TextItem("", color="#aaaaaa", anchor=(0.5, 0.5))
        self.zoom.addItem(self.message)
        self.cue_items: list[tuple[pg.InfiniteLine, pg.InfiniteLine, Cue]] = []

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.overview)
        layout.addWidget(self.zoom, 1)

        # One coalescing timer: range changes and resizes only mark the view dirty.
        self._redraw = QTimer(self, singleShot=True, interval=0)
        self._redraw.timeout.connect(self.redraw_zoom)
        self.zoom_box.sigXRangeChanged.connect(self._range_changed)
        self.zoom_box.sigResized.connect(self._schedule)
        self.overview_box.sigResized.connect(self.redraw_overview)
        self.region.sigRegionChanged.connect(self._region_moved)
        self.zoom_box.seek.connect(self.seek_requested)
        self.overview_box.seek.connect(self.seek_requested)
        self._syncing = False
        self.set_media(None)

    def reserve_left_axis(self, width: int) -> None:
        """Line the time axis up with plots below that have a left axis of ``width`` pixels."""
        for plot in (self.overview, self.zoom):
            plot.showAxis("left")
            axis = plot.getAxis("left")
            axis.setWidth(width)
            axis.setStyle(showValues=False)
            axis.setTicks([[]])

    # ---- data ------------------------------------------------------------------------------------------

    def set_media(self, media: TrackMedia | None, message: str | None = None) -> None:
        """Show a track (or a message when there is nothing to draw)."""
        self.media = media
        self.waveform = media.waveform if media is not None else None
        self.beats = media.beats if media is not None else np.zeros(0)
        self.bar_phase = media.bar_phase if media is not None else 0
        duration = self.duration_s
        self._syncing = True
        self.overview_box.setLimits(xMin=0, xMax=max(duration, 1.0))
        self.overview_box.setXRange(0, max(duration, 1.0), padding=0)
        self.zoom_box.setLimits(xMin=0, xMax=max(duration, 1.0), minXRange=0.5)
        self.region.setBounds((0, max(duration, 1.0)))
        self._syncing = False
        span = min(duration, 16.0) if duration > 0 else 1.0
        self.set_visible_range(0.0, span)
        self.set_cues(media.cues if media is not None else ())
        self.set_playhead(0.0)
        if message is None:
            if media is None:
                message = "No track selected"
            elif self.waveform is None:
                message = "Waiting for analysis…" if media.status != "error" else "Analysis failed"
        self.message.setText(message or "")
        self.message.setVisible(bool(message))
        self.redraw_overview()
        self.redraw_zoom()

    @property
    def duration_s(self) -> float:
        if self.media is not None and self.media.duration_s > 0:
            return self.media.duration_s
        return self.waveform.duration_s if self.waveform is not None else 0.0

    def set_cues(self, cues: Sequence[Cue]) -> None:
        """Replace the cue markers (draggable in the zoomed view when editable)."""
        for zoom_line, over_line, _ in self.cue_items:
            self.zoom.removeItem(zoom_line)
            self.overview.removeItem(over_line)
        self.cue_items = []
        self.cues = tuple(cues)
        for cue in self.cues:
            colour = CUE_COLOURS.get(cue.source, "#ffffff")
            zoom_line = pg.InfiniteLine(
                cue.position_s,
                pen=pg.mkPen(colour, width=2),
                hoverPen=pg.mkPen(colour, width=4),
                movable=self.cues_editable,
                label=(cue.label or "")[:28],
                labelOpts={"position": 0.92, "color": colour, "anchors": [(0, 0), (0, 0)]},
            )
            zoom_line.setZValue(10)
            zoom_line.sigPositionChangeFinished.connect(
                lambda line, c=cue: self.cue_moved.emit(c, float(line.value()))
            )
            over_line = pg.InfiniteLine(cue.position_s, pen=pg.mkPen(colour, width=1))
            self.zoom.addItem(zoom_line)
            self.overview.addItem(over_line)
            self.cue_items.append((zoom_line, over_line, cue))

    def set_playhead(self, seconds: float, *, follow: bool = False) -> None:
        """Move the playhead; with ``follow`` the zoomed view pages along when it leaves the view."""
        self.playhead_s = float(seconds)
        self.zoom_playhead.setValue(self.playhead_s)
        self.overview_playhead.setValue(self.playhead_s)
        if follow:
            t0, t1 = self.visible_range()
            if not t0 <= self.playhead_s <= t1:
                span = t1 - t0
                self.set_visible_range(self.playhead_s - span * 0.1, self.playhead_s + span * 0.9)

    def set_visible_range(self, t0: float, t1: float) -> None:
        self.zoom_box.setXRange(t0, t1, padding=0)

    def visible_range(self) -> tuple[float, float]:
        (t0, t1), _ = self.zoom_box.viewRange()
        return float(t0), float(t1)

    # ---- drawing ---------------------------------------------------------------------------------------

    def _schedule(self, *_: object) -> None:
        self._redraw.start()

    def _range_changed(self, *_: object) -> None:
        t0, t1 = self.visible_range()
        if not self._syncing:
            self._syncing = True
            self.region.setRegion((t0, t1))
            self._syncing = False
        self._schedule()

    def _region_moved(self) -> None:
        if self._syncing:
            return
        t0, t1 = self.region.getRegion()
        self._syncing = True
        self.set_visible_range(float(t0), float(t1))
        self._syncing = False

    def _pixels(self, box: pg.ViewBox) -> tuple[int, int]:
        rect = box.sceneBoundingRect()
        return max(1, int(rect.width())), max(2, int(rect.height()))

    def redraw_overview(self) -> None:
        if self.waveform is None:
            self.overview_image.clear()
            return
        width, height = self._pixels(self.overview_box)
        duration = self.duration_s
        level = self.waveform.level_for(duration / width)
        self.overview_image.setImage(
            render_columns(level, 0.0, duration, width, height), autoLevels=False, levels=(0, 255)
        )
        self.overview_image.setRect(QRectF(0.0, -1.0, duration, 2.0))

    def redraw_zoom(self) -> None:
        """Render the visible range from the level that fits it, then the beat grid."""
        t0, t1 = self.visible_range()
        self.message.setPos(QPointF((t0 + t1) / 2, 0.0))
        width, height = self._pixels(self.zoom_box)
        if self.waveform is None:
            self.zoom_image.clear()
        else:
            level = self.waveform.level_for((t1 - t0) / width)
            self.rendered_level = level
            self.zoom_image.setImage(
                render_columns(level, t0, t1, width, height), autoLevels=False, levels=(0, 255)
            )
            self.zoom_image.setRect(QRectF(t0, -1.0, t1 - t0, 2.0))
            self.render_count += 1
        self._draw_beats(t0, t1, width)

    def _draw_beats(self, t0: float, t1: float, width: int) -> None:
        beats = visible_beats(self.beats, t0, t1)
        px_per_beat = width / max(len(beats), 1)
        shown_beats = beats if px_per_beat >= MIN_BEAT_SPACING_PX else beats[:0]
        bars = beats[:0]
        if px_per_beat * 4 >= MIN_BEAT_SPACING_PX:  # every 4th beat from the first downbeat
            first = int(np.searchsorted(self.beats, t0))
            bars = beats[(self.bar_phase - first) % 4 :: 4]
        for item, xs in ((self.beat_lines, shown_beats), (self.bar_lines, bars)):
            y = np.empty(2 * len(xs))
            y[0::2], y[1::2] = -1.0, 1.0
            item.setData(np.repeat(xs, 2), y)

    @property
    def shown_beats(self) -> int:
        """Number of beat lines currently drawn (tests)."""
        x, _ = self.beat_lines.getData()
        return 0 if x is None else len(x) // 2
