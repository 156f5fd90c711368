"""``tracktion --self-test``: check an installation end to end and write a JSON report.

Made for the frozen app (installers, CI, a user's support request), it works the same from a venv. In a
throw-away home (never the user's library) it: opens the main window offscreen, writes a few short
synthetic tracks in several formats (encoder + tag writer), scans them in embedded mode with the
in-process workers, analyses one file in the analysis process pool (spawned processes: the frozen
executable re-running itself) and checks the tempo found, opens a file in the media player (Qt
Multimedia's FFmpeg plugin), and shows the tracks in the library view.

The report goes to ``$TRACKTION_TEST_SELF_TEST_REPORT`` when set, else ``<home>/self-test-report.json``
where home is the user's Tracktion home (``--home`` / ``TRACKTION_HOME`` / the platform folder).
Exit status 0 when every check passed, 1 otherwise (failed checks are printed on stderr).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import sys
import tempfile
import time
import traceback
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPORT_ENV = "TRACKTION_TEST_SELF_TEST_REPORT"
STEP_TIMEOUT_S = float(os.environ.get("TRACKTION_TEST_SELF_TEST_TIMEOUT", "180"))
# (file name, tempo, key, format): several containers/codecs so the bundle's ffmpeg and mutagen are used.
TRACKS = (
    ("selftest-124.flac", 124.0, "A minor", "flac"),
    ("selftest-100.mp3", 100.0, "C major", "mp3"),
    ("selftest-128.m4a", 128.0, "F minor", "m4a"),
)
SECONDS = 12.0
SAMPLE_RATE = 22050


@dataclass
class Check:
    name: str
    ok: bool = False
    seconds: float = 0.0
    detail: str = ""


@dataclass
class Report:
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    @contextlib.contextmanager
    def check(self, name: str) -> Iterator[Check]:
        """Record one step; an exception marks it failed (with the reason) and stops the run."""
        item = Check(name)
        self.checks.append(item)
        started = time.perf_counter()
        try:
            yield item
            item.ok = True
        except Exception as exc:
            item.detail = f"{type(exc).__name__}: {exc}".strip()
            if os.environ.get("TRACKTION_TEST_SELF_TEST_TRACEBACK"):
                item.detail += "\n" + traceback.format_exc()
            raise _StepFailed from exc
        finally:
            item.seconds = round(time.perf_counter() - started, 3)


class _StepFailed(Exception):
    """A check failed: later steps depend on it, so the run stops there."""


def report_path(args: argparse.Namespace) -> Path:
    """Where the report goes (see the module docstring)."""
    env = os.environ.get(REPORT_ENV)
    if env:
        return Path(env).expanduser()
    from backend.config import default_home

    home = getattr(args, "home", None)
    return (Path(home).expanduser() if home else default_home()) / "self-test-report.json"


def run_self_test(args: argparse.Namespace) -> int:
    """Run every check, write the report, print a summary; returns the exit status."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    report = Report()
    started = time.perf_counter()
    # A failed step is recorded in the report already; it only stops the run.
    with (
        tempfile.TemporaryDirectory(prefix="tracktion-selftest-") as tmp,
        contextlib.suppress(_StepFailed),
    ):
        _run(report, Path(tmp))
    out = report_path(args)
    data = {
        "ok": report.ok,
        "version": _version(),
        "frozen": bool(getattr(sys, "frozen", False)),
        "executable": sys.executable,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "qt_platform": os.environ.get("QT_QPA_PLATFORM", ""),
        "seconds": round(time.perf_counter() - started, 3),
        "checks": [asdict(c) for c in report.checks],
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    for c in report.checks:
        mark = "ok  " if c.ok else "FAIL"
        print(
            f"  {mark} {c.name:<16} {c.seconds:7.2f} s  {c.detail.splitlines()[0] if c.detail else ''}"
        )
    if report.ok:
        print(
            f"self-test passed ({len(report.checks)} checks, {data['seconds']:.1f} s); report: {out}"
        )
        return 0
    sys.stdout.flush()  # the summary before the failure lines when both go to one terminal/log
    failed = [c for c in report.checks if not c.ok]
    for c in failed:
        print(f"self-test FAILED at {c.name}: {c.detail}", file=sys.stderr)
    print(f"report: {out}", file=sys.stderr)
    return 1


def _version() -> str:
    from backend import __version__

    return str(__version__)


def _run(report: Report, tmp: Path) -> None:
    with report.check("qt") as c:
        app = _qt_app()
        c.detail = _qt_detail()
    home, music = tmp / "home", tmp / "music"
    with report.check("generate") as c:
        files = _generate(music)
        c.detail = ", ".join(f"{p.name} ({p.stat().st_size // 1024} KiB)" for p in files)
    with report.check("settings") as c:
        settings = _settings(home)
        c.detail = f"mode={settings.mode} home={settings.home}"

    import qasync

    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    try:
        with loop:
            loop.run_until_complete(_run_async(report, settings, music, files))
    finally:
        asyncio.set_event_loop(None)
        import gc

        gc.collect()  # Qt objects go while the interpreter is fully alive (see tracktion_gui.app)
        app.processEvents()


def _qt_app() -> Any:
    from PySide6.QtWidgets import QApplication

    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    app.setApplicationName("Tracktion")
    app.setQuitOnLastWindowClosed(False)  # closing the test window must not stop the loop mid-run
    return app


def _qt_detail() -> str:
    """Qt version and the platform plugins present (a bundle missing e.g. xcb only shows on a desktop)."""
    import PySide6
    from PySide6.QtCore import QLibraryInfo

    plugins = Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath)) / "platforms"
    names = sorted(
        p.name.split(".")[0].removeprefix("lib").removeprefix("q") for p in plugins.glob("*")
    )
    needed = {"linux": {"xcb", "offscreen"}, "darwin": {"cocoa"}, "win32": {"windows"}}
    wanted = next((v for k, v in needed.items() if sys.platform.startswith(k)), set())
    missing = sorted(w for w in wanted if w not in names)
    if missing:
        raise RuntimeError(f"Qt platform plugins missing: {', '.join(missing)} (found {names})")
    return f"PySide6 {PySide6.__version__}; platforms: {', '.join(names)}"


def _generate(folder: Path) -> list[Path]:
    """Short synthetic tracks with tags, written by the bundle's encoder (PyAV) and tagger (mutagen)."""
    from backend.audio.encode import encode
    from backend.audio.synth import render_track

    folder.mkdir(parents=True)
    out = []
    for i, (name, bpm, key, fmt) in enumerate(TRACKS):
        signal = render_track(bpm, key, SECONDS, SAMPLE_RATE, seed=i)
        tags = {"title": f"Self-test {bpm:.0f}", "artist": "Tracktion", "genre": "Test"}
        out.append(encode(folder / name, signal, SAMPLE_RATE, fmt, tags))
    return out


def _settings(home: Path) -> Any:
    """Embedded settings in a fresh home: environment overrides must not point it at servers."""
    from backend.config import load_settings

    home.mkdir(parents=True)
    (home / "config.toml").write_text('mode = "embedded"\n', encoding="utf-8")
    environ = {k: v for k, v in os.environ.items() if not k.startswith("TRACKTION_")}
    settings = load_settings(home, environ)
    settings.ensure_dirs()
    return settings


async def _run_async(report: Report, settings: Any, music: Path, files: list[Path]) -> None:
    from tracktion_gui.app import open_app_services

    with report.check("services") as c:
        stack = contextlib.AsyncExitStack()
        client = await asyncio.wait_for(
            stack.enter_async_context(open_app_services(settings, watch=False)), STEP_TIMEOUT_S
        )
        c.detail = f"database {settings.database_file.name}"
    async with stack:
        window = await _open_window(report, client)
        try:
            await _scan(report, client, music, len(files))
            await _analyse(report, settings, files[0], TRACKS[0][1])
            await _player(report, files[1])
            with report.check("library view") as c:
                await window.library.model.requery()
                rows = window.library.model.rowCount()
                if rows != len(files):
                    raise RuntimeError(f"library view shows {rows} tracks, expected {len(files)}")
                c.detail = f"{rows} rows"
        finally:
            window.close()
            await window.shutdown()
            from tracktion_gui.asyncutil import cancel_all

            await cancel_all()


async def _open_window(report: Report, client: Any) -> Any:
    from tracktion_gui.main_window import MainWindow

    with report.check("main window") as c:
        window = MainWindow(client)
        await asyncio.wait_for(window.start(), STEP_TIMEOUT_S)
        window.resize(1280, 800)
        window.show()
        await asyncio.sleep(0)  # one loop turn: the show and first layout happen
        image = window.grab().toImage()
        if not window.isVisible() or image.isNull() or image.width() < 100:
            raise RuntimeError("the main window did not render")
        # Views built on first show (pyqtgraph, Qt Multimedia): each must build and render in this build.
        for name in list(window.views):
            window.show_view(name)
            if window.grab().toImage().isNull():
                raise RuntimeError(f"the {name} view did not render")
        window.show_view("library")
        c.detail = f"{image.width()}x{image.height()}, {len(window.views)} views rendered"
    return window


async def _scan(report: Report, client: Any, music: Path, expected: int) -> None:
    from sqlalchemy import func, select

    from backend.api import folders as folders_api
    from backend.db.models import Job, Track
    from backend.worker.local import wait_settled

    services = client.services
    with report.check("scan") as c:
        stats, correlation = await asyncio.wait_for(
            folders_api.scan(services, [str(music)]), STEP_TIMEOUT_S
        )
        await wait_settled(services, correlation, STEP_TIMEOUT_S)
        async with services.db.read() as session:
            count = await session.scalar(select(func.count()).select_from(Track))
            failed = (
                await session.execute(select(Job.kind, Job.error).where(Job.status == "failed"))
            ).all()
        if count != expected:
            raise RuntimeError(f"{count} tracks catalogued, expected {expected}")
        if failed:
            raise RuntimeError("jobs failed: " + "; ".join(f"{k}: {e}" for k, e in failed))
        c.detail = f"{count} tracks in {stats.seconds:.2f} s"


async def _analyse(report: Report, settings: Any, path: Path, bpm: float) -> None:
    """One file through the analysis process pool: spawn start, decoding and the tempo found."""
    from backend.analysis.pool import AnalysisPool

    with report.check("analysis") as c:
        pool = AnalysisPool(1, numba_cache_dir=settings.numba_cache_dir)
        try:
            result, _waveform = await asyncio.wait_for(pool.analyze(path), STEP_TIMEOUT_S)
        finally:
            await asyncio.get_running_loop().run_in_executor(None, pool.close)
        found = result.bpm or 0.0
        # Half/double tempo is a legitimate reading of a synthetic loop; anything else is a failure.
        if not any(abs(found * f - bpm) <= 2.0 for f in (0.5, 1.0, 2.0)):
            raise RuntimeError(f"{path.name}: tempo {found:.1f}, expected {bpm:.0f}")
        c.detail = f"{path.name}: {found:.1f} BPM, key {result.key}"


async def _player(report: Report, path: Path) -> None:
    """Qt Multimedia's FFmpeg backend loads (it is a plugin with its own libraries) and opens a file."""
    from PySide6.QtCore import QUrl
    from PySide6.QtMultimedia import QMediaPlayer

    status = QMediaPlayer.MediaStatus
    with report.check("player") as c:
        player = QMediaPlayer()
        try:
            if not player.isAvailable():
                raise RuntimeError(
                    "no Qt Multimedia backend (the FFmpeg media plugin did not load)"
                )
            finished: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

            def changed(value: Any) -> None:
                if value in (status.LoadedMedia, status.InvalidMedia) and not finished.done():
                    finished.set_result(value)

            player.mediaStatusChanged.connect(changed)
            player.setSource(QUrl.fromLocalFile(str(path)))
            changed(player.mediaStatus())  # in case it loaded synchronously
            result = await asyncio.wait_for(finished, STEP_TIMEOUT_S)
            if result != status.LoadedMedia or player.duration() <= 0:
                raise RuntimeError(f"{path.name}: not playable ({player.errorString() or result})")
            c.detail = f"{path.name}: {player.duration() / 1000:.1f} s"
        finally:
            player.setSource(QUrl())
            player.deleteLater()
