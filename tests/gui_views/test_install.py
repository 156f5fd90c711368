"""The contract with part 1: ``install(window)`` registers the three views and they follow the selection.

The views are lazy (built on first show or when asked for with ``window.view(name)``); the window has
their sidebar entries from the start.
"""

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
    assert {"waveform", "mix", "graph"} <= set(window.sidebar.view_items)
    views = window.extra_views
    try:
        for name in ("waveform", "mix", "graph"):
            window.view(name)  # what the screenshot mode and a first show do
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


def test_views_are_built_on_first_show_with_the_selection_made_before(
    qloop: asyncio.AbstractEventLoop, library: Library, qtbot: Any
) -> None:
    from tracktion_gui.views.graph import GraphPage
    from tracktion_gui.views.mix import MixPage
    from tracktion_gui.views.waveform_page import WaveformPage

    window = MainWindow(LibraryClient(library.services))
    qtbot.addWidget(window)
    views = window.extra_views
    try:
        # Nothing of part 2 is built with the window: the sidebar entries are there, the views are not.
        assert not any(
            isinstance(w, WaveformPage | MixPage | GraphPage) for w in window.views.values()
        )
        track_id = library.ids["c.wav"]  # a normal track, selected while the views do not exist yet
        window.track_selected.emit(track_id)
        assert run(qloop, idle(60))

        window.show_view("waveform")
        assert isinstance(window.stack.currentWidget(), WaveformPage)
        assert window.current_view() == "waveform"
        window.show_view("mix")
        window.show_view("graph")
        assert run(qloop, idle(60))
        assert views.waveform.waveform.media.track_id == track_id
        assert views.graph.centre == track_id
        # The mix view was built after a normal track was selected: it shows the library's recording.
        assert views.mix.media is not None and views.mix.media.track_id == library.ids[MIX_FILE]
        assert window.view("waveform") is window.views["waveform"]  # built once
    finally:
        run(qloop, views.stop())
        window.close()
