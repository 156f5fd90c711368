"""Cold start of the frozen app to its main window, against the same app run from the venv.

Each run starts a process with ``TRACKTION_TEST_STARTUP_PROBE=1`` (installer/startup_probe.py: the app
prints the time from process start to the main window's first paint and exits) in a fresh, empty home
— first launch: database created and migrated, no caches. Two figures per run: the probe's own
(process start → first paint) and the wall clock of the whole process seen from here. Baseline in the
same run: ``python installer/entry.py`` from the venv (the same code, not frozen). Also reports the
bundle's size on disk.

    python benchmarks/installer_startup.py [--bundle dist/tracktion] [--runs 5] [--quick]

"Cold" is cold for the app (new home, nothing cached by Tracktion); the OS page cache is not dropped
(that needs root and would disturb other work on the machine), so the first run of a session, after the
files were just built or installed, is the closest to a first launch after install.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PREFIX = "TRACKTION_STARTUP_MS="


def run_once(cmd: list[str], home: Path) -> tuple[float, float]:
    """(probe ms, wall ms) of one start in ``home``."""
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen"),
        "TRACKTION_HOME": str(home / "tracktion"),
        "TRACKTION_TEST_STARTUP_PROBE": "1",
    }
    started = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    wall = (time.perf_counter() - started) * 1000.0
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(PREFIX)]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"{cmd[0]} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return float(lines[0][len(PREFIX) :]), wall


def measure(name: str, cmd: list[str], runs: int) -> tuple[float, float]:
    """Median (probe, wall) over ``runs`` first launches, each in a new home."""
    probes, walls = [], []
    for i in range(runs):
        with tempfile.TemporaryDirectory(prefix="tracktion-bench-") as tmp:
            probe, wall = run_once(cmd, Path(tmp))
        probes.append(probe)
        walls.append(wall)
        print(f"  {name} run {i + 1}: window painted {probe:7.0f} ms, process {wall:7.0f} ms")
    return statistics.median(probes), statistics.median(walls)


def du_bytes(path: Path) -> int:
    """Size on disk as dpkg counts it (apparent sizes; symlinks count as links)."""
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() or p.is_symlink())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, default=REPO / "dist" / "tracktion")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="2 runs each")
    args = parser.parse_args()
    runs = 2 if args.quick else args.runs
    exe = args.bundle / ("tracktion.exe" if os.name == "nt" else "tracktion")
    if not exe.exists():
        print(
            f"no bundle at {args.bundle}: run `bash scripts/build-linux.sh` first", file=sys.stderr
        )
        return 1
    size = du_bytes(args.bundle)
    print(f"bundle {args.bundle}: {size / 1e6:.1f} MB ({size / 2**20:.1f} MiB) on disk")
    frozen = measure("frozen", [str(exe)], runs)
    venv = measure("venv  ", [sys.executable, str(REPO / "installer" / "entry.py")], runs)
    print(f"median frozen: window {frozen[0]:.0f} ms, process {frozen[1]:.0f} ms")
    print(f"median venv:   window {venv[0]:.0f} ms, process {venv[1]:.0f} ms")
    print(f"ratio frozen/venv (window): {frozen[0] / venv[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
