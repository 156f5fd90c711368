"""The one exchange topology, declared here and nowhere else.

- ``<prefix>.events``: a durable topic exchange; every message is published to it with its type as routing key.
- one durable work queue per worker kind, bound to the types that kind handles;
- ``<prefix>.<kind>.dead``: its dead-letter queue (poison messages, reason in a header and on the job);
- ``<prefix>.<kind>.retry.<N>s``: delay queues without consumers; when a message's time is up RabbitMQ
  dead-letters it back into the work queue (delayed retry with backoff, no plugin needed).
The in-process bus routes with the same bindings, so both adapters agree on who receives what.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Literal

WorkerKind = Literal["catalog", "analysis", "tracklists", "graph"]
WORKER_KINDS: tuple[WorkerKind, ...] = ("catalog", "analysis", "tracklists", "graph")

BINDINGS: dict[WorkerKind, tuple[str, ...]] = {
    "catalog": ("file.*",),
    "analysis": ("analysis.requested", "analysis.batch"),
    "tracklists": ("tracklist.requested", "recording.analyzed"),
    "graph": (
        "track.analyzed",
        "track.moved",
        "track.removed",
        "track.missing",
        "tracklist.applied",
    ),
}

# Kinds whose messages must be applied one at a time, in order: a file moved between roots arrives as a
# deletion and a creation, and handling both at once can undo the move (the heavy reading and hashing of a
# scan is parallel inside the handler anyway). Run a single worker process of these kinds.
ORDERED_KINDS: frozenset[WorkerKind] = frozenset({"catalog"})

# Delay steps for retries; a retry waits in the smallest step that is at least the backoff asked for.
RETRY_DELAYS_S: tuple[int, ...] = (1, 5, 30, 120, 600)


@functools.lru_cache(maxsize=4096)
def matches(pattern: str, routing_key: str) -> bool:
    """AMQP topic matching: ``*`` is one word, ``#`` zero or more (cached: asked per message)."""
    return _match(pattern.split("."), routing_key.split("."))


def _match(pat: list[str], key: list[str]) -> bool:
    if not pat:
        return not key
    head, rest = pat[0], pat[1:]
    if head == "#":
        return any(_match(rest, key[i:]) for i in range(len(key) + 1))
    if not key:
        return False
    return (head == "*" or head == key[0]) and _match(rest, key[1:])


@functools.cache
def consumers_of(routing_key: str) -> tuple[WorkerKind, ...]:
    """The worker kinds whose queue receives a message of this type (cached: a scan asks per track)."""
    return tuple(
        kind for kind, pats in BINDINGS.items() if any(matches(p, routing_key) for p in pats)
    )


def retry_step(delay_s: float) -> int:
    for step in RETRY_DELAYS_S:
        if step >= delay_s:
            return step
    return RETRY_DELAYS_S[-1]


@dataclass(frozen=True)
class Names:
    """Exchange and queue names under one prefix (tests use a unique prefix per run)."""

    prefix: str

    @property
    def events(self) -> str:
        return f"{self.prefix}.events"

    def work(self, kind: str) -> str:
        return f"{self.prefix}.{kind}"

    def dead(self, kind: str) -> str:
        return f"{self.prefix}.{kind}.dead"

    def retry(self, kind: str, step_s: int) -> str:
        return f"{self.prefix}.{kind}.retry.{step_s}s"

    def all_queues(self) -> list[str]:
        names: list[str] = []
        for kind in WORKER_KINDS:
            names += [self.work(kind), self.dead(kind)]
            names += [self.retry(kind, s) for s in RETRY_DELAYS_S]
        return names
