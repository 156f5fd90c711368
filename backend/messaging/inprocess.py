"""The in-process bus of embedded mode: asyncio queues routed by the same bindings as RabbitMQ.

Messages are encoded and decoded exactly as on RabbitMQ, so validation and routing behave the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from backend.messaging.bus import Bus, Delivery, DeliveryHandler, EventCallback, Unsubscribe
from backend.messaging.contracts import Envelope, decode, encode
from backend.messaging.topology import WORKER_KINDS, WorkerKind, consumers_of, matches

log = logging.getLogger(__name__)


@dataclass
class _Item:
    body: bytes
    attempt: int
    redelivered: bool = False


class _InProcessDelivery(Delivery):
    def __init__(self, bus: InProcessBus, kind: WorkerKind, item: _Item) -> None:
        self._bus, self._kind, self._item = bus, kind, item
        self.body, self.attempt, self.redelivered = item.body, item.attempt, item.redelivered
        self.settled = False

    def _settle(self) -> None:
        if self.settled:
            raise RuntimeError("delivery already settled")
        self.settled = True

    async def ack(self) -> None:
        self._settle()

    async def retry(self, delay_s: float, reason: str) -> None:
        self._settle()
        item = _Item(self.body, self.attempt + 1)
        self._bus._schedule(self._kind, item, delay_s)

    async def dead_letter(self, reason: str) -> None:
        self._settle()
        self._bus._dead[self._kind].append((self.body, reason))


class InProcessBus(Bus):
    """Same semantics as the RabbitMQ adapter, inside one process (embedded mode)."""

    def __init__(self, *, retry_scale: float = 1.0) -> None:
        # retry_scale shortens retry delays (tests); 1.0 in production.
        self._retry_scale = retry_scale
        # Jobs created before this moment cannot be in these queues (see worker.local.requeue_orphans).
        self.created_at = dt.datetime.now(dt.UTC)
        self._queues: dict[WorkerKind, asyncio.Queue[_Item]] = {
            k: asyncio.Queue() for k in WORKER_KINDS
        }
        self._dead: dict[WorkerKind, list[tuple[bytes, str]]] = {k: [] for k in WORKER_KINDS}
        self._consumers: list[asyncio.Task[None]] = []
        self._busy = 0  # deliveries being handled right now
        self._timers: set[asyncio.TimerHandle] = set()
        self._subscribers: list[tuple[tuple[str, ...], EventCallback]] = []

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        await self.stop_consuming()
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()

    async def publish(self, messages: Sequence[Envelope[Any]]) -> None:
        for message in messages:
            body = encode(message)
            for kind in consumers_of(message.type):
                self._queues[kind].put_nowait(_Item(body, 1))
            for patterns, callback in list(self._subscribers):
                if any(matches(p, message.type) for p in patterns):
                    await _safe_call(callback, decode(body))

    def requeue(self, kind: WorkerKind, body: bytes) -> None:
        """Put an already-encoded message back on one kind's queue (jobs left by a stopped process)."""
        self._queues[kind].put_nowait(_Item(body, 1, redelivered=True))

    def _schedule(self, kind: WorkerKind, item: _Item, delay_s: float) -> None:
        loop = asyncio.get_running_loop()

        def put() -> None:
            self._timers.discard(handle)
            self._queues[kind].put_nowait(item)

        handle = loop.call_later(max(0.0, delay_s * self._retry_scale), put)
        self._timers.add(handle)

    async def consume(self, kind: WorkerKind, handler: DeliveryHandler, prefetch: int) -> None:
        for _ in range(max(1, prefetch)):
            self._consumers.append(asyncio.create_task(self._consume_loop(kind, handler)))

    async def _consume_loop(self, kind: WorkerKind, handler: DeliveryHandler) -> None:
        queue = self._queues[kind]
        while True:
            item = await queue.get()
            delivery = _InProcessDelivery(self, kind, item)
            self._busy += 1
            try:
                await handler(delivery)
            except asyncio.CancelledError:
                # Cancelled mid-message (drain timeout / shutdown): put it back, like a broker would.
                if not delivery.settled:
                    queue.put_nowait(_Item(item.body, item.attempt, redelivered=True))
                raise
            except Exception:  # the runtime settles deliveries itself; this is a last resort
                log.exception("consumer of %s failed; message requeued", kind)
                if not delivery.settled:
                    queue.put_nowait(_Item(item.body, item.attempt, redelivered=True))
            finally:
                self._busy -= 1

    async def stop_consuming(self) -> None:
        consumers, self._consumers = self._consumers, []
        for task in consumers:
            task.cancel()
        for task in consumers:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def subscribe(self, patterns: Sequence[str], callback: EventCallback) -> Unsubscribe:
        entry = (tuple(patterns), callback)
        self._subscribers.append(entry)

        async def unsubscribe() -> None:
            if entry in self._subscribers:
                self._subscribers.remove(entry)

        return unsubscribe

    async def queue_depths(self) -> dict[str, int]:
        depths: dict[str, int] = {}
        for kind in WORKER_KINDS:
            depths[kind] = self._queues[kind].qsize()
            depths[f"{kind}.dead"] = len(self._dead[kind])
        return depths

    async def dead_letters(self, kind: WorkerKind) -> list[tuple[bytes, str]]:
        return list(self._dead[kind])

    def idle(self) -> bool:
        """No message waiting, scheduled for retry, or being handled."""
        return (
            not self._timers and self._busy == 0 and all(q.empty() for q in self._queues.values())
        )


async def _safe_call(callback: EventCallback, message: Envelope[Any]) -> None:
    try:
        await callback(message)
    except Exception:  # a broken view must not break the pipeline
        log.exception("event subscriber failed on %s", message.type)
