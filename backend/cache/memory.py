"""In-process cache for embedded mode: an LRU bounded by total bytes, and asyncio locks."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from backend.cache.port import Cache, LockTimeout


class MemoryCache(Cache):
    def __init__(self, max_bytes: int = 256 * 1024 * 1024) -> None:
        self._max_bytes = max_bytes
        self._size = 0
        self._items: OrderedDict[str, tuple[bytes, float | None]] = OrderedDict()
        self._locks: dict[str, asyncio.Lock] = {}

    async def get(self, key: str) -> bytes | None:
        item = self._items.get(key)
        if item is None:
            return None
        value, expires = item
        if expires is not None and expires <= time.monotonic():
            await self.delete(key)
            return None
        self._items.move_to_end(key)
        return value

    async def set(self, key: str, value: bytes, ttl_s: float | None = None) -> None:
        await self.delete(key)
        expires = None if ttl_s is None else time.monotonic() + ttl_s
        self._items[key] = (value, expires)
        self._size += len(value)
        while self._size > self._max_bytes and self._items:
            _, (old, _) = self._items.popitem(last=False)
            self._size -= len(old)

    async def delete(self, key: str) -> None:
        item = self._items.pop(key, None)
        if item is not None:
            self._size -= len(item[0])

    @asynccontextmanager
    async def _lock(self, name: str, wait_s: float | None) -> AsyncIterator[None]:
        lock = self._locks.setdefault(name, asyncio.Lock())
        try:
            await asyncio.wait_for(lock.acquire(), wait_s)
        except TimeoutError:
            raise LockTimeout(f"lock {name!r} not free within {wait_s} s") from None
        try:
            yield
        finally:
            lock.release()

    def lock(
        self, name: str, ttl_s: float = 60.0, wait_s: float | None = None
    ) -> AbstractAsyncContextManager[None]:
        return self._lock(name, wait_s)

    async def ping(self) -> None:
        return None
