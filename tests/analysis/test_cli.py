"""`tracktion analyze FILE... --json` as a user runs it (a real subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from .conftest import WriteClip

REPO = Path(__file__).resolve().parents[2]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "backend.cli.analyze", *args], cwd=REPO, capture_output=True,
        text=True, timeout=240, env={**os.environ},
    )  # fmt: skip


def test_json_lines_one_per_file_and_nonzero_exit_on_a_bad_file(
    write_clip: WriteClip, tmp_path: Path
) -> None:
    good = write_clip("good.flac")
    bad = tmp_path / "bad.mp3"
    bad.write_bytes(b"definitely not audio" * 100)
    proc = _run(str(good), str(bad), "--json")
    assert proc.returncode == 1, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [line["path"] for line in lines] == [str(good), str(bad)]
    ok, err = lines
    for field in ("duration_s", "bpm", "bpm_confidence", "beat_offset_s", "key", "camelot", "open_key",
                  "key_confidence", "energy", "loudness_lufs", "replaygain_db", "peak"):  # fmt: skip
        assert field in ok, field
    assert abs(ok["bpm"] - 128.0) < 1.3 and ok["key"] == "A minor" and ok["camelot"] == "8A"
    assert ok["open_key"] == "1m"
    assert "timeline" not in ok
    assert err["error"]


def test_human_output_and_success_exit(write_clip: WriteClip) -> None:
    good = write_clip("good.wav")
    proc = _run(str(good))
    assert proc.returncode == 0, proc.stderr
    assert "BPM" in proc.stdout and "A minor (8A / 1m)" in proc.stdout and "LUFS" in proc.stdout
