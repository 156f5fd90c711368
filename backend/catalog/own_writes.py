"""Tracktion's own file writes (the tag editor), so the watcher does not treat them as outside changes.

The writer calls ``expect_write`` with the size and mtime the file has after the write; the watcher asks
``is_own_write`` before cataloguing a change. Entries live in the shared cache (Redis in services mode,
so the app, the watcher and the workers agree) and expire by themselves.
"""

from __future__ import annotations

import hashlib
import json
import os

from backend.cache.port import Cache

TTL_S = 600.0


def _key(path: str | os.PathLike[str]) -> str:
    full = os.path.normpath(os.path.abspath(os.fspath(path)))
    return "catalog:own-write:" + hashlib.blake2b(os.fsencode(full), digest_size=16).hexdigest()


async def expect_write(cache: Cache, path: str | os.PathLike[str], size: int, mtime: float) -> None:
    """Register a write Tracktion made: ``path`` now has ``size`` bytes and modification time ``mtime``."""
    await cache.set(_key(path), json.dumps([size, mtime]).encode(), ttl_s=TTL_S)


async def is_own_write(cache: Cache, path: str | os.PathLike[str], size: int, mtime: float) -> bool:
    """Whether the file's current (size, mtime) is exactly what a registered own write left."""
    raw = await cache.get(_key(path))
    if raw is None:
        return False
    expected_size, expected_mtime = json.loads(raw)
    return bool(expected_size == size and abs(expected_mtime - mtime) < 1e-6)
