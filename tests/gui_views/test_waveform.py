"""The waveform view on a real analysed library: beats, cues, seeking, cue edits, live updates."""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from sqlalchemy import select

from backend.db.models import CuePoint
from tests.gui_views.conftest import Library, run, snapshot
from tracktion_gui.asyncutil import idle
from tracktion_gui.views.extra_media import MediaController
from tracktion_gui.views.waveform_page import WaveformPage


async def add_cues(library: Library, track_id: int, *positions: float) -> None:
    async with library.services.db.unit_of_work() as session:
        session.add_all(
            CuePoint(
                track_id=track_id, position_s=p, kind="cue", label=f"Cue {i + 1}", source="user"
            )
            for i, p in enumerate(positions)
        )


async def settle() -> None:
    assert await idle(60), "view loads did not finish"


@pytest.fixture
def page(qloop: asyncio.AbstractEventLoop, library: Library, qtbot: Any) -> Any:
    controller = MediaController(library.services)
    view = WaveformPage(controller)
    qtbot.addWidget(view)
    view.resize(1000, 360)
    view.show()
    qtbot.waitExposed(view)
    yield view
    controller.player.stop()


def show(qloop: asyncio.AbstractEventLoop, page: Any, track_id: int) -> None:
    page.controller.select(track_id)
    run(qloop, settle())
    page.waveform.redraw_zoom()


def click_at(qtbot: Any, plot: Any, seconds: float) -> None:
    """A real left click on the plot where ``seconds`` is drawn."""
    scene = plot.getPlotItem().getViewBox().mapViewToScene(QPointF(seconds, 0.2))
    qtbot.mouseClick(plot.viewport(), Qt.MouseButton.LeftButton, pos=plot.mapFromScene(scene))


def test_waveform_shows_beats_and_cues(
    qloop: asyncio.AbstractEventLoop, library: Library, page: Any
) -> None:
    track_id = library.ids["a.flac"]  # 124 BPM
    run(qloop, add_cues(library, track_id, 4.0, 12.5))  # inside the first 16 s shown
    show(qloop, page, track_id)
    view = page.waveform
    assert view.waveform is not None, page.header.text()
    assert "BPM" in page.header.text() and "Ava Lund" in page.header.text()
    # The beat grid: lines about 60/124 s apart over the whole visible range.
    t0, t1 = view.visible_range()
    x, _ = view.beat_lines.getData()
    lines = np.asarray(x[::2])
    assert len(lines) == pytest.approx((t1 - t0) * 124.0 / 60.0, abs=3)
    assert np.median(np.diff(lines)) == pytest.approx(60.0 / 124.0, rel=0.03)
    assert lines.min() >= t0 and lines.max() <= t1
    # Bars (every 4th beat) are drawn brighter, on beats.
    bars, _ = view.bar_lines.getData()
    assert len(bars) // 2 == pytest.approx(len(lines) / 4, abs=1)
    # Cue markers at the stored positions.
    assert sorted(round(c.position_s, 2) for c in view.cues) == [4.0, 12.5]
    assert [round(line.value(), 2) for line, _o, _c in view.cue_items] == [4.0, 12.5]
    # Something is painted: the zoomed image has opaque waveform pixels in most columns.
    image = view.zoom_image.image
    assert image is not None and (image[..., 3] > 0).any(axis=0).mean() > 0.8
    snapshot(page, "waveform-cues")


def test_zoom_picks_a_finer_level_without_recomputing(
    qloop: asyncio.AbstractEventLoop, library: Library, page: Any
) -> None:
    show(qloop, page, library.ids["recording.flac"])
    view = page.waveform
    waveform = view.waveform
    assert waveform is not None and len(waveform.levels) >= 2
    view.set_visible_range(0.0, view.duration_s)
    view.redraw_zoom()
    coarse = view.rendered_level
    view.set_visible_range(30.0, 32.0)
    view.redraw_zoom()
    fine = view.rendered_level
    assert coarse is not None and fine is not None
    assert fine.seconds_per_bin < coarse.seconds_per_bin
    # Both are levels stored by the analysis: picked, never resampled.
    assert any(fine is level for level in waveform.levels)
    assert any(coarse is level for level in waveform.levels)


def test_click_seeks_and_moves_the_playhead(
    qloop: asyncio.AbstractEventLoop, library: Library, page: Any, qtbot: Any
) -> None:
    track_id = library.ids["b.flac"]
    run(qloop, add_cues(library, track_id, 6.0, 18.0))
    show(qloop, page, track_id)
    view = page.waveform
    click_at(qtbot, view.zoom, 10.0)
    assert view.playhead_s == pytest.approx(10.0, abs=0.3)
    assert page.controller.player.position() == pytest.approx(10.0, abs=0.3)
    assert view.zoom_playhead.value() == pytest.approx(10.0, abs=0.3)
    # The overview seeks too (anywhere in the track).
    click_at(qtbot, view.overview, 20.0)
    assert view.playhead_s == pytest.approx(20.0, abs=0.5)
    # Cue-to-cue: previous cue from 20 s is 18 s, then 6 s; next from there is 18 s.
    qtbot.mouseClick(page.bar.prev_button, Qt.MouseButton.LeftButton)
    assert view.playhead_s == pytest.approx(18.0)
    qtbot.mouseClick(page.bar.prev_button, Qt.MouseButton.LeftButton)
    assert view.playhead_s == pytest.approx(6.0)
    qtbot.mouseClick(page.bar.next_button, Qt.MouseButton.LeftButton)
    assert view.playhead_s == pytest.approx(18.0)
    assert "0:18" in page.bar.time_label.text()


def test_dragging_a_cue_stores_it_as_a_user_cue(
    qloop: asyncio.AbstractEventLoop, library: Library, page: Any
) -> None:
    track_id = library.ids["c.wav"]
    run(qloop, add_cues(library, track_id, 8.0))
    show(qloop, page, track_id)
    line, _over, cue = page.waveform.cue_items[0]
    line.setValue(9.25)
    line.sigPositionChangeFinished.emit(line)  # what the end of a mouse drag emits
    run(qloop, settle())

    async def stored() -> list[tuple[float, str]]:
        async with library.services.db.read() as session:
            rows = await session.scalars(select(CuePoint).where(CuePoint.id == cue.cue_id))
            return [(r.position_s, r.source) for r in rows]

    assert run(qloop, stored()) == [(pytest.approx(9.25), "user")]
    assert [round(c.position_s, 2) for c in page.waveform.cues] == [9.25]


def test_selection_cancels_the_previous_load_and_live_events_reload(
    qloop: asyncio.AbstractEventLoop, library: Library, page: Any
) -> None:
    from backend.messaging.contracts import TracksUpdated, new

    first, second = library.ids["d.flac"], library.ids["e.wav"]
    controller = page.controller
    controller.select(first)
    first_task = controller._load.task
    controller.select(second)
    run(qloop, settle())
    assert first_task is not None and first_task.cancelled()
    assert page.waveform.media is not None and page.waveform.media.track_id == second

    # A change to the shown track (here: a new cue + the catalog's event) updates the view in place.
    # (track.updated rather than track.analyzed: no worker consumes it, so the bus stays idle.)
    run(qloop, controller.start_events())
    try:
        run(qloop, add_cues(library, second, 3.0))
        event = new(TracksUpdated(track_ids=(second,)))
        run(qloop, library.services.bus.publish([event]))
        run(qloop, settle())
        assert [c.position_s for c in page.waveform.cues] == [3.0]
    finally:
        run(qloop, controller.stop_events())
