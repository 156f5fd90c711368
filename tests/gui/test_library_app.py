"""The library browser end to end: folders → rows, search, inline edit into the file, undo, conflicts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mutagen
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit

from tests.gui.conftest import make_music, next_signal, rows_become
from tracktion_gui.models.columns import INDEX

SPECS = [
    {
        "title": "Alpha",
        "artist": "Aurora Unit",
        "genre": "Techno",
        "bpm": 128,
        "key": "8A",
        "comment": "keep this comment",
    },
    {"title": "Bravo", "artist": "Bass Theory", "genre": "House", "bpm": 122, "key": "Am"},
    {
        "title": "Charlie",
        "artist": "Cold Front",
        "genre": "Techno",
        "bpm": 135,
        "key": "3B",
        "fmt": "flac",
    },
]


async def add_library(window: Any, folder: Path) -> list[Path]:
    paths = make_music(folder, SPECS)
    await window.add_folder(folder)
    await rows_become(window, len(SPECS))
    return paths


def row_of(window: Any, title: str) -> int:
    model = window.library.model
    col = INDEX["title"]
    for row in range(model.rowCount()):
        if model.index(row, col).data() == title:
            return row
    raise AssertionError(
        f"{title!r} not shown; rows: {[model.index(r, col).data() for r in range(model.rowCount())]}"
    )


async def shown_titles(window: Any) -> list[str]:
    """Titles in the table once their page has arrived."""
    model = window.library.model
    col = INDEX["title"]
    if model.rowCount() and model.index(0, col).data() is None:
        await next_signal(model.dataChanged)
    return [model.index(r, col).data() for r in range(model.rowCount())]


async def test_adding_a_folder_shows_its_tracks(open_window: Any, tmp_path: Path) -> None:
    async with open_window() as window:
        await add_library(window, tmp_path / "music")
        assert sorted(await shown_titles(window)) == ["Alpha", "Bravo", "Charlie"]
        # Sorted by artist (the default sort), with the analysis-free key column still empty.
        assert await shown_titles(window) == ["Alpha", "Bravo", "Charlie"]
        folders = await window.client.folders()
        assert [f["tracks"] for f in folders] == [3]
        assert "(3)" in window.sidebar.filter_items["all"].text(0)


async def test_typing_a_query_filters_and_errors_are_shown(
    open_window: Any, qtbot: Any, tmp_path: Path
) -> None:
    async with open_window() as window:
        await add_library(window, tmp_path / "music")
        search = window.library.search
        qtbot.keyClicks(search, "genre:techno")
        await rows_become(window, 2)
        assert sorted(await shown_titles(window)) == ["Alpha", "Charlie"]
        search.clear()
        qtbot.keyClicks(search, "bravo")
        await rows_become(window, 1)
        assert await shown_titles(window) == ["Bravo"]
        search.clear()
        errors = next_signal(window.library.model.queryErrors, lambda errs: bool(errs))
        qtbot.keyClicks(search, "bpm:fast genre:house")
        await errors
        await rows_become(window, 1)
        # The valid part still filters; the mistake is explained under the search box.
        assert not window.library.query_error.isHidden()
        assert "bpm" in window.library.query_error.text()


async def edit_title(window: Any, qtbot: Any, old: str, new: str) -> Any:
    """Inline edit through the table's editor, as a user does (F2, type, Enter)."""
    table = window.library.table
    await shown_titles(window)
    index = window.library.model.index(row_of(window, old), INDEX["title"])
    table.setCurrentIndex(index)
    table.setFocus()
    finished = next_signal(window.library.model.editFinished)
    qtbot.keyClick(table, Qt.Key.Key_F2)
    editor = table.findChild(QLineEdit)
    assert editor is not None and editor.isVisible()
    editor.selectAll()
    qtbot.keyClicks(editor, new)
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    (outcome,) = await finished
    return outcome


async def test_editing_a_cell_writes_the_file_and_undo_restores_it(
    open_window: Any, qtbot: Any, tmp_path: Path
) -> None:
    async with open_window() as window:
        paths = await add_library(window, tmp_path / "music")
        alpha = paths[0]
        outcome = await edit_title(window, qtbot, "Alpha", "Alpha (Extended Mix)")
        assert outcome.ok, outcome
        tags = mutagen.File(alpha)
        assert str(tags["TIT2"]) == "Alpha (Extended Mix)"
        assert str(tags["COMM::eng"]) == "keep this comment"  # other frames untouched
        assert row_of(window, "Alpha (Extended Mix)") >= 0

        undone = next_signal(window.library.model.editFinished)
        window.undo_action.trigger()
        (outcome,) = await undone
        assert outcome.ok and outcome.written
        assert str(mutagen.File(alpha)["TIT2"]) == "Alpha"
        assert row_of(window, "Alpha") >= 0

        redone = next_signal(window.library.model.editFinished)
        window.redo_action.trigger()
        await redone
        assert str(mutagen.File(alpha)["TIT2"]) == "Alpha (Extended Mix)"


async def test_a_file_changed_on_disk_is_a_conflict_not_overwritten(
    open_window: Any, qtbot: Any, tmp_path: Path
) -> None:
    async with open_window() as window:
        paths = await add_library(window, tmp_path / "music")
        bravo = paths[1]
        # Another program retags the file after Tracktion read it.
        other = mutagen.File(bravo)
        other["TIT2"] = mutagen.id3.TIT2(encoding=3, text=["Bravo (Other App)"])
        other.save()
        messages: list[str] = []
        window.statusBar().messageChanged.connect(messages.append)
        outcome = await edit_title(window, qtbot, "Bravo", "Bravo (Mine)")
        assert outcome.conflicts and not outcome.written
        assert str(mutagen.File(bravo)["TIT2"]) == "Bravo (Other App)"
        assert any("changed by another program" in m for m in messages)
