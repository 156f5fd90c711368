"""Fixtures for the tracklists tests: the saved 1001tracklists pages and a local HTTP server serving them.

The pages are read from ``../shared/fixtures/1001tracklists/`` (or ``$TRACKTION_FIXTURES``) and never copied
into the repository. The server answers at the site's URL paths so the client runs unmodified against it.
"""

from __future__ import annotations

import functools
import hashlib
import os
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from backend.tracklists.model import TracklistPage
from backend.tracklists.parser import parse_tracklist

REPO = Path(__file__).resolve().parents[2]
PAGES = (
    Path(os.environ.get("TRACKTION_FIXTURES", REPO.parent / "shared" / "fixtures"))
    / "1001tracklists"
)

AFROJACK = "tracklist_afrojack-edc-lv-2025_mashups-w-ids.html"
ARMIN = "tracklist_armin-kiki-amf-2025_simple-all-cued.html"
BICEP = "tracklist_bicep-warehouse-project-2023_no-cues.html"
BLOCKED = "blocked_ip-limited-captcha.html"
SEARCH_30 = "search_gorgon-city_30-results.html"
SEARCH_NONE = "search_no-result.html"

# Site paths of the saved pages (ids as on the real site).
TRACKLIST_PATHS = {
    "/tracklist/2wrmg6f1/afrojack-kineticfield-edc-las-vegas-united-states-2025-05-17.html": AFROJACK,
    "/tracklist/2r5rr53t/armin-van-buuren-kislashki-two-is-one.html": ARMIN,
    "/tracklist/1gz59x6t/bicep-the-warehouse-project-rdm-rotterdam-netherlands-2023-04-28.html": BICEP,
    "/tracklist/blocked1/some-set.html": BLOCKED,
}


def page(name: str) -> str:
    """The text of a saved page."""
    path = PAGES / name
    if not path.exists():
        pytest.fail(
            f"fixture page {path} is missing (set TRACKTION_FIXTURES to the fixtures folder)"
        )
    return path.read_text(encoding="utf-8")


@dataclass
class Hit:
    method: str
    path: str
    started: float
    ended: float
    headers: dict[str, str]
    body: str
    status: int


@dataclass
class FakeSite:
    """State of the local server: what it serves and every request it saw."""

    base_url: str = ""
    robots: str | None = "User-agent: *\nDisallow: /user/\n"  # None: no robots.txt (404)
    statuses: dict[str, int] = field(default_factory=dict)  # path -> forced HTTP status
    # query -> fixture file name, or the HTML itself
    search_pages: dict[str, str] = field(default_factory=dict)
    latency_s: float = 0.0
    hits: list[Hit] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def requests_to(self, prefix: str) -> list[Hit]:
        with self.lock:
            return [h for h in self.hits if h.path.startswith(prefix)]


def _handler(site: FakeSite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            return

        def _serve(self, method: str) -> None:
            started = time.monotonic()
            with site.lock:
                site.in_flight += 1
                site.max_in_flight = max(site.max_in_flight, site.in_flight)
            body = ""
            if method == "POST":
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode()
            if site.latency_s:
                # Simulated network latency so overlapping requests would be visible.
                time.sleep(site.latency_s)
            status, payload, extra = self._answer(method, body)
            # "ended" is the moment the answer starts going out, as the site sees it. Stamping it after
            # the write let a server thread descheduled on a busy machine record an end later than the
            # client's own, so a correct client seemed to come back too early.
            hit = Hit(
                method, self.path, started, time.monotonic(), dict(self.headers), body, status
            )
            with site.lock:
                # Recorded before the answer goes out: the client may act on it at once.
                site.hits.append(hit)
                site.in_flight -= 1
            self.send_response(status)
            for k, v in extra.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _answer(self, method: str, body: str) -> tuple[int, bytes, dict[str, str]]:
            html = {"Content-Type": "text/html; charset=utf-8"}
            if self.path in site.statuses:
                return site.statuses[self.path], b"slow down", {"Retry-After": "900"}
            if self.path == "/robots.txt":
                if site.robots is None:
                    return 404, b"not found", html
                return 200, site.robots.encode(), {"Content-Type": "text/plain"}
            if method == "POST" and self.path == "/search/result.php":
                form = urllib.parse.parse_qs(body)
                query = form.get("main_search", [""])[0]
                name = site.search_pages.get(query, SEARCH_NONE)
                text = name if name.lstrip().startswith("<") else page(name)
                return 200, text.encode(), html
            name = TRACKLIST_PATHS.get(self.path)
            if method != "GET" or name is None:
                return 404, b"not found", html
            payload = page(name).encode()
            etag = '"' + hashlib.sha1(payload).hexdigest() + '"'
            headers = {**html, "ETag": etag, "Last-Modified": "Mon, 01 Sep 2025 10:00:00 GMT"}
            if self.headers.get("If-None-Match") == etag:
                return 304, b"", {"ETag": etag}
            return 200, payload, headers

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

    return Handler


@pytest.fixture
def site() -> Iterator[FakeSite]:
    """A real HTTP server on 127.0.0.1 serving the saved pages at the site's paths."""
    state = FakeSite()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@functools.cache
def parsed(name: str) -> TracklistPage:
    """A saved tracklist page, parsed once per test run (the records are frozen, so sharing is safe)."""
    return parse_tracklist(page(name))
