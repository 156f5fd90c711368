"""The cold-start probe the benchmark uses: the app reports its first window paint and quits cleanly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_probe_reports_the_first_paint_and_exits_zero(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "TRACKTION_HOME": str(tmp_path / "home"),
        "TRACKTION_TEST_STARTUP_PROBE": "1",
    }
    proc = subprocess.run(
        [sys.executable, str(REPO / "installer" / "entry.py")],
        env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("TRACKTION_STARTUP_MS=")]
    assert len(lines) == 1, proc.stdout
    assert 0 < int(lines[0].split("=")[1]) < 240_000
    # The app really started in that home (database migrated), not just Qt.
    assert (tmp_path / "home" / "library.sqlite3").is_file()
