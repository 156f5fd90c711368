"""The catalog commands, run the way a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import mutagen
import pytest

from tests.catalog.conftest import MakeAudio
from tests.conftest import tracktion


def test_scan_json_summary_and_errors(tmp_path: Path, make_audio: MakeAudio) -> None:
    lib, home = tmp_path / "lib", tmp_path / "home"
    make_audio(lib / "a.mp3", seed=1)
    make_audio(lib / "b.flac", seed=2)
    (lib / "broken.m4a").write_bytes(b"\0\0\0\x20ftypM4A " + b"\0" * 100)
    done = tracktion(home, "scan", str(lib), "--json", "--settle", "0")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert list(summary) == [
        "roots", "files_seen", "added", "updated", "moved", "removed", "errors", "seconds",
    ]  # fmt: skip
    assert (summary["roots"], summary["files_seen"], summary["added"], summary["errors"]) == (
        1, 3, 2, 1,
    )  # fmt: skip
    text = tracktion(home, "scan", "--settle", "0")  # every watched folder, human summary
    assert text.returncode == 0, text.stderr
    assert "2 unchanged" in text.stdout or "3 unchanged" in text.stdout
    assert f"error: {lib}/broken.m4a — " in text.stdout  # the reason is shown to the user


def test_folders_commands(tmp_path: Path, make_audio: MakeAudio) -> None:
    lib, home = tmp_path / "lib", tmp_path / "home"
    make_audio(lib / "a.mp3")
    assert tracktion(home, "folders", "add", str(lib)).returncode == 0
    nested = tracktion(home, "folders", "add", str(tmp_path))
    assert nested.returncode == 1 and "contains the watched folder" in nested.stderr
    assert tracktion(home, "folders", "pause", str(lib)).returncode == 0
    listed = json.loads(tracktion(home, "folders", "ls", "--json").stdout)
    assert [(r["path"], r["paused"], r["tracks"]) for r in listed] == [(str(lib), True, 0)]
    removed = tracktion(home, "folders", "rm", str(lib))
    assert removed.returncode == 0 and "0 track(s) removed" in removed.stdout


@pytest.mark.slow
def test_demo_library_then_scan(tmp_path: Path) -> None:
    demo, home = tmp_path / "demo", tmp_path / "home"
    made = tracktion(home, "demo", str(demo))
    assert made.returncode == 0, made.stderr
    manifest = json.loads((demo / "demo.json").read_text())
    assert len(manifest["tracks"]) == 12
    mix = mutagen.File(demo / manifest["mix"]["path"])
    assert mix is not None and 1200 <= mix.info.length <= 1260
    assert len(manifest["mix"]["tracklist"]) == 12
    suffixes = {Path(t["path"]).suffix for t in manifest["tracks"]}
    assert suffixes == {".mp3", ".flac", ".m4a", ".ogg", ".opus", ".wav", ".aiff", ".wma"}
    summary = json.loads(tracktion(home, "scan", str(demo), "--json", "--settle", "0").stdout)
    assert (summary["added"], summary["errors"]) == (13, 0)
    import sqlite3

    with sqlite3.connect(home / "library.sqlite3") as db:
        rows = db.execute("SELECT title, bpm_tag, key_tag, is_mix FROM tracks").fetchall()
    by_title = {r[0]: r for r in rows}
    assert by_title["Night Drive"][1:] == (124.0, "8A", 0)
    assert by_title["Tracktion Demo Mix"][3] == 1  # long recordings are flagged by duration
    assert sum(r[3] for r in rows) == 1


@pytest.mark.slow
def test_scan_wait_returns_when_downstream_work_is_done(
    tmp_path: Path, make_audio: MakeAudio
) -> None:
    lib, home = tmp_path / "lib", tmp_path / "home"
    make_audio(lib / "a.wav", seed=1, seconds=3.0)
    done = tracktion(
        home, "scan", str(lib), "--wait", "--json", "--settle", "0", "--timeout", "100"
    )
    assert done.returncode == 0, done.stderr
    from backend.worker.local import available_kinds

    built = tuple(f"{kind}:" for kind in available_kinds())
    jobs = json.loads(tracktion(home, "jobs", "ls", "--json").stdout)
    assert any(j["kind"] == "analysis:analysis.batch" for j in jobs)  # the scan set work off
    mine = [j for j in jobs if j["kind"].startswith(built)]
    assert all(j["status"] in ("done", "failed", "dead") for j in mine)  # … and it has finished
    if "analysis:" in built:
        # --wait also waited for the per-track jobs the analysis worker queued from the batch.
        assert any(
            j["kind"] == "analysis:analysis.requested" and j["status"] == "done" for j in mine
        )
