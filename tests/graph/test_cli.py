"""`tracktion graph …` on a real embedded library (SQLite file under a private home)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from backend.cli.main import main
from backend.config import settings_from_values
from backend.db.models import AnalysisResult, LibraryRoot, Track
from backend.services import open_services

KEYS = {1: "8A", 2: "9A", 3: "9A", 4: "10A", 5: "10A", 6: "3B"}


async def make_library(home: Path, music: Path) -> None:
    settings = settings_from_values(home, {"mode": "embedded", "graph": {"k_neighbours": 3}})
    services = await open_services(settings)
    try:
        async with services.db.unit_of_work() as session:
            session.add(LibraryRoot(id=1, path=str(music), name="music"))
            await session.flush()
            for i, key in KEYS.items():
                (music / f"track{i}.flac").write_bytes(b"")
                session.add(
                    Track(
                        id=i,
                        root_id=1,
                        rel_path=f"track{i}.flac",
                        title=f"Song {i}",
                        artist="DJ Test",
                        fingerprint=f"fp{i}",
                        analysis_version="v1",
                        bpm=124.0 + i * 0.5,
                        camelot=key,
                        energy=0.3 + 0.1 * i,
                    )
                )
                session.add(
                    AnalysisResult(
                        fingerprint=f"fp{i}",
                        algorithm_version="v1",
                        data={"features": [0.5 + 0.05 * i, 0.9 - 0.05 * i, 0.2, 0.7]},
                    )
                )
    finally:
        await services.close()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    music = tmp_path / "music"
    music.mkdir()
    asyncio.run(make_library(home, music))
    assert main(["--home", str(home), "graph", "rebuild"]) == 0
    return home


def test_neighbours_suggest_and_path(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    music = home.parent / "music"
    assert (
        main(["--home", str(home), "graph", "neighbours", str(music / "track2.flac"), "--json"])
        == 0
    )
    rows = json.loads(capsys.readouterr().out)
    assert rows and {r["kind"] for r in rows} <= {"similar", "harmonic"}
    assert all(r["track"]["id"] != 2 for r in rows)
    assert any(r["reasons"] for r in rows)

    assert main(["--home", str(home), "graph", "suggest", "2"]) == 0
    text = capsys.readouterr().out
    assert text.startswith(" 1. ") and "DJ Test - Song" in text

    assert main(["--home", str(home), "graph", "path", "1", "5", "--json"]) == 0
    path = json.loads(capsys.readouterr().out)
    assert path["track_ids"][0] == 1 and path["track_ids"][-1] == 5
    assert all(h["kind"] in ("harmonic", "transition") for h in path["hops"])

    # 6 (3B) clashes with everything: no mixable path, a clear message and a failing status.
    assert main(["--home", str(home), "graph", "path", "1", "6"]) == 1
    assert "no mixable path" in capsys.readouterr().err


def test_unknown_track_is_a_clear_error(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--home", str(home), "graph", "neighbours", "999"]) == 1
    assert "no track with id 999" in capsys.readouterr().err
