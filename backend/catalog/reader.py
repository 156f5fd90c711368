"""Reading files (tags + fingerprint) on every core: the CPU-bound half of a scan.

mutagen and hashing hold the GIL, so parallel reading needs processes. A pool is started on first use and
kept for the life of the process (a watcher or catalog worker reads many small batches); tiny batches are
read in a thread instead, where starting processes would cost more than it saves.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import ctypes
import io
import multiprocessing
import os
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any, BinaryIO

from backend.catalog.fingerprint import FingerprintError, fingerprint_stream
from backend.catalog.formats import has_audio_extension, sniff_stream
from backend.catalog.tags import TagReadError, mutagen_classes, read_tags_stream

READER_NICENESS = 10  # see _lower_priority
CHUNK_FILES = 24  # files per task read in a thread
MAX_CHUNK_FILES = (
    64  # per pool task: bigger chunks cost the main process less to hand out and collect
)
CHUNKS_PER_PROCESS = (
    4  # … but each process gets several, so none sits idle while another still reads
)
THREAD_ONLY_BELOW = 48  # batches smaller than this are read in a thread
IN_MEMORY_MAX = 64 << 20  # files up to this size are read at once (a track); longer ones stream
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters (malloc.h)
_HEAP_ALLOCATIONS_UP_TO = 32 << 20  # glibc's largest mmap threshold on 64-bit systems


@dataclass(frozen=True)
class Inspected:
    """The outcome of reading one file; exactly one of ``columns`` / ``error`` / ``ignored`` applies."""

    key: str  # stored relative path
    size: int = 0
    mtime: float = 0.0
    fingerprint: str | None = None
    columns: dict[str, Any] | None = None
    error: str | None = None
    ignored: bool = False  # not audio and not named like audio: not a track at all
    unstable: bool = False  # changed while being read (still being copied): try again later


def inspect_one(key: str, path: str) -> Inspected:
    """Read one file; every failure becomes a readable reason instead of an exception."""
    try:
        with open(path, "rb") as fh:
            before = os.fstat(fh.fileno())
            if before.st_size == 0:
                return Inspected(key, 0, before.st_mtime, error="empty file (0 bytes)")
            # One read of the whole file, then parsing and hashing from memory: the many small reads
            # and seeks of a tag parser cost a system call each on the file. Long recordings stream.
            source: BinaryIO = io.BytesIO(fh.read()) if before.st_size <= IN_MEMORY_MAX else fh
            fmt = sniff_stream(source)
            if fmt is None:
                if not has_audio_extension(path):
                    return Inspected(key, before.st_size, before.st_mtime, ignored=True)
                return Inspected(
                    key,
                    before.st_size,
                    before.st_mtime,
                    error="not an audio file (unrecognised content)",
                )
            record = read_tags_stream(source, fmt)
            fingerprint = fingerprint_stream(source, fmt)
        after = os.stat(path)
    except PermissionError:
        return Inspected(key, error="permission denied: Tracktion cannot read this file")
    except FileNotFoundError:
        return Inspected(key, error="file disappeared while being read", unstable=True)
    except (TagReadError, FingerprintError) as exc:
        return Inspected(key, before.st_size, before.st_mtime, error=str(exc))
    except OSError as exc:
        return Inspected(key, error=f"cannot read the file: {exc.strerror or exc}")
    except Exception as exc:  # a damaged file must never stop a scan
        return Inspected(key, error=f"unreadable file ({type(exc).__name__}: {exc})"[:500])
    if (after.st_size, after.st_mtime) != (before.st_size, before.st_mtime):
        return Inspected(key, after.st_size, after.st_mtime, unstable=True)
    return Inspected(key, after.st_size, after.st_mtime, fingerprint, record.columns())


def inspect_many(items: list[tuple[str, str]]) -> list[Inspected]:
    """``inspect_one`` over (key, absolute path) pairs; the unit of work sent to a pool process."""
    return [inspect_one(key, path) for key, path in items]


_pool: ProcessPoolExecutor | None = None
_pool_size = 0
_pool_lock = threading.Lock()  # scans start readers from the loop and from worker threads


def processes(configured: int) -> int:
    """Processes to read with: the setting, or one per core when it is 0."""
    return configured if configured > 0 else max(1, os.cpu_count() or 1)


def _get_pool(size: int) -> Executor:
    global _pool, _pool_size
    with _pool_lock:
        if _pool is None or _pool_size != size:
            if _pool is not None:
                _pool.shutdown(wait=False, cancel_futures=True)
            _pool = ProcessPoolExecutor(
                max_workers=size, mp_context=_context(), initializer=_init_reader
            )
            _pool_size = size
        return _pool


def start_readers(n_processes: int) -> None:
    """Start the reader processes now, so they are ready (parsers imported) when files come."""
    if n_processes > 1:
        _get_pool(n_processes).submit(int)  # with fork, the first task starts every process


def _init_reader() -> None:
    _lower_priority()
    _reuse_freed_memory()


def _reuse_freed_memory() -> None:
    """Serve whole-file reads from memory the process already has.

    glibc gives every allocation over 128 kB a mapping of its own and unmaps it when freed, so each
    track read into memory would fault in fresh zeroed pages: 70 µs of the ~500 µs a 180 kB WAV costs,
    1–2 ms for a 10 MB MP3 (5 % of a reader's CPU on the benchmark corpus). A reader holds one file at
    a time, so keeping freed memory costs at most about the largest file read. Elsewhere (not glibc)
    allocation stays as it is.
    """
    if _mallopt is not None:
        _mallopt(_M_MMAP_THRESHOLD, _HEAP_ALLOCATIONS_UP_TO)
        _mallopt(_M_TRIM_THRESHOLD, 2 * _HEAP_ALLOCATIONS_UP_TO)


def _find_mallopt() -> Any:
    # Looked up when this module is imported, in the parent: a forked child must not dlopen (another
    # thread of the parent may have held the loader's lock at the fork).
    try:
        return ctypes.CDLL(None).mallopt
    except (OSError, AttributeError, TypeError):
        return None


_mallopt = _find_mallopt()
# The parsers too are loaded with this module, before any reader is forked: every child starts with them,
# and none imports (or loads a library) in a process forked from a threaded parent.
mutagen_classes()


def _lower_priority() -> None:
    """Readers are background work: the scanning process comes first when both want a core.

    That process runs the event loop (the app's interface, in embedded mode) and writes what the
    readers found; with as many readers as cores, equal priorities leave it waiting for a time slice
    (loop lag, and a pipeline starved of writes). On an idle machine the readers still get every
    spare cycle.
    """
    if hasattr(os, "nice"):
        with contextlib.suppress(OSError):
            os.nice(READER_NICENESS)


def _context() -> multiprocessing.context.BaseContext:
    """fork where there is one: children start in milliseconds and import nothing.

    The children only read files (no locks, threads or Qt of the parent are touched), which is what
    makes forking a threaded parent safe here. forkserver/spawn re-import the parent's main module in
    every child (seconds for the CLI or the app), which would cost more than small scans take.
    """
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def shutdown_pool() -> None:
    """Stop the reader processes (called at exit; tests may call it to free the cores)."""
    global _pool
    with _pool_lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)


atexit.register(shutdown_pool)


async def read_files(
    items: list[tuple[str, str]],
    n_processes: int,
    on_done: Callable[[int], None] | None = None,
) -> AsyncIterator[list[Inspected]]:
    """Read (key, absolute path) pairs, yielding results in chunks as they finish (order not kept)."""
    if not items:
        return
    if len(items) < THREAD_ONLY_BELOW or n_processes <= 1:
        for start in range(0, len(items), CHUNK_FILES):
            chunk = await asyncio.to_thread(inspect_many, items[start : start + CHUNK_FILES])
            if on_done:
                on_done(len(chunk))
            yield chunk
        return
    loop = asyncio.get_running_loop()
    pool = _get_pool(n_processes)
    size = max(8, min(MAX_CHUNK_FILES, -(-len(items) // (n_processes * CHUNKS_PER_PROCESS))))
    futures = [
        loop.run_in_executor(pool, inspect_many, items[start : start + size])
        for start in range(0, len(items), size)
    ]
    try:
        for next_done in asyncio.as_completed(futures):
            chunk = await next_done
            if on_done:
                on_done(len(chunk))
            yield chunk
    finally:
        for fut in futures:
            fut.cancel()
