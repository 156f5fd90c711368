"""The frozen app as users get it: build the bundle and the .deb, install the .deb into a temporary
root (``dpkg-deb -x``: no system install), and run ``tracktion --self-test`` from the installed files.

Slow (a PyInstaller build is minutes). A .deb in dist/ newer than every source file is reused; set
``TRACKTION_TEST_DEB=/path/to.deb`` to test a given package (CI passes the one it just built).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DIST = REPO / "dist"
APP_ID = "org.tracktion.Tracktion"
SIZE_BUDGET_MB = 400  # decimal megabytes (10^6 bytes), as apt reports sizes: the stricter reading
SOURCES = ("backend", "tracktion_gui", "installer", "resources", "scripts/build-linux.sh")
BUILD_TIMEOUT_S = 1800
SELF_TEST_TIMEOUT_S = 600

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(BUILD_TIMEOUT_S + SELF_TEST_TIMEOUT_S),
]


def _newest_source_mtime() -> float:
    newest = 0.0
    for name in SOURCES:
        path = REPO / name
        files = [path] if path.is_file() else path.rglob("*")
        for f in files:
            if f.is_file() and "__pycache__" not in f.parts:
                newest = max(newest, f.stat().st_mtime)
    return newest


def _deb_newer_than(moment: float) -> Path | None:
    debs = sorted(DIST.glob("tracktion_*.deb"), key=lambda p: p.stat().st_mtime)
    if debs and debs[-1].stat().st_mtime > moment:
        return debs[-1]
    return None


@pytest.fixture(scope="module")
def deb() -> Path:
    """The package under test: given, fresh in dist/, or built now with the documented command."""
    given = os.environ.get("TRACKTION_TEST_DEB")
    if given:
        return Path(given)
    found = _deb_newer_than(_newest_source_mtime())
    if found is None:
        started = time.time()
        subprocess.run(
            ["bash", str(REPO / "scripts" / "build-linux.sh")], cwd=REPO, check=True,
            timeout=BUILD_TIMEOUT_S,
        )  # fmt: skip
        found = _deb_newer_than(started)
    assert found is not None, "scripts/build-linux.sh produced no .deb in dist/"
    return found


@pytest.fixture(scope="module")
def installed(deb: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The .deb's files unpacked into a temporary root, as dpkg would lay them out."""
    root = tmp_path_factory.mktemp("root")
    subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
    yield root


def _clean_env(home: Path) -> dict[str, str]:
    """No venv, no PYTHONPATH: the frozen app must run on its own files only."""
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "QT_QPA_PLATFORM": "offscreen",
        "TRACKTION_HOME": str(home / "tracktion"),
    }


def _du_mb(path: Path) -> float:
    """Apparent size in MB (10^6 bytes), symlinks as links: what dpkg counts."""
    total = sum(f.lstat().st_size for f in path.rglob("*") if f.is_file() or f.is_symlink())
    return total / 1e6


def test_self_test_passes_from_the_installed_package(installed: Path, tmp_path: Path) -> None:
    exe = installed / "usr" / "bin" / "tracktion"
    assert (
        exe.is_symlink() and exe.resolve() == (installed / "usr/lib/tracktion/tracktion").resolve()
    )
    env = _clean_env(tmp_path)
    proc = subprocess.run(
        [str(exe), "--self-test"], env=env, capture_output=True, text=True,
        timeout=SELF_TEST_TIMEOUT_S,
    )  # fmt: skip
    assert proc.returncode == 0, f"self-test failed:\n{proc.stdout}\n{proc.stderr}"
    report = json.loads((tmp_path / "tracktion" / "self-test-report.json").read_text())
    assert report["ok"] is True
    assert report["frozen"] is True
    assert (
        Path(report["executable"]).resolve()
        == (installed / "usr/lib/tracktion/tracktion").resolve()
    )
    names = {c["name"]: c for c in report["checks"]}
    for step in ("qt", "generate", "main window", "scan", "analysis", "player", "library view"):
        assert names[step]["ok"], names[step]
    assert "3 tracks" in names["scan"]["detail"]
    # The views built on first show (pyqtgraph, Qt Multimedia) build and render from the bundle too.
    assert names["main window"]["detail"].endswith("6 views rendered"), names["main window"]
    assert "xcb" in names["qt"]["detail"]  # the desktop platform plugin ships, not only offscreen


def test_cli_runs_from_the_installed_package(installed: Path, tmp_path: Path) -> None:
    exe = installed / "usr" / "bin" / "tracktion"
    proc = subprocess.run(
        [str(exe), "--version"],
        env=_clean_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    from backend import __version__

    assert proc.stdout.strip() == f"tracktion {__version__}"


def test_installed_size_is_within_budget(deb: Path, installed: Path) -> None:
    size_mb = _du_mb(installed / "usr")
    print(f"installed size: {size_mb:.1f} MB; .deb: {deb.stat().st_size / 1e6:.1f} MB")
    assert size_mb <= SIZE_BUDGET_MB
    control = subprocess.run(
        ["dpkg-deb", "--field", str(deb), "Installed-Size", "Package", "Depends"],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    fields = dict(line.split(": ", 1) for line in control.splitlines() if ": " in line)
    assert fields["Package"] == "tracktion"
    assert int(fields["Installed-Size"]) * 1024 <= SIZE_BUDGET_MB * 1e6  # the field is in KiB
    assert "libc6" in fields["Depends"]


def test_desktop_integration_files_are_installed(installed: Path) -> None:
    share = installed / "usr" / "share"
    desktop = (share / "applications" / f"{APP_ID}.desktop").read_text()
    assert "Exec=tracktion" in desktop and f"Icon={APP_ID}" in desktop
    metainfo = (share / "metainfo" / f"{APP_ID}.metainfo.xml").read_text()
    assert f"<id>{APP_ID}</id>" in metainfo and "@VERSION@" not in metainfo
    for size in (16, 32, 48, 64, 128, 256, 512):
        icon = share / "icons" / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png"
        assert icon.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", icon
    assert (share / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg").is_file()
