"""The cold-start probe the benchmark uses: the app reports its first window paint and quits cleanly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _probe(home: Path, mode: str) -> tuple[subprocess.CompletedProcess[str], dict[str, int]]:
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "TRACKTION_HOME": str(home),
        "TRACKTION_TEST_STARTUP_PROBE": mode,
    }
    proc = subprocess.run(
        [sys.executable, str(REPO / "installer" / "entry.py")],
        env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    figures = {}
    for line in proc.stdout.splitlines():
        if line.startswith("TRACKTION_") and "_MS=" in line:
            name, value = line.split("=")
            assert name not in figures, proc.stdout
            figures[name] = int(value)
    return proc, figures


def test_probe_reports_the_first_paint_and_exits_zero(tmp_path: Path) -> None:
    _proc, figures = _probe(tmp_path / "home", "1")
    assert list(figures) == ["TRACKTION_STARTUP_MS"]
    assert 0 < figures["TRACKTION_STARTUP_MS"] < 240_000


def test_probe_waits_for_the_ready_milestone(tmp_path: Path) -> None:
    _proc, figures = _probe(tmp_path / "home", "ready")
    assert list(figures) == ["TRACKTION_STARTUP_MS", "TRACKTION_READY_MS"]
    assert 0 < figures["TRACKTION_STARTUP_MS"] <= figures["TRACKTION_READY_MS"] < 240_000
    # Ready means the app really started in that home: database created and migrated to head.
    import sqlite3

    from backend.db.migrate import head_revision

    with sqlite3.connect(tmp_path / "home" / "library.sqlite3") as conn:
        version = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    assert version == (head_revision(),)
