"""``tracktion --self-test`` from source: the same checks the frozen app runs, and how a failure reads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CHECKS = [
    "qt",
    "generate",
    "settings",
    "services",
    "main window",
    "scan",
    "analysis",
    "player",
    "library view",
]


def _run(tmp_path: Path, **extra: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    report = tmp_path / "report.json"
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "TRACKTION_HOME": str(tmp_path / "user-home"),
        "TRACKTION_TEST_SELF_TEST_REPORT": str(report),
        **extra,
    }
    proc = subprocess.run(
        [sys.executable, "-m", "backend.cli.main", "--self-test"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=280,
    )  # fmt: skip
    return proc, report


def test_self_test_passes_and_reports_every_check(tmp_path: Path) -> None:
    proc, report_file = _run(tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(report_file.read_text())
    assert report["ok"] is True and report["frozen"] is False
    assert [c["name"] for c in report["checks"]] == CHECKS
    assert all(c["ok"] for c in report["checks"])
    # Every view, those built on first show included (waveform, mix, graph), was built and rendered.
    window = next(c for c in report["checks"] if c["name"] == "main window")
    assert window["detail"].endswith("6 views rendered"), window["detail"]
    assert "self-test passed" in proc.stdout
    # It used a throw-away home: the user's Tracktion home got no library.
    assert not (tmp_path / "user-home" / "library.sqlite3").exists()


def test_a_failing_step_is_named_with_its_reason_and_exits_1(tmp_path: Path) -> None:
    # A step deadline nothing can meet: the first awaited step (opening the services) fails.
    proc, report_file = _run(tmp_path, TRACKTION_TEST_SELF_TEST_TIMEOUT="0.000001")
    assert proc.returncode == 1
    report = json.loads(report_file.read_text())
    assert report["ok"] is False
    failed = [c for c in report["checks"] if not c["ok"]]
    assert [c["name"] for c in failed] == ["services"]
    assert "TimeoutError" in failed[0]["detail"]
    assert "self-test FAILED at services" in proc.stderr
