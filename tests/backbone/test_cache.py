"""One suite for both cache adapters: in-process LRU and Redis."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from backend.cache.memory import MemoryCache
from backend.cache.port import Cache, CacheUnavailable, LockTimeout
from backend.cache.redis_cache import RedisCache


@pytest.fixture(params=["memory", "redis"])
async def cache(request: pytest.FixtureRequest) -> AsyncIterator[Cache]:
    if request.param == "memory":
        yield MemoryCache()
        return
    url = request.getfixturevalue("redis_url")
    c = RedisCache(url, prefix=f"test:{uuid.uuid4().hex}:")
    yield c
    await c.clear_prefix()
    await c.close()


async def test_set_get_delete(cache: Cache) -> None:
    assert await cache.get("page") is None
    await cache.set("page", b"<html>")
    assert await cache.get("page") == b"<html>"
    await cache.delete("page")
    assert await cache.get("page") is None


async def test_ttl_expires(cache: Cache) -> None:
    await cache.set("short", b"x", ttl_s=0.05)
    await cache.set("long", b"y", ttl_s=60)
    deadline = asyncio.get_running_loop().time() + 5
    while await cache.get("short") is not None:
        assert asyncio.get_running_loop().time() < deadline, "entry never expired"
        await asyncio.sleep(0.02)
    assert await cache.get("long") == b"y"


async def test_lock_is_exclusive_and_bounded(cache: Cache) -> None:
    order: list[str] = []
    inside = asyncio.Event()
    release = asyncio.Event()

    async def holder() -> None:
        async with cache.lock("fetch", ttl_s=10):
            order.append("a-in")
            inside.set()
            await release.wait()
            order.append("a-out")

    task = asyncio.create_task(holder())
    await inside.wait()
    with pytest.raises(LockTimeout):
        async with cache.lock("fetch", ttl_s=10, wait_s=0.1):
            pass  # pragma: no cover
    release.set()
    async with cache.lock("fetch", ttl_s=10, wait_s=5):
        order.append("b-in")
    await task
    assert order == ["a-in", "a-out", "b-in"]


async def test_memory_cache_evicts_least_recently_used() -> None:
    cache = MemoryCache(max_bytes=10)
    await cache.set("a", b"12345")
    await cache.set("b", b"12345")
    assert await cache.get("a") == b"12345"  # a is now the most recent
    await cache.set("c", b"12345")
    assert await cache.get("b") is None
    assert await cache.get("a") == b"12345" and await cache.get("c") == b"12345"


async def test_redis_down_is_a_clear_error() -> None:
    cache = RedisCache("redis://:secret@127.0.0.1:1/0")
    with pytest.raises(CacheUnavailable) as err:
        await cache.ping()
    assert "Redis is not reachable at redis://:***@127.0.0.1:1/0" in str(err.value)
    await cache.close()
