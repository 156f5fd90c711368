"""Redis cache for services mode; keys live under a prefix so libraries and test runs never collide."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import LockError, RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from backend.cache.port import Cache, CacheUnavailable, LockTimeout
from backend.config import mask_url


class RedisCache(Cache):
    def __init__(self, url: str, prefix: str = "tracktion:") -> None:
        self.url = url
        self.prefix = prefix
        self._redis = aioredis.Redis.from_url(
            url, socket_connect_timeout=5, socket_timeout=10, health_check_interval=30
        )

    def _key(self, key: str) -> str:
        return self.prefix + key

    def _down(self, exc: Exception) -> CacheUnavailable:
        return CacheUnavailable(f"Redis is not reachable at {mask_url(self.url)}: {exc}")

    async def get(self, key: str) -> bytes | None:
        try:
            value = await self._redis.get(self._key(key))
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            raise self._down(exc) from exc
        if value is None:
            return None
        return value if isinstance(value, bytes) else str(value).encode()

    async def set(self, key: str, value: bytes, ttl_s: float | None = None) -> None:
        try:
            px = None if ttl_s is None else max(1, int(ttl_s * 1000))
            await self._redis.set(self._key(key), value, px=px)
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            raise self._down(exc) from exc

    async def delete(self, key: str) -> None:
        try:
            await self._redis.delete(self._key(key))
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            raise self._down(exc) from exc

    @asynccontextmanager
    async def _lock(self, name: str, ttl_s: float, wait_s: float | None) -> AsyncIterator[None]:
        lock = self._redis.lock(self._key("lock:" + name), timeout=ttl_s, blocking_timeout=wait_s)
        try:
            acquired = await lock.acquire()
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            raise self._down(exc) from exc
        if not acquired:
            raise LockTimeout(f"lock {name!r} not free within {wait_s} s")
        try:
            yield
        finally:
            # Expired while held (ttl too short): nothing left to release.
            with contextlib.suppress(LockError):
                await lock.release()

    def lock(
        self, name: str, ttl_s: float = 60.0, wait_s: float | None = None
    ) -> AbstractAsyncContextManager[None]:
        return self._lock(name, ttl_s, wait_s)

    async def ping(self) -> None:
        try:
            await self._redis.ping()
        except (RedisError, OSError) as exc:
            raise self._down(exc) from exc

    async def clear_prefix(self) -> None:
        """Delete every key under this cache's prefix (tests clean up after a run)."""
        async for key in self._redis.scan_iter(match=self.prefix + "*", count=500):
            await self._redis.delete(key)

    async def close(self) -> None:
        await self._redis.aclose()
