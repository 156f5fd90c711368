"""The open window re-themes with the system and the appearance setting; live updates keep the user's place."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette

from tests.gui.conftest import make_music, rows_become
from tests.gui.test_library_app import add_library, row_of, shown_titles
from tracktion_gui.asyncutil import qt_turn
from tracktion_gui.dialogs.settings import SettingsDialog
from tracktion_gui.models.columns import INDEX

embedded_only = pytest.mark.parametrize("open_window", ["embedded"], indirect=True)


def key_cell_lightness(window: Any, title: str) -> int:
    """Lightness of the painted Camelot cell of ``title``'s row, read from a real paint of the table."""
    table = window.library.table
    index = window.library.model.index(row_of(window, title), INDEX["key"])
    rect = table.visualRect(index)
    image = table.viewport().grab().toImage()
    return int(image.pixelColor(rect.left() + 2, rect.top() + 2).lightness())


async def window_lightness(window: Any) -> int:
    await qt_turn()  # the new palette reaches the widgets through posted events
    return int(window.palette().color(QPalette.ColorRole.Window).lightness())


@embedded_only
async def test_the_open_window_follows_the_system_scheme_and_the_setting(
    open_window: Any, qapp: Any, tmp_path: Path
) -> None:
    async with open_window() as window:
        await add_library(window, tmp_path / "music")
        await shown_titles(window)
        window.library.table.clearSelection()
        hints = qapp.styleHints()
        # What the platform sends when the user flips the system's dark/light preference.
        hints.colorSchemeChanged.emit(Qt.ColorScheme.Dark)
        dark_window, dark_key = await window_lightness(window), key_cell_lightness(window, "Alpha")
        hints.colorSchemeChanged.emit(Qt.ColorScheme.Light)
        light_window, light_key = (
            await window_lightness(window),
            key_cell_lightness(window, "Alpha"),
        )
        assert dark_window < 100 < light_window
        assert dark_key < light_key  # the Camelot colours were redone for the dark theme

        # The appearance setting applies at once, and then wins over the system's preference.
        window.open_settings()
        dialog = window.findChild(SettingsDialog)
        dialog.theme.setCurrentText("Dark")
        dialog.save()
        assert await window_lightness(window) < 100
        assert key_cell_lightness(window, "Alpha") == dark_key
        hints.colorSchemeChanged.emit(Qt.ColorScheme.Light)
        assert await window_lightness(window) < 100
        window.open_settings()
        dialog = window.findChildren(SettingsDialog)[-1]
        dialog.theme.setCurrentText("Follow the system")
        dialog.save()
        hints.colorSchemeChanged.emit(Qt.ColorScheme.Light)
        assert await window_lightness(window) == light_window


async def test_tracks_arriving_above_keep_the_selection_and_the_rows_in_view(
    open_window: Any, tmp_path: Path
) -> None:
    async with open_window() as window:
        late = [
            {"title": f"Late {i:02d}", "artist": f"Mid Artist {i:02d}", "fmt": "wav"}
            for i in range(40)
        ]
        make_music(tmp_path / "first", late)
        await window.add_folder(tmp_path / "first")
        await rows_become(window, 40)
        await shown_titles(window)
        table, model = window.library.table, window.library.model
        chosen = model.track_id(row_of(window, "Late 25"))
        assert chosen is not None and window.library.select_track(chosen)
        table.scrollTo(model.index(20, 0), table.ScrollHint.PositionAtTop)
        top = window.library.top_id()
        assert top is not None and top != model.track_id(0)

        early = [
            {"title": f"Early {i}", "artist": f"Aa Artist {i}", "fmt": "wav"} for i in range(8)
        ]
        make_music(tmp_path / "second", early)
        await window.add_folder(tmp_path / "second")
        await rows_become(window, 48)
        # Eight rows were inserted above; the same tracks stay selected and at the top of the view.
        assert window.library.selected_ids() == [chosen]
        assert window.library.current_id() == chosen
        assert window.library.top_id() == top
