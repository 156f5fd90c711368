"""The polite client against a real local HTTP server serving the saved pages at the site's paths."""

from __future__ import annotations

import asyncio
import itertools
import sys
import uuid
from collections.abc import AsyncIterator, Callable

import pytest

from backend.cache.memory import MemoryCache
from backend.cache.port import Cache
from backend.cache.redis_cache import RedisCache
from backend.tracklists.client import (
    BACKOFF_KEY,
    BACKOFF_LEVEL_KEY,
    ClientConfig,
    FetchError,
    RobotsDisallowed,
    TracklistsClient,
)
from backend.tracklists.model import BlockedError
from tests.tracklists.conftest import REPO, SEARCH_30, TRACKLIST_PATHS, FakeSite

AFRO_PATH, ARMIN_PATH, BICEP_PATH, BLOCKED_PATH = list(TRACKLIST_PATHS)
INTERVAL = 0.3


def config(site: FakeSite, **over: float) -> ClientConfig:
    values = {"min_interval_s": INTERVAL, "blocked_backoff_s": 300.0, **over}
    return ClientConfig(base_url=site.base_url, **values)  # type: ignore[arg-type]


@pytest.fixture(params=["memory", "redis"])
async def shared_cache(request: pytest.FixtureRequest) -> AsyncIterator[Callable[[], Cache]]:
    """A factory of cache handles that share state, as the workers of one deployment do.

    memory: one in-process cache (embedded mode); redis: a separate connection per worker on one
    real Redis with a key prefix unique to this test.
    """
    if request.param == "memory":
        cache = MemoryCache()
        yield lambda: cache
        return
    url = request.getfixturevalue("redis_url")
    prefix = f"tltest_{uuid.uuid4().hex[:10]}:"
    handles: list[RedisCache] = []

    def make() -> Cache:
        handle = RedisCache(url, prefix)
        handles.append(handle)
        return handle

    yield make
    if handles:
        await handles[0].clear_prefix()
    for h in handles:
        await h.close()


async def test_search_and_fetch_through_the_site_paths(
    site: FakeSite, shared_cache: Callable[[], Cache]
) -> None:
    site.search_pages["Gorgon City Space Miami"] = SEARCH_30
    async with TracklistsClient(shared_cache(), config(site)) as client:
        hits = await client.search("Gorgon City Space Miami")
        assert len(hits) == 30
        assert await client.search("nothing like this") == []
        page = await client.fetch_tracklist(site.base_url + AFRO_PATH)
    assert page.short_id == "2wrmg6f1" and len(page.entries) == 57
    posts = site.requests_to("/search/result.php")
    assert [h.method for h in posts] == ["POST", "POST"]
    assert "main_search=Gorgon+City+Space+Miami" in posts[0].body
    assert "search_selection=9" in posts[0].body
    agents = {h.headers["User-Agent"] for h in site.hits}
    assert len(agents) == 1
    agent = agents.pop()
    assert agent.startswith("Tracktion/") and "+https://" in agent  # honest, with a contact URL


async def test_pages_are_cached_and_revalidated_with_conditional_requests(site: FakeSite) -> None:
    cache = MemoryCache()
    async with TracklistsClient(cache, config(site)) as client:
        first = await client.get_page(ARMIN_PATH)
        again = await client.get_page(ARMIN_PATH)
        assert again == first
        assert len(site.requests_to(ARMIN_PATH)) == 1  # served from the cache while fresh
        revalidated = await client.get_page(ARMIN_PATH, refresh=True)
    assert revalidated == first
    hits = site.requests_to(ARMIN_PATH)
    assert len(hits) == 2
    assert "If-None-Match" in hits[1].headers and "If-Modified-Since" in hits[1].headers
    assert hits[1].status == 304
    # A stale page (cache time over) is revalidated too, not fetched blindly.
    async with TracklistsClient(cache, config(site, cache_ttl_s=0.0)) as stale_client:
        assert await stale_client.get_page(ARMIN_PATH) == first
    assert site.requests_to(ARMIN_PATH)[-1].status == 304


async def test_robots_disallow_is_honoured(site: FakeSite) -> None:
    site.robots = "User-agent: *\nDisallow: /tracklist/\n"
    async with TracklistsClient(MemoryCache(), config(site)) as client:
        with pytest.raises(RobotsDisallowed):
            await client.get_page(BICEP_PATH)
    assert site.requests_to("/tracklist/") == []
    assert len(site.requests_to("/robots.txt")) == 1


async def test_robots_for_another_agent_does_not_stop_us(site: FakeSite) -> None:
    site.robots = "User-agent: BadBot\nDisallow: /\n"
    async with TracklistsClient(MemoryCache(), config(site)) as client:
        assert "tlTab" in await client.get_page(BICEP_PATH)


async def test_no_robots_txt_means_no_restriction(site: FakeSite) -> None:
    site.robots = None
    async with TracklistsClient(MemoryCache(), config(site)) as client:
        assert "tlTab" in await client.get_page(BICEP_PATH)


async def test_too_many_requests_is_a_block_with_the_servers_retry_after(site: FakeSite) -> None:
    site.statuses[BICEP_PATH] = 429
    cache = MemoryCache()
    async with TracklistsClient(cache, config(site)) as client:
        with pytest.raises(BlockedError) as info:
            await client.get_page(BICEP_PATH)
        assert info.value.retry_after_s == 900  # Retry-After beats the 300 s first back-off
        assert await client.blocked_until() is not None
        # Once the back-off is over the page is fetched for real: nothing was cached from the 429.
        await cache.delete(BACKOFF_KEY)
        del site.statuses[BICEP_PATH]
        assert "tlTab" in await client.get_page(BICEP_PATH)
    assert [h.status for h in site.requests_to(BICEP_PATH)] == [429, 200]


async def test_server_errors_are_fetch_errors_and_not_cached(site: FakeSite) -> None:
    site.statuses[ARMIN_PATH] = 503
    async with TracklistsClient(MemoryCache(), config(site)) as client:
        with pytest.raises(FetchError, match="HTTP 503"):
            await client.get_page(ARMIN_PATH)
        del site.statuses[ARMIN_PATH]
        assert "tlTab" in await client.get_page(ARMIN_PATH)  # nothing stale was kept
    assert len(site.requests_to(ARMIN_PATH)) == 2


@pytest.mark.parametrize(
    ("base_url", "explained"),
    [
        # .invalid never resolves (RFC 2606): what a machine without a network sees.
        ("http://tracktion-offline.invalid", "could not be looked up (no internet connection?)"),
        ("http://127.0.0.1:9", "no connection to 127.0.0.1 could be made"),  # discard port: refused
    ],
)
async def test_an_unreachable_site_is_explained_in_words(base_url: str, explained: str) -> None:
    offline = ClientConfig(base_url=base_url, min_interval_s=0.0)
    async with TracklistsClient(MemoryCache(), offline) as client:
        with pytest.raises(FetchError) as failure:
            await client.get_page(ARMIN_PATH)
    message = str(failure.value)
    assert explained in message and "nothing was changed" in message
    assert "Errno" not in message  # the job panel shows this text to the user


async def test_blocked_page_backs_off_for_every_worker_and_caches_nothing(
    site: FakeSite, shared_cache: Callable[[], Cache]
) -> None:
    worker_a = TracklistsClient(shared_cache(), config(site))
    worker_b = TracklistsClient(shared_cache(), config(site))
    try:
        with pytest.raises(BlockedError) as info:
            await worker_a.fetch_tracklist(BLOCKED_PATH)
        message = str(info.value)
        assert "browser" in message and BLOCKED_PATH in message and "captcha" in message
        assert info.value.retry_after_s is not None and info.value.retry_after_s >= 300
        served = len(site.hits)
        # The other worker does not even ask the site while the back-off runs.
        with pytest.raises(BlockedError) as later:
            await worker_b.get_page(AFRO_PATH)
        assert len(site.hits) == served
        assert later.value.retry_after_s is not None and later.value.retry_after_s > 290
        # Nothing from the block page was cached as content.
        cache = shared_cache()
        await cache.delete(BACKOFF_KEY)  # the back-off ran out
        with pytest.raises(BlockedError) as second:
            await worker_b.fetch_tracklist(BLOCKED_PATH)
        assert len(site.requests_to(BLOCKED_PATH)) == 2
        # A second block soon after the first waits longer.
        assert second.value.retry_after_s is not None and second.value.retry_after_s >= 600
        assert await cache.get(BACKOFF_LEVEL_KEY) == b"2"
    finally:
        await worker_a.close()
        await worker_b.close()


async def test_one_request_at_a_time_spaced_across_workers(
    site: FakeSite, shared_cache: Callable[[], Cache]
) -> None:
    site.latency_s = 0.05
    site.search_pages["Gorgon City"] = SEARCH_30
    workers = [TracklistsClient(shared_cache(), config(site)) for _ in range(3)]
    try:
        jobs = [
            workers[0].get_page(AFRO_PATH),
            workers[1].get_page(ARMIN_PATH),
            workers[2].get_page(BICEP_PATH),
            workers[0].search("Gorgon City"),
            workers[1].search("someone else"),
        ]
        await asyncio.gather(*jobs)
    finally:
        for w in workers:
            await w.close()
    assert site.max_in_flight == 1
    starts = sorted(h.started for h in site.hits)
    ends = sorted(h.ended for h in site.hits)
    assert len(starts) == 6  # robots.txt once, then five pages
    for prev_end, start in zip(ends, starts[1:], strict=False):
        assert start - prev_end >= INTERVAL * 0.95


WORKER_SCRIPT = """
import asyncio, sys
from backend.cache.redis_cache import RedisCache
from backend.tracklists.client import ClientConfig, TracklistsClient

async def main(redis_url, prefix, base_url, page, query):
    cache = RedisCache(redis_url, prefix)
    config = ClientConfig(base_url=base_url, min_interval_s=float(sys.argv[6]))
    async with TracklistsClient(cache, config) as client:
        await client.get_page(page)
        await client.search(query)
    await cache.close()

asyncio.run(main(*sys.argv[1:6]))
"""


async def test_worker_processes_sharing_redis_take_turns(site: FakeSite, redis_url: str) -> None:
    """Three worker processes, one Redis: never two requests at once, always the interval between."""
    site.latency_s = 0.05
    prefix = f"tltest_{uuid.uuid4().hex[:10]}:"
    pages = [AFRO_PATH, ARMIN_PATH, BICEP_PATH]
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            WORKER_SCRIPT,
            redis_url,
            prefix,
            site.base_url,
            path,
            f"query {n}",
            str(INTERVAL),
            cwd=REPO,
            stderr=asyncio.subprocess.PIPE,
        )
        for n, path in enumerate(pages)
    ]
    try:
        for proc in procs:
            _, err = await asyncio.wait_for(proc.communicate(), 120)
            assert proc.returncode == 0, err.decode()
    finally:
        cleaner = RedisCache(redis_url, prefix)
        await cleaner.clear_prefix()
        await cleaner.close()
    assert len(site.hits) == 7  # robots.txt once for all, then 3 pages and 3 searches
    assert site.max_in_flight == 1
    hits = sorted(site.hits, key=lambda h: h.started)
    for prev, nxt in itertools.pairwise(hits):
        assert nxt.started - prev.ended >= INTERVAL * 0.95
