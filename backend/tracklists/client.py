"""A polite client for 1001tracklists.com, shared by every worker through the Cache port.

Politeness rules (the site has no API and blocks scrapers):
- one request at a time across all processes: a named lock in the cache (Redis in services mode);
- at least ``min_interval_s`` (default 5 s) between the end of one request and the start of the next,
  the time of the last request being kept in the cache too;
- an honest User-Agent with a contact URL, and robots.txt honoured;
- pages cached for days and revalidated with conditional requests (ETag / Last-Modified);
- a block/captcha/challenge page raises :class:`BlockedError` and starts a back-off (≥ 5 min, doubling
  on each new block) stored in the cache so every worker respects it. Nothing is cached from such a page.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import socket
import time
import urllib.robotparser
from dataclasses import dataclass
from typing import Any

import httpx

from backend.cache.port import Cache
from backend.config import TracklistSettings
from backend.tracklists.model import BlockedError, TracklistPage
from backend.tracklists.parser import block_reason, parse_tracklist
from backend.tracklists.search import SEARCH_PATH, SearchHit, parse_search_results, search_form

log = logging.getLogger(__name__)

LOCK_NAME = "1001tl:request"
LAST_REQUEST_KEY = "1001tl:last_request_at"
BACKOFF_KEY = "1001tl:blocked_until"
BACKOFF_LEVEL_KEY = "1001tl:block_level"
ROBOTS_KEY = "1001tl:robots"
MAX_BACKOFF_S = 24 * 3600.0
SEARCH_MAX_AGE_S = 86400.0


class FetchError(RuntimeError):
    """The page could not be fetched (HTTP error, network down)."""


class RobotsDisallowed(FetchError):
    """robots.txt of the site does not allow this path for our User-Agent."""


@dataclass(frozen=True)
class ClientConfig:
    """Client knobs; :meth:`from_settings` reads them from the ``[tracklists]`` settings."""

    base_url: str = "https://www.1001tracklists.com"
    min_interval_s: float = 5.0
    cache_ttl_s: float = 7 * 86400.0
    blocked_backoff_s: float = 300.0
    user_agent: str = (
        "Tracktion/0.1 (+https://github.com/tracktion/tracktion; music library manager)"
    )
    timeout_s: float = 30.0

    @classmethod
    def from_settings(cls, s: TracklistSettings) -> ClientConfig:
        return cls(
            base_url=s.base_url,
            min_interval_s=s.min_interval_s,
            cache_ttl_s=s.cache_days * 86400.0,
            blocked_backoff_s=s.blocked_backoff_s,
            user_agent=s.user_agent,
        )


class TracklistsClient:
    """Fetch search results and tracklist pages politely; see the module docstring for the rules."""

    def __init__(
        self,
        cache: Cache,
        config: ClientConfig | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.cache = cache
        self.config = config or ClientConfig()
        self._http = httpx.AsyncClient(
            base_url=self.config.base_url,
            headers={"User-Agent": self.config.user_agent, "Accept-Language": "en"},
            timeout=self.config.timeout_s,
            follow_redirects=True,
            transport=transport,
        )
        self.requests_made = 0  # network requests by this client (tests and status output)

    async def close(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> TracklistsClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ---------------------------------------------------------------- public API

    async def search(self, query: str, *, refresh: bool = False) -> list[SearchHit]:
        """Search tracklists (POST to the site's search form); results are cached like pages."""
        key = "1001tl:search:" + _digest(query.strip().lower())
        # New tracklists appear every day: search results are kept one day at most.
        max_age = min(self.config.cache_ttl_s, SEARCH_MAX_AGE_S)
        body = None if refresh else await self._cached_fresh(key, max_age)
        if body is None:
            response = await self._request("POST", SEARCH_PATH, data=search_form(query))
            body = response.text
            await self._store(key, body, response)
        return parse_search_results(body)

    async def fetch_tracklist(self, path_or_url: str, *, refresh: bool = False) -> TracklistPage:
        """Fetch and parse a tracklist page (``/tracklist/<id>/<slug>.html`` or a full URL)."""
        body = await self.get_page(path_or_url, refresh=refresh)
        return parse_tracklist(body, url=self._absolute(path_or_url))

    async def get_page(self, path_or_url: str, *, refresh: bool = False) -> str:
        """The HTML of a page: from the cache while fresh, else revalidated or fetched."""
        path = self._path(path_or_url)
        key = "1001tl:page:" + _digest(path)
        if not refresh:
            cached = await self._cached_fresh(key)
            if cached is not None:
                return cached
        entry = await self._entry(key)
        headers: dict[str, str] = {}
        if entry is not None:
            if entry.get("etag"):
                headers["If-None-Match"] = entry["etag"]
            if entry.get("last_modified"):
                headers["If-Modified-Since"] = entry["last_modified"]
        response = await self._request("GET", path, headers=headers)
        if response.status_code == 304 and entry is not None:
            body = str(entry["body"])
        else:
            body = response.text
        await self._store(key, body, response, previous=entry)
        return body

    async def blocked_until(self) -> float | None:
        """Epoch seconds until which all workers back off, or None."""
        raw = await self.cache.get(BACKOFF_KEY)
        if raw is None:
            return None
        until = float(raw)
        return until if until > time.time() else None

    # ---------------------------------------------------------------- politeness

    async def _request(
        self,
        method: str,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        data: dict[str, str] | None = None,
    ) -> httpx.Response:
        await self._raise_if_backing_off(path)
        if not await self._allowed(path):
            raise RobotsDisallowed(
                f"robots.txt of {self.config.base_url} does not allow fetching {path}; not fetched"
            )
        async with self._turn():
            await self._raise_if_backing_off(path)
            try:
                response = await self._http.request(method, path, headers=headers, data=data)
            except httpx.HTTPError as exc:
                raise FetchError(unreachable(self._absolute(path), exc)) from exc
            finally:
                self.requests_made += 1
        await self._check_blocked(path, response)
        if response.status_code >= 400:
            raise FetchError(
                f"{self._absolute(path)} answered HTTP {response.status_code}; not fetched"
            )
        return response

    def _turn(self) -> Any:
        """The cross-worker lock, held for one request plus the wait before it."""
        cfg = self.config
        return _Turn(self, cfg.timeout_s + cfg.min_interval_s + 30.0)

    async def _wait_for_interval(self) -> None:
        raw = await self.cache.get(LAST_REQUEST_KEY)
        if raw is None:
            return
        wait = float(raw) + self.config.min_interval_s - time.time()
        if wait > 0:
            # Rate limiting, not synchronisation: we are holding the lock and must space requests.
            await asyncio.sleep(wait)

    async def _mark_request_done(self) -> None:
        ttl = max(self.config.min_interval_s * 4, 60.0)
        await self.cache.set(LAST_REQUEST_KEY, repr(time.time()).encode(), ttl)

    async def _raise_if_backing_off(self, path: str) -> None:
        until = await self.blocked_until()
        if until is not None:
            remaining = until - time.time()
            raise BlockedError(
                f"1001tracklists.com blocked us recently; Tracktion waits {remaining / 60:.0f} more "
                f"minute(s) before asking again. Open {self._absolute(path)} in your web browser to "
                "check the site; Tracktion never solves captchas.",
                url=self._absolute(path),
                retry_after_s=remaining,
            )

    async def _check_blocked(self, path: str, response: httpx.Response) -> None:
        reason = block_reason(response.text) if response.content else None
        if reason is None and response.status_code not in (429,):
            return
        level_raw = await self.cache.get(BACKOFF_LEVEL_KEY)
        level = int(level_raw) if level_raw else 0
        backoff = min(self.config.blocked_backoff_s * (2**level), MAX_BACKOFF_S)
        retry_after = response.headers.get("Retry-After", "")
        if retry_after.isdigit():
            backoff = max(backoff, float(retry_after))
        until = time.time() + backoff
        await self.cache.set(BACKOFF_KEY, repr(until).encode(), backoff)
        # The level outlives the back-off so that a block soon after the previous one waits longer.
        await self.cache.set(BACKOFF_LEVEL_KEY, str(level + 1).encode(), backoff * 4 + 3600)
        url = self._absolute(path)
        log.warning("1001tracklists blocked %s (%s); backing off %.0f s", url, reason, backoff)
        raise BlockedError(
            f"1001tracklists.com answered {url} with a block/captcha page "
            f"({reason or f'HTTP {response.status_code}'}). Tracktion never solves captchas and now "
            f"pauses all requests for {backoff / 60:.0f} minute(s). Open {url} in your web browser "
            "to check the site, then try again later.",
            url=url,
            retry_after_s=backoff,
        )

    async def _allowed(self, path: str) -> bool:
        raw = await self.cache.get(ROBOTS_KEY)
        if raw is None:
            cfg = self.config
            async with self.cache.lock(LOCK_NAME, ttl_s=cfg.timeout_s + cfg.min_interval_s + 30.0):
                # Another worker may have read it while we waited for the lock.
                raw = await self.cache.get(ROBOTS_KEY)
                if raw is None:
                    raw = await self._fetch_robots()
        parser = urllib.robotparser.RobotFileParser()
        parser.parse(raw.decode().splitlines())
        return parser.can_fetch(self.config.user_agent, self._absolute(path))

    async def _fetch_robots(self) -> bytes:
        """Read robots.txt (caller holds the lock) and keep it for a day."""
        await self._wait_for_interval()
        try:
            response = await self._http.get("/robots.txt")
        except httpx.HTTPError as exc:
            raise FetchError(unreachable(self._absolute("/robots.txt"), exc)) from exc
        finally:
            self.requests_made += 1
            await self._mark_request_done()
        # No robots.txt (4xx) means no restrictions; a server error means "try later".
        if response.status_code >= 500:
            raise FetchError(f"robots.txt answered HTTP {response.status_code}")
        raw = response.content if response.status_code < 400 else b""
        await self.cache.set(ROBOTS_KEY, raw, 86400.0)
        return raw

    # ---------------------------------------------------------------- page cache

    async def _entry(self, key: str) -> dict[str, Any] | None:
        raw = await self.cache.get(key)
        if raw is None:
            return None
        try:
            entry: dict[str, Any] = json.loads(raw)
        except ValueError:
            return None
        return entry

    async def _cached_fresh(self, key: str, max_age_s: float | None = None) -> str | None:
        entry = await self._entry(key)
        max_age = self.config.cache_ttl_s if max_age_s is None else max_age_s
        if entry is None or time.time() - float(entry["fetched_at"]) > max_age:
            return None
        return str(entry["body"])

    async def _store(
        self,
        key: str,
        body: str,
        response: httpx.Response,
        previous: dict[str, Any] | None = None,
    ) -> None:
        previous = previous or {}
        entry = {
            "body": body,
            "fetched_at": time.time(),
            "etag": response.headers.get("ETag") or previous.get("etag"),
            "last_modified": response.headers.get("Last-Modified") or previous.get("last_modified"),
        }
        # Kept twice as long as it is fresh, so a stale copy can still be revalidated with a 304.
        await self.cache.set(key, json.dumps(entry).encode(), self.config.cache_ttl_s * 2)

    # ---------------------------------------------------------------- URLs

    def _path(self, path_or_url: str) -> str:
        url = httpx.URL(path_or_url)
        if url.is_absolute_url:
            return url.raw_path.decode()
        return path_or_url if path_or_url.startswith("/") else "/" + path_or_url

    def _absolute(self, path_or_url: str) -> str:
        return str(self._http.base_url.join(self._path(path_or_url)))


class _Turn:
    """Async context: take the shared lock, wait out the interval, and stamp the request time after."""

    def __init__(self, client: TracklistsClient, ttl_s: float) -> None:
        self._client = client
        self._lock = client.cache.lock(LOCK_NAME, ttl_s=ttl_s)

    async def __aenter__(self) -> None:
        await self._lock.__aenter__()
        try:
            await self._client._wait_for_interval()
        except BaseException:
            await self._lock.__aexit__(None, None, None)
            raise

    async def __aexit__(self, *exc: Any) -> None:
        try:
            await self._client._mark_request_done()
        finally:
            await self._lock.__aexit__(*exc)


def unreachable(url: str, exc: httpx.HTTPError) -> str:
    """Why ``url`` could not be fetched, in words a user can act on (shown on the failed job)."""
    host = httpx.URL(url).host
    causes = []
    cause: BaseException | None = exc
    while cause is not None:
        causes.append(cause)
        cause = cause.__cause__ or cause.__context__
    if any(isinstance(c, socket.gaierror) for c in causes):
        why = f"the name {host} could not be looked up (no internet connection?)"
    elif isinstance(exc, httpx.TimeoutException):
        why = f"{host} did not answer in time"
    elif isinstance(exc, httpx.ConnectError):
        why = f"no connection to {host} could be made (offline, or the site is down)"
    else:
        why = f"{type(exc).__name__}: {exc}"
    return f"could not fetch {url}: {why}; nothing was changed"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]
