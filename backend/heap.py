"""Keep Python's full garbage collections off the critical path (the GUI thread, a scan).

A full (generation 2) collection walks every tracked object; in the app those are mostly permanent —
modules, Qt wrappers, the library's search index — and walking them paused the GUI thread for 100–140 ms
several times during a 10k-file scan. Freezing what is alive once the app is ready moves it to the
permanent generation, so later collections only walk what was created since.

What is created since is still plenty during a scan (the catalog's batches, bus messages, id vectors):
with Python's default of a full collection every 10 gen-1 collections, a 10k-file scan ran five of them,
15–25 ms each. Ten times fewer full collections take them out of the scan (0–1 instead of ~5); garbage
in reference cycles waits longer for one, which costs a little memory, never correctness.

Commands and worker processes freeze too, once their services are open: a full collection then cost
~30 ms, twice in a 0.1 s re-scan of 5,000 files.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

GEN1_COLLECTIONS_PER_FULL = 100  # Python's default is 10


def freeze_startup_heap() -> None:
    """Collect start-up garbage once, exempt everything still alive from later collections, and
    space the full collections out."""
    gc.collect()
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, GEN1_COLLECTIONS_PER_FULL)


@contextmanager
def startup_heap_frozen() -> Iterator[None]:
    """``freeze_startup_heap`` for the length of one command; the heap is left as it was found (a
    command run in-process, as tests do, does not keep the caller's objects frozen)."""
    threshold = gc.get_threshold()
    freeze_startup_heap()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
