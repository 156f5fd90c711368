"""The demo library as a new user gets it: its mix arrives with a tracklist, linked to the demo's tracks."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import tracktion


@pytest.mark.slow
def test_demo_mix_gets_its_tracklist_from_the_cue_sheet_beside_it(tmp_path: Path) -> None:
    demo, home = tmp_path / "demo", tmp_path / "home"
    made = tracktion(home, "demo", str(demo))
    assert made.returncode == 0, made.stderr
    manifest = json.loads((demo / "demo.json").read_text())
    assert (demo / manifest["mix"]["cue_sheet"]).is_file()
    done = tracktion(home, "scan", str(demo), "--wait", "--json", "--settle", "0")
    assert done.returncode == 0, done.stderr

    with sqlite3.connect(home / "library.sqlite3") as db:
        lists = db.execute("SELECT id, status, source FROM tracklists").fetchall()
        assert [(status, source) for _, status, source in lists] == [("applied", "cue")]
        rows = db.execute(
            "SELECT e.cue_s, e.artist, e.title, t.title FROM tracklist_entries e "
            "LEFT JOIN tracks t ON t.id = e.linked_track_id ORDER BY e.ordinal"
        ).fetchall()
        failed = db.execute("SELECT kind, error FROM jobs WHERE status IN ('failed', 'dead')")
        assert failed.fetchall() == []  # a first run shows no errors
    expected = manifest["mix"]["tracklist"]
    assert [(artist, title) for _, artist, title, _ in rows] == [
        (e["artist"], e["title"]) for e in expected
    ]
    # Cues as the sheet has them (to the CUE frame), each entry linked to its library track.
    assert [cue for cue, *_ in rows] == [pytest.approx(e["cue_s"], abs=1 / 75) for e in expected]
    assert [linked for *_, linked in rows] == [e["title"] for e in expected]
