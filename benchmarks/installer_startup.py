"""Cold start of the frozen app to its main window, against the same app run from the venv.

Each run starts a process with ``TRACKTION_TEST_STARTUP_PROBE=ready`` (installer/startup_probe.py) in a
fresh, empty home — first launch: database created and migrated, no caches. Figures per run:

- window: process start → the main window's first paint (the goal: ≤ 3 s);
- ready: process start → database migrated, services connected, first data on screen (the app shows
  the window first and does this right after the paint);
- process: the wall clock of the whole process seen from here (it exits at "ready");
- cpu: user + system CPU seconds of the process (less noisy than wall time on a loaded machine).

Baseline in the same run: ``python installer/entry.py`` from the venv (the same code, not frozen). Also
reports the bundle's size on disk. ``--venv-only`` measures the venv alone (no bundle needed);
``--existing`` measures later launches in one home (a current library) instead of first launches.
``--baseline-tree DIR`` compares the time to the first paint with another source tree (before/after a
change; the baseline is run from the same venv with ``PYTHONPATH=DIR``), alternating runs:

    git archive <commit> | tar -x -C /tmp/before
    python benchmarks/installer_startup.py --baseline-tree /tmp/before --runs 5

    python benchmarks/installer_startup.py [--bundle dist/tracktion] [--runs 5] [--quick] [--venv-only]
                                           [--existing] [--baseline-tree DIR]

"Cold" is cold for the app (new home, nothing cached by Tracktion); the OS page cache is not dropped
(that needs root and would disturb other work on the machine), so the first run of a session, after the
files were just built or installed, is the closest to a first launch after install.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PREFIX = "TRACKTION_STARTUP_MS="
READY_PREFIX = "TRACKTION_READY_MS="
FIGURES = ("window", "ready", "process", "cpu")


def _cpu_children_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _figure(stdout: str, prefix: str) -> float | None:
    lines = [ln for ln in stdout.splitlines() if ln.startswith(prefix)]
    return float(lines[0][len(prefix) :]) if lines else None


def run_once(
    cmd: list[str], home: Path, *, probe: str = "ready", pythonpath: Path | None = None
) -> dict[str, float]:
    """The figures (ms) of one start in ``home`` (``probe="1"``: up to the first paint only)."""
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen"),
        "TRACKTION_HOME": str(home / "tracktion"),
        "TRACKTION_TEST_STARTUP_PROBE": probe,
    }
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    cpu = _cpu_children_s()
    started = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    wall = (time.perf_counter() - started) * 1000.0
    window, ready = _figure(proc.stdout, PREFIX), _figure(proc.stdout, READY_PREFIX)
    if proc.returncode != 0 or window is None or (ready is None and probe == "ready"):
        raise RuntimeError(f"{cmd[0]} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    cpu_ms = (_cpu_children_s() - cpu) * 1000.0
    return {"window": window, "ready": ready or window, "process": wall, "cpu": cpu_ms}


def compare_trees(baseline: Path, runs: int) -> None:
    """Time to the first paint from the venv: ``baseline`` (another source tree, e.g. an older commit
    unpacked with ``git archive``) against this tree, alternating, each run in a new home."""
    trees = {"baseline": baseline.resolve(), "this    ": REPO}
    figures: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
    for i in range(runs):
        for name, tree in trees.items():
            with tempfile.TemporaryDirectory(prefix="tracktion-bench-") as tmp:
                cmd = [sys.executable, str(tree / "installer" / "entry.py")]
                f = run_once(cmd, Path(tmp), probe="1", pythonpath=tree)
            figures[name].append(f)
            print(
                f"  {name} run {i + 1}: window painted {f['window']:6.0f} ms, cpu {f['cpu']:6.0f} ms"
            )
    med = {
        n: {k: statistics.median(f[k] for f in fs) for k in FIGURES} for n, fs in figures.items()
    }
    for name, m in med.items():
        print(f"median {name}: window painted {m['window']:6.0f} ms, cpu {m['cpu']:6.0f} ms")
    this, base = med["this    "], med["baseline"]
    print(
        f"ratio this/baseline: window {this['window'] / base['window']:.2f}, "
        f"cpu {this['cpu'] / base['cpu']:.2f}"
    )


def measure(name: str, cmd: list[str], runs: int, *, existing: bool = False) -> dict[str, float]:
    """Median figures over ``runs`` launches: each in a new home, or (``existing``) all in one home
    created by an uncounted first launch (a current library: nothing to migrate)."""
    runs_figures = []
    with tempfile.TemporaryDirectory(prefix="tracktion-bench-") as shared:
        if existing:
            run_once(cmd, Path(shared))
        for i in range(runs):
            with tempfile.TemporaryDirectory(prefix="tracktion-bench-") as tmp:
                figures = run_once(cmd, Path(shared if existing else tmp))
            runs_figures.append(figures)
            print(f"  {name} run {i + 1}: {_line(figures)}")
    return {k: statistics.median(f[k] for f in runs_figures) for k in FIGURES}


def _line(figures: dict[str, float]) -> str:
    return (
        f"window painted {figures['window']:6.0f} ms, ready {figures['ready']:6.0f} ms, "
        f"process {figures['process']:6.0f} ms, cpu {figures['cpu']:6.0f} ms"
    )


def du_bytes(path: Path) -> int:
    """Size on disk as dpkg counts it (apparent sizes; symlinks count as links)."""
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() or p.is_symlink())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, default=REPO / "dist" / "tracktion")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="2 runs each")
    parser.add_argument("--venv-only", action="store_true", help="the app from the venv only")
    parser.add_argument(
        "--existing", action="store_true", help="later launches in one home instead of first ones"
    )
    parser.add_argument(
        "--baseline-tree",
        type=Path,
        help="compare the first paint from the venv with another source tree (before/after)",
    )
    args = parser.parse_args()
    runs = 2 if args.quick else args.runs
    if args.baseline_tree is not None:
        compare_trees(args.baseline_tree, runs)
        return 0
    venv_cmd = [sys.executable, str(REPO / "installer" / "entry.py")]
    if args.venv_only:
        venv = measure("venv  ", venv_cmd, runs, existing=args.existing)
        print(f"median venv:   {_line(venv)}")
        return 0
    exe = args.bundle / ("tracktion.exe" if os.name == "nt" else "tracktion")
    if not exe.exists():
        print(
            f"no bundle at {args.bundle}: run `bash scripts/build-linux.sh` first", file=sys.stderr
        )
        return 1
    size = du_bytes(args.bundle)
    print(f"bundle {args.bundle}: {size / 1e6:.1f} MB ({size / 2**20:.1f} MiB) on disk")
    frozen = measure("frozen", [str(exe)], runs, existing=args.existing)
    venv = measure("venv  ", venv_cmd, runs, existing=args.existing)
    print(f"median frozen: {_line(frozen)}")
    print(f"median venv:   {_line(venv)}")
    print(
        f"ratio frozen/venv: window {frozen['window'] / venv['window']:.2f}, "
        f"ready {frozen['ready'] / venv['ready']:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
