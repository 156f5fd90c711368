"""Part 2 of the app: installs the waveform, mix and graph views into the main window.

``install(window)`` is called by the main window at start-up (the contract with part 1): it creates the
views, registers them as "waveform", "mix" and "graph", makes them follow ``window.track_selected`` and
subscribes them to the live events (track.analyzed, tracklist.*, graph.updated). Until the user selects
something, the views show the first analysed track and the first recording of the library, so a fresh
window (and ``tracktion gui --screenshot``) never shows three empty panes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject

from backend.api import media
from tracktion_gui.asyncutil import spawn
from tracktion_gui.views.extra_media import MediaController
from tracktion_gui.views.graph import GraphPage
from tracktion_gui.views.mix import MixPage
from tracktion_gui.views.waveform_page import WaveformPage


@dataclass
class ExtraViews:
    """The part-2 views of one window (kept on the window so nothing is garbage-collected)."""

    controller: MediaController
    mix_controller: MediaController
    waveform: WaveformPage
    mix: MixPage
    graph: GraphPage

    def select(self, track_id: int) -> None:
        self.controller.select(track_id)
        self.mix_controller.select(track_id)
        self.graph.set_track(track_id)

    async def start(self) -> None:
        """Subscribe to live events, then show defaults if nothing is selected yet."""
        await self.controller.start_events()
        await self.mix_controller.start_events()
        track_id, mix_id = await media.default_tracks(self.controller.services)
        if self.controller.track_id < 0 and track_id is not None:
            self.controller.select(track_id)
            if self.graph.centre < 0:
                self.graph.set_track(track_id)
        if self.mix_controller.track_id < 0 and mix_id is not None:
            self.mix_controller.select(mix_id)

    async def stop(self) -> None:
        await self.controller.stop_events()
        await self.mix_controller.stop_events()
        self.controller.player.stop()
        self.mix_controller.player.stop()


def install(window: Any) -> ExtraViews:
    """Create and register the waveform, mix and graph views on ``window`` (a MainWindow)."""
    services = window.client.services
    parent = window if isinstance(window, QObject) else None
    controller = MediaController(services, parent)
    mix_controller = MediaController(services, parent, mixes_only=True)
    waveform = WaveformPage(controller)
    mix = MixPage(mix_controller, window.select_track)
    graph = GraphPage(services, window.select_track)
    views = ExtraViews(controller, mix_controller, waveform, mix, graph)
    # One preview at a time: starting one player pauses the other.
    for a, b in ((controller, mix_controller), (mix_controller, controller)):
        a.player.playing_changed.connect(
            lambda on, other=b: other.player.pause() if on and other.player.playing else None
        )
    controller.graph_changed.connect(graph.graph_changed)
    window.track_selected.connect(views.select)
    window.register_view("waveform", waveform, "Waveform")
    window.register_view("mix", mix, "Mix")
    window.register_view("graph", graph, "Graph")
    window.extra_views = views
    spawn(views.start(), "extra-views-start")
    return views
