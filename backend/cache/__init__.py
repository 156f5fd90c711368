"""The cache port (bytes with a time to live, plus named locks) and its two adapters."""

from backend.cache.memory import MemoryCache
from backend.cache.port import Cache, CacheUnavailable

__all__ = ["Cache", "CacheUnavailable", "MemoryCache"]
