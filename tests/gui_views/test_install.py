"""The contract with part 1: ``install(window)`` registers the three views and they follow the selection."""

from __future__ import annotations

import asyncio
from typing import Any

from backend.api.client import LibraryClient
from tests.gui_views.conftest import MIX_FILE, Library, run
from tracktion_gui.asyncutil import idle
from tracktion_gui.main_window import MainWindow


def test_views_are_registered_and_follow_the_library_selection(
    qloop: asyncio.AbstractEventLoop, library: Library, qtbot: Any
) -> None:
    window = MainWindow(LibraryClient(library.services))
    qtbot.addWidget(window)
    assert {"waveform", "mix", "graph"} <= set(window.views)
    views = window.extra_views
    try:
        assert run(qloop, idle(60))
        # Before any selection: the first analysed track and the first recording are shown.
        assert views.waveform.waveform.media is not None
        assert views.mix.media is not None and views.mix.media.track_id == library.ids[MIX_FILE]

        track_id = library.ids["b.flac"]
        window.track_selected.emit(track_id)
        assert run(qloop, idle(60))
        assert views.waveform.waveform.media.track_id == track_id
        assert views.graph.centre == track_id
        # A normal track does not replace the recording in the mix view.
        assert views.mix.media.track_id == library.ids[MIX_FILE]
        # graph.updated touching the shown neighbourhood redraws the graph (live update).
        from backend.messaging.contracts import GraphUpdated, new

        redrawn = asyncio.Event()
        views.graph.drawn.connect(redrawn.set)

        async def graph_event() -> None:
            await library.services.bus.publish([new(GraphUpdated(track_ids=(track_id,)))])
            await asyncio.wait_for(redrawn.wait(), 10)

        run(qloop, graph_event())
        assert views.graph.centre == track_id
        # Clicking a node in the graph selects that track in the library (the window's contract).
        other = next(n.id for n in views.graph.nodes if n.id != track_id)
        views.graph.select_track(other)
        assert run(qloop, idle(60))
        assert views.waveform.waveform.media.track_id == other
    finally:
        run(qloop, views.stop())
        window.close()
