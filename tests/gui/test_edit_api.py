"""Edits through the client API: the watcher is told about our own writes, bulk edits undo as one."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import mutagen

from backend.api.client import LibraryClient
from backend.catalog.own_writes import is_own_write
from backend.library.tagwriter import read_fields
from backend.services import open_services
from tests.gui.conftest import make_music


async def test_bulk_edit_is_one_undoable_batch_and_registered_as_our_write(
    make_settings: Any, tmp_path: Path
) -> None:
    settings = make_settings("embedded", library={"settle_window_s": 0})
    services = await open_services(settings)
    try:
        client = LibraryClient(services)
        paths = make_music(
            tmp_path / "music",
            [{"title": "One", "genre": "House"}, {"title": "Two", "genre": "Disco", "fmt": "flac"}],
        )
        await client.add_folder(tmp_path / "music")
        ids = (await client.track_ids("", "title")).ids
        assert len(ids) == 2

        outcome = await client.edit(ids, {"genre": "Italo", "year": 1984})
        assert outcome.ok and outcome.written == sorted(ids)
        for path in paths:
            assert read_fields(path)["genre"] == "Italo"
            st = os.stat(path)
            # The watcher will recognise this change as Tracktion's own write.
            assert await is_own_write(services.cache, path, st.st_size, st.st_mtime)
        assert sorted((await client.track_ids("genre:italo year:1984")).ids) == sorted(ids)

        undone = await client.undo()
        assert undone.ok and undone.written == sorted(ids)
        assert [read_fields(p)["genre"] for p in paths] == ["House", "Disco"]
        assert read_fields(paths[0])["year"] is None
        assert str(mutagen.File(paths[1])["title"][0]) == "Two"
        nothing = await client.undo()
        assert nothing.errors == ["nothing to undo"]
    finally:
        await services.close()
