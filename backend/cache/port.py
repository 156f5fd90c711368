"""What Tracktion needs of a cache: bytes under a key with a time to live, and a lock shared by workers."""

from __future__ import annotations

import abc
from contextlib import AbstractAsyncContextManager


class CacheUnavailable(ConnectionError):
    """The cache server cannot be reached; the message names it and its (masked) URL."""


class LockTimeout(TimeoutError):
    """A named lock could not be taken in time."""


class Cache(abc.ABC):
    """Results and HTTP pages by key; one lock per name across every process that shares the cache."""

    @abc.abstractmethod
    async def get(self, key: str) -> bytes | None: ...

    @abc.abstractmethod
    async def set(self, key: str, value: bytes, ttl_s: float | None = None) -> None: ...

    @abc.abstractmethod
    async def delete(self, key: str) -> None: ...

    @abc.abstractmethod
    def lock(
        self, name: str, ttl_s: float = 60.0, wait_s: float | None = None
    ) -> AbstractAsyncContextManager[None]:
        """Hold ``name`` exclusively; ``ttl_s`` frees it if the holder dies; ``wait_s`` bounds the wait."""

    @abc.abstractmethod
    async def ping(self) -> None:
        """Raise CacheUnavailable when the cache cannot be used."""

    async def close(self) -> None:
        return None
