"""The open window re-themes with the system and the appearance setting; live updates keep the user's place."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QImage, QPalette

from tests.gui.conftest import make_music, next_signal, rows_become
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


def on_screen(widget: Any) -> QImage:
    """What the window shows of ``widget`` (the offscreen platform's backing store), not a fresh render."""
    top = widget.window()
    origin = widget.mapTo(top, QPoint(0, 0))
    pixmap = top.screen().grabWindow(
        top.winId(), origin.x(), origin.y(), widget.width(), widget.height()
    )
    return pixmap.toImage()


async def screen_is_current(table: Any) -> bool:
    """After Qt's pending layouts and paints, the screen shows the table as it is now."""
    await qt_turn(4)
    return on_screen(table.viewport()) == table.viewport().grab().toImage()


async def rows_on_screen(table: Any, rows: range) -> bool:
    """The screen shows these rows' alternating backgrounds: painted, not only in the model (read
    before anything asks for their data, whose arrival would repaint them anyway)."""
    await qt_turn(4)
    image = on_screen(table.viewport())
    palette = table.palette()
    for row in rows:
        rect = table.visualRect(table.model().index(row, table.columnAt(0)))
        role = QPalette.ColorRole.AlternateBase if row % 2 else QPalette.ColorRole.Base
        if image.pixelColor(rect.left() + 1, rect.center().y()) != palette.color(role):
            return False
    return True


async def title_at(window: Any, row: int) -> str:
    """The title shown in ``row`` once its page has arrived."""
    model = window.library.model
    index = model.index(row, INDEX["title"])
    while index.data() is None:
        await next_signal(model.dataChanged)
    return str(index.data())


async def titles_in_table_order(window: Any) -> list[str]:
    ids = window.library.model.ids
    rows = await window.client.rows(ids, ["title"])
    return [rows[t]["title"] for t in ids]


@embedded_only
async def test_arriving_tracks_take_their_sorted_place_and_the_screen_stays_true(
    open_window: Any, tmp_path: Path
) -> None:
    def tracks(title: str, artist: str, n: int) -> list[dict[str, Any]]:
        return [
            {"title": f"{title} {i:02d}", "artist": f"{artist} {i:02d}", "fmt": "wav"}
            for i in range(n)
        ]

    async def scan(name: str, specs: list[dict[str, Any]], rows: int) -> None:
        make_music(tmp_path / name, specs)
        await window.add_folder(tmp_path / name)
        await rows_become(window, rows)

    async with open_window() as window:
        table, model = window.library.table, window.library.model
        # A few tracks in an empty table, then enough to fill the view: each arrival is painted.
        first, mid = tracks("Aa", "Aa Artist", 2), tracks("Mid", "Mid Artist", 40)
        await scan("first", first, 2)
        assert await rows_on_screen(table, range(0, 2))
        await scan("mid", mid, 42)
        assert await rows_on_screen(table, range(0, 6))
        assert await title_at(window, 2) == "Mid 00"
        assert await screen_is_current(table)
        chosen = model.track_id(row_of(window, "Mid 05"))
        assert chosen is not None and window.library.select_track(chosen)
        table.scrollToTop()
        assert 0 <= table.rowAt(table.viewport().height() - 1) < 41  # more rows below the view
        top = window.library.top_id()

        # Tracks that sort after every row: appended below the view, which stays as it was.
        late = tracks("Zed", "Zz Artist", 6)
        await scan("late", late, 48)
        assert await titles_in_table_order(window) == [t["title"] for t in first + mid + late]
        assert await screen_is_current(table)
        assert window.library.selected_ids() == [chosen] and window.library.top_id() == top
        table.scrollToBottom()
        assert await rows_on_screen(table, range(42, 48))
        assert await title_at(window, 47) == "Zed 05"
        assert await screen_is_current(table)

        # Tracks sorting between the rows: each takes its place in the order, the view is repainted.
        between = tracks("Nu", "Na Artist", 3)
        await scan("between", between, 51)
        assert await titles_in_table_order(window) == [
            t["title"] for t in first + mid + between + late
        ]
        assert await title_at(window, 50) == "Zed 05"
        assert await screen_is_current(table)
        assert window.library.selected_ids() == [chosen]
