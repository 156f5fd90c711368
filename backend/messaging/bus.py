"""The message-bus port. Two adapters implement it with the same semantics: RabbitMQ and in-process."""

from __future__ import annotations

import abc
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from backend.messaging.contracts import Envelope
from backend.messaging.topology import WorkerKind


class BusUnavailable(ConnectionError):
    """The broker cannot be reached; the message names it and its (masked) URL."""


class Delivery(abc.ABC):
    """One received message. The consumer must end it with exactly one of ack / retry / dead_letter."""

    body: bytes
    attempt: int  # 1 for the first delivery; our own retries count up, broker redeliveries do not
    redelivered: bool

    @abc.abstractmethod
    async def ack(self) -> None:
        """Done: the handler's writes are committed."""

    @abc.abstractmethod
    async def retry(self, delay_s: float, reason: str) -> None:
        """Deliver again after about ``delay_s`` (transient failure)."""

    @abc.abstractmethod
    async def dead_letter(self, reason: str) -> None:
        """Give up: park the message in the kind's dead-letter queue with the reason."""


DeliveryHandler = Callable[[Delivery], Awaitable[None]]
EventCallback = Callable[[Envelope[Any]], Awaitable[None]]
Unsubscribe = Callable[[], Awaitable[None]]


class Bus(abc.ABC):
    """Publish messages; consume a worker kind's queue; watch events for live views."""

    @abc.abstractmethod
    async def start(self) -> None:
        """Connect and declare the topology (idempotent)."""

    @abc.abstractmethod
    async def close(self) -> None: ...

    @abc.abstractmethod
    async def publish(self, messages: Sequence[Envelope[Any]]) -> None:
        """Publish and return once the broker has confirmed every message."""

    @abc.abstractmethod
    async def consume(self, kind: WorkerKind, handler: DeliveryHandler, prefetch: int) -> None:
        """Start delivering ``kind``'s queue to ``handler``, at most ``prefetch`` at a time."""

    @abc.abstractmethod
    async def stop_consuming(self) -> None:
        """Stop taking new deliveries (in-flight ones still finish): the first step of a drain."""

    @abc.abstractmethod
    async def subscribe(self, patterns: Sequence[str], callback: EventCallback) -> Unsubscribe:
        """Receive copies of matching messages (not durable; for the app's live views)."""

    @abc.abstractmethod
    async def queue_depths(self) -> dict[str, int]:
        """Ready messages per queue name (work and dead-letter queues)."""

    @abc.abstractmethod
    async def dead_letters(self, kind: WorkerKind) -> list[tuple[bytes, str]]:
        """The parked messages of a kind with their reasons (read without removing)."""
