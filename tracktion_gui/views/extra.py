"""Part 2 of the app: installs the waveform, mix and graph views into the main window.

``install(window)`` is called by the main window at start-up (the contract with part 1). It registers
"waveform", "mix" and "graph" as lazy views: their sidebar entries exist at once, but each view — and
pyqtgraph and Qt Multimedia behind it — is built the first time it is shown or asked for
(``window.view(name)``: the screenshot mode, the self-test and the tests), so none of it costs start-up time.

A built view follows ``window.track_selected`` and the live events (track.analyzed, tracklist.*,
graph.updated). The selection made before a view was built is applied when it is built; until the user
selects something, the views show the first analysed track and the first recording of the library, so a
fresh window (and ``tracktion gui --screenshot``) never shows an empty pane.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QWidget

from tracktion_gui.asyncutil import spawn

if TYPE_CHECKING:
    from tracktion_gui.views.extra_media import MediaController
    from tracktion_gui.views.graph import GraphPage
    from tracktion_gui.views.mix import MixPage
    from tracktion_gui.views.waveform_page import WaveformPage


class ExtraViews:
    """The part-2 views of one window, each built on first use (kept on the window: nothing is collected).

    Two media controllers: the waveform's (which also relays graph events to the graph view) follows every
    selection; the mix view's keeps showing the last selected recording.
    """

    def __init__(self, window: Any) -> None:
        self.window = window
        self.services = window.client.services
        self.selected = -1  # the library's selection, applied to views built later
        self._controller: MediaController | None = None
        self._mix_controller: MediaController | None = None
        self._graph: GraphPage | None = None

    # ---- the views (built on first access) -------------------------------------------------------------

    @property
    def waveform(self) -> WaveformPage:
        return self.window.view("waveform")  # type: ignore[no-any-return]

    @property
    def mix(self) -> MixPage:
        return self.window.view("mix")  # type: ignore[no-any-return]

    @property
    def graph(self) -> GraphPage:
        return self.window.view("graph")  # type: ignore[no-any-return]

    @property
    def controller(self) -> MediaController:
        if self._controller is None:
            self._controller = self._new_controller(mixes_only=False)
        return self._controller

    @property
    def mix_controller(self) -> MediaController:
        if self._mix_controller is None:
            self._mix_controller = self._new_controller(mixes_only=True)
        return self._mix_controller

    def build_waveform(self) -> QWidget:
        from tracktion_gui.views.waveform_page import WaveformPage

        return WaveformPage(self.controller)

    def build_mix(self) -> QWidget:
        from tracktion_gui.views.mix import MixPage

        return MixPage(self.mix_controller, self.window.select_track)

    def build_graph(self) -> QWidget:
        from tracktion_gui.views.graph import GraphPage

        graph = GraphPage(self.services, self.window.select_track)
        self._graph = graph
        # graph.updated reaches the graph through the waveform's controller (one subscription).
        self.controller.graph_changed.connect(graph.graph_changed)
        spawn(self._centre_graph(graph), "extra-views-graph")
        return graph

    # ---- selection and lifetime ------------------------------------------------------------------------

    def select(self, track_id: int) -> None:
        self.selected = track_id
        for controller in (self._controller, self._mix_controller):
            if controller is not None:
                controller.select(track_id)
        if self._graph is not None:
            self._graph.set_track(track_id)

    async def stop(self) -> None:
        for controller in (self._controller, self._mix_controller):
            if controller is not None:
                await controller.stop_events()
                controller.player.stop()

    def _new_controller(self, *, mixes_only: bool) -> MediaController:
        from tracktion_gui.views.extra_media import MediaController

        parent = self.window if isinstance(self.window, QObject) else None
        controller = MediaController(self.services, parent, mixes_only=mixes_only)
        # One preview at a time: starting one player pauses the other (once both exist).
        other = self._mix_controller if not mixes_only else self._controller
        if other is not None:
            for a, b in ((controller, other), (other, controller)):
                a.player.playing_changed.connect(
                    lambda on, b=b: b.player.pause() if on and b.player.playing else None
                )
        spawn(self._start(controller), "extra-views-start")
        return controller

    async def _start(self, controller: MediaController) -> None:
        """Subscribe to live events, then show the selection, or the defaults if there is none (yet)."""
        from backend.api import media

        await self.services.connected()  # the app shows the window while the services connect
        await controller.start_events()
        if self.selected >= 0:
            controller.select(self.selected)
            await controller.loaded()
        if controller.track_id >= 0:
            return
        track_id, mix_id = await media.default_tracks(self.services)
        default = mix_id if controller.mixes_only else track_id
        if controller.track_id < 0 and default is not None:
            controller.select(default)

    async def _centre_graph(self, graph: GraphPage) -> None:
        from backend.api import media

        if self.selected >= 0:
            graph.set_track(self.selected)
            return
        track_id, _mix = await media.default_tracks(self.services)
        if graph.centre < 0 and track_id is not None:
            graph.set_track(track_id)


def install(window: Any) -> ExtraViews:
    """Register the waveform, mix and graph views on ``window`` (a MainWindow); each is built on first use."""
    views = ExtraViews(window)
    window.track_selected.connect(views.select)
    window.register_lazy_view("waveform", views.build_waveform, "Waveform")
    window.register_lazy_view("mix", views.build_mix, "Mix")
    window.register_lazy_view("graph", views.build_graph, "Graph")
    window.extra_views = views
    return views
