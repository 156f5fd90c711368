"""Peak memory does not grow with the length of the file (the issue: a 3-hour mix is never held whole).

Each analysis runs in its own subprocess and reports its peak resident set size (ru_maxrss), so the
figures are the process's own. A file three times longer may only add the small per-frame summaries
(~2 KB per second of audio); holding the decoded audio (~88 KB/s here) or the spectrogram would add
tens of MB.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from backend.audio.synth import render_track, write_audio

SR = 22050
_MEASURE = """
import json, resource, sys
from backend.analysis import analyze_file
result, waveform = analyze_file(sys.argv[1], is_long=True)
print(json.dumps({"duration_s": result.duration_s, "bpm": result.bpm,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _long_stream(minutes: float) -> Iterator[np.ndarray]:
    """A loop of generated music, each repetition at a slightly different level (no two blocks equal)."""
    clip = render_track(126.0, "D minor", 30.0, SR, seed=4)
    for i in range(int(minutes * 2)):
        yield clip * np.float32(0.7 + 0.02 * (i % 10))


def _peak_mb(path: Path) -> dict[str, float]:
    proc = subprocess.run([sys.executable, "-c", _MEASURE, str(path)], capture_output=True,
                          text=True, check=True, cwd=Path(__file__).resolve().parents[2])  # fmt: skip
    return json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_three_times_longer_file_uses_about_the_same_peak_memory(tmp_path: Path) -> None:
    short = write_audio(tmp_path / "short.wav", _long_stream(5), SR)
    long = write_audio(tmp_path / "long.wav", _long_stream(15), SR)
    a, b = _peak_mb(short), _peak_mb(long)
    assert b["duration_s"] == 3 * a["duration_s"] == 900.0
    assert a["bpm"] is not None and b["bpm"] is not None  # both were really analysed
    # 10 more minutes of audio: the decoded samples alone would be 53 MB at this rate; the analysis
    # before version 1.1 added 12 MB (fragmented per-block series, 10-minute tempogram batches).
    assert b["peak_mb"] - a["peak_mb"] < 8.0, (a, b)
