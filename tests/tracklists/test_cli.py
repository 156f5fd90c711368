"""The ``tracktion tracklist`` commands: parse (standalone), search, apply and cue (embedded mode)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from backend.cli.main import main
from backend.config import load_settings
from backend.db.models import LibraryRoot, Track
from backend.services import open_services
from tests.tracklists.conftest import (
    AFROJACK,
    ARMIN,
    BLOCKED,
    PAGES,
    REPO,
    SEARCH_30,
    TRACKLIST_PATHS,
    FakeSite,
)

AFRO_PATH = next(p for p, name in TRACKLIST_PATHS.items() if name == AFROJACK)


def run_module(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "backend.cli.tracklist", *args],
        cwd=REPO,
        capture_output=True,
        timeout=120,
    )


def test_standalone_parse_prints_the_sites_export_exactly() -> None:
    done = run_module("parse", str(PAGES / AFROJACK), "--format", "export")
    assert done.returncode == 0, done.stderr
    assert done.stdout == (PAGES / AFROJACK.replace(".html", ".export.txt")).read_bytes()


def test_blocked_page_exits_3_and_says_so() -> None:
    done = run_module("parse", str(PAGES / BLOCKED), "--json")
    assert done.returncode == 3
    assert done.stdout == b""
    message = done.stderr.decode()
    assert "blocked" in message and "captcha" in message and "browser" in message


def test_parse_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tracklist", "parse", str(PAGES / ARMIN), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["djs"] == ["Armin van Buuren", "KI/KI"] and doc["date"] == "2025-10-25"
    assert [e["cue_s"] for e in doc["timelines"][0]["entries"]][:2] == [91, 456]


def test_parse_missing_file_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tracklist", "parse", str(tmp_path / "nope.html")]) == 1
    assert "cannot read" in capsys.readouterr().err


def test_search_apply_and_cue_in_embedded_mode(
    site: FakeSite,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("TRACKTION_TRACKLISTS__BASE_URL", site.base_url)
    monkeypatch.setenv("TRACKTION_TRACKLISTS__MIN_INTERVAL_S", "0.05")
    monkeypatch.delenv("TRACKTION_MODE", raising=False)
    site.search_pages["Gorgon City"] = SEARCH_30
    assert main(["--home", str(home), "tracklist", "search", "Gorgon", "City", "--json"]) == 0
    hits = json.loads(capsys.readouterr().out)
    assert len(hits) == 30 and hits[0]["path"].startswith("/tracklist/2r65b051/")

    audio = tmp_path / "sets" / "afrojack edc.mp3"
    audio.parent.mkdir()
    audio.write_bytes(b"")

    async def add_track() -> None:
        svc = await open_services(load_settings(home, environ=os.environ))
        try:
            async with svc.db.unit_of_work() as session:
                root = LibraryRoot(path=str(audio.parent), name="sets")
                session.add(root)
                await session.flush()
                session.add(
                    Track(root_id=root.id, rel_path=audio.name, duration_s=4069.0, is_mix=True)
                )
        finally:
            await svc.close()

    asyncio.run(add_track())
    url = site.base_url + AFRO_PATH
    assert main(["--home", str(home), "tracklist", "apply", str(audio), "--url", url]) == 0
    assert "applied" in capsys.readouterr().out
    cue_file = tmp_path / "out.cue"
    assert main(["--home", str(home), "tracklist", "cue", str(audio), "-o", str(cue_file)]) == 0
    text = cue_file.read_text(encoding="utf-8")
    assert 'FILE "afrojack edc.mp3" MP3' in text and text.count("TRACK ") == 28
    assert main(["--home", str(home), "tracklist", "cue", str(tmp_path / "other.mp3")]) == 1
    assert "not in the library" in capsys.readouterr().err


def test_search_blocked_exits_3(
    site: FakeSite,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("TRACKTION_TRACKLISTS__BASE_URL", site.base_url)
    monkeypatch.setenv("TRACKTION_TRACKLISTS__MIN_INTERVAL_S", "0.05")
    monkeypatch.delenv("TRACKTION_MODE", raising=False)
    site.search_pages["anything"] = BLOCKED
    assert main(["--home", str(tmp_path / "h"), "tracklist", "search", "anything"]) == 3
    err = capsys.readouterr().err
    assert "blocked" in err and "browser" in err
