"""Fixtures of the part-2 view tests: one qasync loop, and a small real library analysed in embedded mode.

The library is generated here (a few short tracks and one ~2-minute "recording", flagged as a mix by
lowering ``library.mix_min_duration_s``), analysed by the real analysis code, then graphed and searched for
tracklists by the real graph and tracklists workers running in-process. It is built once per test run.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

T = TypeVar("T")

SR = 22050
# (file name, artist, title, bpm, key, style, seconds)
TRACKS = [
    ("a.flac", "Ava Lund", "Northern Drive", 124.0, "A minor", "four_on_floor", 24.0),
    ("b.flac", "Ben Ortiz", "Glass Steps", 125.0, "E minor", "four_on_floor", 24.0),
    ("c.wav", "Cleo Marr", "Low Tide", 126.0, "C major", "four_on_floor", 24.0),
    ("d.flac", "Dario Vex", "Copper Sun", 124.0, "D minor", "breakbeat", 24.0),
    ("e.wav", "Eli Sato", "Paper Moon", 100.0, "F# minor", "half_time", 24.0),
]
MIX_FILE = "recording.flac"
MIX_PARTS = [
    (124.0, "A minor", 0),
    (125.0, "E minor", 1),
    (126.0, "C major", 2),
    (124.0, "D minor", 3),
]
MIX_PART_S = 40.0
MIX_MIN_S = 90.0


def run(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, T], timeout_s: float = 120) -> T:
    """Run a coroutine on the qasync loop (Qt events are processed meanwhile)."""
    return loop.run_until_complete(asyncio.wait_for(coro, timeout_s))


def snapshot(widget: Any, name: str) -> None:
    """Save what a test sees to $TRACKTION_VIEW_SHOTS/<name>.png (to look at; nothing is compared)."""
    folder = os.environ.get("TRACKTION_VIEW_SHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        widget.grab().save(str(Path(folder) / f"{name}.png"))


@pytest.fixture(scope="session")
def qloop(qapp: Any) -> Iterator[asyncio.AbstractEventLoop]:
    """The asyncio loop running on the QApplication (as in the app: qasync, started once)."""
    import qasync

    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    yield loop
    # Joins the default executor's QThreads (asyncio.to_thread): a QThread still running when Python
    # exits aborts the process.
    loop.close()


def write_music(folder: Path) -> list[float]:
    """Generate the tracks and the recording; returns the recording's true transition times."""
    from backend.audio.encode import write_tags
    from backend.audio.synth import render_mix, render_track, write_audio

    folder.mkdir(parents=True, exist_ok=True)
    for i, (name, artist, title, bpm, key, style, seconds) in enumerate(TRACKS):
        samples = render_track(bpm, key, seconds, SR, style=style, seed=i)
        write_audio(folder / name, samples, SR)
        write_tags(folder / name, {"artist": artist, "title": title, "genre": "House"})
    parts = [render_track(b, k, MIX_PART_S, SR, seed=10 + s) for b, k, s in MIX_PARTS]
    mix, transitions = render_mix(parts, [8.0] * (len(parts) - 1), SR)
    write_audio(folder / MIX_FILE, mix, SR)
    write_tags(folder / MIX_FILE, {"artist": "Test DJ", "title": "Live at the Fixture Club"})
    return transitions


@dataclass
class Library:
    services: Any
    music: Path
    transitions: list[float]
    ids: dict[str, int]  # file name → track id


def _analyse(path: Path) -> tuple[Any, Any, bytes, str]:
    """Tags, real analysis (long-recording mode as the catalog would flag it) and fingerprint of a file."""
    from backend.analysis.analyzer import analyze_file
    from backend.catalog.fingerprint import fingerprint_file
    from backend.catalog.tags import read_tags

    tags = read_tags(str(path))
    result, waveform = analyze_file(path, is_long=(tags.duration_s or 0.0) >= MIX_MIN_S)
    return tags, result, waveform.to_bytes(), fingerprint_file(str(path))


async def build_library(home: Path, music: Path, tracklists_url: str) -> Library:
    """Library rows for the files in ``music``, analysed by the real analysis code, then graphed (and
    tracklists searched) by the real graph and tracklists workers running in-process.

    Track rows and analysis results are written here the way the catalog and the analysis worker store
    them, so the views are tested on real analysis output without depending on the whole scan pipeline.
    """
    from backend.api.commands import enqueue
    from backend.api.folders import add_root
    from backend.config import settings_from_values
    from backend.db.models import AnalysisResult, Track
    from backend.messaging.contracts import RecordingAnalyzed, TrackAnalyzed
    from backend.services import open_services
    from backend.worker.local import local_workers, wait_settled

    settings = settings_from_values(
        home,
        {
            "mode": "embedded",
            "library": {"mix_min_duration_s": MIX_MIN_S},
            "tracklists": {"min_interval_s": 0.01, "base_url": tracklists_url},
            "worker": {"retry_base_delay_s": 0.05},
        },
    )
    services = await open_services(settings)
    root = await add_root(services, music)
    ids: dict[str, int] = {}
    events: list[Any] = []
    audio = {".flac", ".wav", ".mp3", ".ogg", ".opus", ".m4a", ".aiff", ".wma"}
    for path in sorted(p for p in music.rglob("*") if p.suffix.lower() in audio):
        tags, result, blob, fingerprint = await asyncio.to_thread(_analyse, path)
        is_mix = result.duration_s >= MIX_MIN_S
        async with services.db.unit_of_work() as session:
            track = Track(
                root_id=root.id, rel_path=path.relative_to(music).as_posix(), size=path.stat().st_size,
                mtime=path.stat().st_mtime, fingerprint=fingerprint, format=path.suffix[1:],
                duration_s=result.duration_s, sample_rate=result.sample_rate,
                title=tags.title, artist=tags.artist, genre=tags.genre, is_mix=is_mix,
                bpm=result.bpm, key=result.key, camelot=result.camelot,
                energy=result.energy, loudness_lufs=result.loudness_lufs,
                analysis_version=result.algorithm_version, status="ok",
            )  # fmt: skip
            session.add(track)
            session.add(
                AnalysisResult(
                    fingerprint=fingerprint,
                    algorithm_version=result.algorithm_version,
                    data=result.to_json(),
                    waveform=blob,
                )
            )
            await session.flush()
            ids[path.name] = track.id
        events.append(TrackAnalyzed(track.id, fingerprint, result.algorithm_version))
        if is_mix:
            events.append(RecordingAnalyzed(track.id, fingerprint, result.algorithm_version))
    async with local_workers(services, ["graph", "tracklists"]):
        sent = await enqueue(services, events)
        await wait_settled(services, sent[0].correlation_id, timeout_s=300)
    return Library(services, music, [], ids)


# ---- the 1001tracklists fixture pages, served locally at the site's paths ---------------------------------

REPO = Path(__file__).resolve().parents[2]
PAGES = (
    Path(os.environ.get("TRACKTION_FIXTURES", REPO.parent / "shared" / "fixtures"))
    / "1001tracklists"
)
ARMIN_PATH = "/tracklist/2r5rr53t/armin-van-buuren-kislashki-two-is-one.html"
SERVED = {
    ARMIN_PATH: "tracklist_armin-kiki-amf-2025_simple-all-cued.html",
    "/search/result.php": "search_no-result.html",
}


@pytest.fixture(scope="session")
def site() -> Iterator[str]:
    """A real HTTP server on 127.0.0.1 serving the saved pages (read from ../shared, never copied)."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            path = self.path.split("?")[0]
            if path == "/robots.txt":
                body = b"User-agent: *\nDisallow: /user/\n"
            elif path in SERVED:
                body = (PAGES / SERVED[path]).read_bytes()
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            self._serve()

        def log_message(self, *_args: Any) -> None:
            pass

    if not (PAGES / SERVED[ARMIN_PATH]).exists():
        pytest.fail(f"fixture pages missing under {PAGES} (set TRACKTION_FIXTURES)")
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(scope="session")
def library(
    qloop: asyncio.AbstractEventLoop, tmp_path_factory: pytest.TempPathFactory, site: str
) -> Iterator[Library]:
    """Five short tracks and a ~2-minute recording, catalogued, analysed and graphed by the real workers.

    The tracklists worker searches for the recording: it asks the local fixture server (no hits), never
    the real site.
    """
    base = tmp_path_factory.mktemp("gui_views")
    transitions = write_music(base / "music")
    lib = run(qloop, build_library(base / "home", base / "music", tracklists_url=site), 300)
    lib.transitions = transitions
    yield lib
    run(qloop, lib.services.close())
