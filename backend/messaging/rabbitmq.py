"""The RabbitMQ adapter (aio-pika, robust connection, publisher confirms).

Reconnection: ``connect_robust`` restores channels, the declared topology and consumers after a dropped
connection; publishing retries until the broker confirms (bounded), so no message is lost in between.
Unacked deliveries of a dead connection are redelivered by the broker; handlers are idempotent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

import aio_pika
import aiormq
from aio_pika.abc import (
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustChannel,
    AbstractRobustConnection,
)

from backend.config import mask_url
from backend.messaging.bus import (
    Bus,
    BusUnavailable,
    Delivery,
    DeliveryHandler,
    EventCallback,
    Unsubscribe,
)
from backend.messaging.contracts import Envelope, InvalidMessage, decode, encode
from backend.messaging.topology import (
    BINDINGS,
    RETRY_DELAYS_S,
    WORKER_KINDS,
    Names,
    WorkerKind,
    retry_step,
)

log = logging.getLogger(__name__)

ATTEMPT_HEADER = "x-tracktion-attempt"
REASON_HEADER = "x-tracktion-reason"
PUBLISH_DEADLINE_S = 60.0


class _RabbitDelivery(Delivery):
    def __init__(self, bus: RabbitBus, kind: WorkerKind, message: AbstractIncomingMessage) -> None:
        self._bus, self._kind, self._message = bus, kind, message
        self.body = message.body
        self.attempt = int((message.headers or {}).get(ATTEMPT_HEADER, 1))  # type: ignore[arg-type]
        self.redelivered = bool(message.redelivered)

    async def ack(self) -> None:
        await self._message.ack()

    async def retry(self, delay_s: float, reason: str) -> None:
        step = retry_step(delay_s)
        await self._bus._publish_raw(
            "",
            self._bus.names.retry(self._kind, step),
            self.body,
            {ATTEMPT_HEADER: self.attempt + 1, REASON_HEADER: reason[:1000]},
        )
        await self._message.ack()

    async def dead_letter(self, reason: str) -> None:
        await self._bus._publish_raw(
            "",
            self._bus.names.dead(self._kind),
            self.body,
            {ATTEMPT_HEADER: self.attempt, REASON_HEADER: reason[:4000]},
        )
        await self._message.ack()


class RabbitBus(Bus):
    """Bus on RabbitMQ: one topic exchange, a work queue + dead-letter + delay queues per worker kind."""

    def __init__(self, url: str, prefix: str = "tracktion") -> None:
        self.url = url
        self.names = Names(prefix)
        self._connection: AbstractRobustConnection | None = None
        self._publish_channel: AbstractRobustChannel | None = None
        self._consume_channels: list[tuple[AbstractRobustChannel, AbstractQueue, str]] = []
        self._exchange: aio_pika.abc.AbstractExchange | None = None
        self._publish_lock = asyncio.Lock()

    async def start(self) -> None:
        try:
            self._connection = await aio_pika.connect_robust(
                self.url, timeout=10, reconnect_interval=1
            )
        except (TimeoutError, OSError, aiormq.exceptions.AMQPError) as exc:
            raise BusUnavailable(
                f"RabbitMQ is not reachable at {mask_url(self.url)}: {exc}"
            ) from exc
        channel = await self._connection.channel(publisher_confirms=True)
        assert isinstance(channel, AbstractRobustChannel)
        self._publish_channel = channel
        await self._declare(channel)

    async def _declare(self, channel: aio_pika.abc.AbstractChannel) -> None:
        n = self.names
        self._exchange = await channel.declare_exchange(
            n.events, aio_pika.ExchangeType.TOPIC, durable=True
        )
        for kind in WORKER_KINDS:
            await channel.declare_queue(n.dead(kind), durable=True)
            work = await channel.declare_queue(
                n.work(kind),
                durable=True,
                arguments={"x-dead-letter-exchange": "", "x-dead-letter-routing-key": n.dead(kind)},
            )
            for pattern in BINDINGS[kind]:
                await work.bind(self._exchange, routing_key=pattern)
            for step in RETRY_DELAYS_S:
                await channel.declare_queue(
                    n.retry(kind, step),
                    durable=True,
                    arguments={
                        "x-message-ttl": step * 1000,
                        "x-dead-letter-exchange": "",
                        "x-dead-letter-routing-key": n.work(kind),
                    },
                )

    async def close(self) -> None:
        await self.stop_consuming()
        if self._connection is not None:
            await self._connection.close()
            self._connection = None

    def _require(self) -> AbstractRobustChannel:
        if self._publish_channel is None:
            raise BusUnavailable(f"RabbitMQ bus not started ({mask_url(self.url)})")
        return self._publish_channel

    async def publish(self, messages: Sequence[Envelope[Any]]) -> None:
        for message in messages:
            await self._publish_raw(
                self.names.events, message.type, encode(message), {}, message_id=message.id
            )

    async def _publish_raw(
        self,
        exchange: str,
        routing_key: str,
        body: bytes,
        headers: dict[str, Any],
        message_id: str | None = None,
    ) -> None:
        """Publish with confirms; on a dropped connection wait for the robust reconnect and try again."""
        msg = aio_pika.Message(
            body,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            content_type="application/json",
            headers=headers,
            message_id=message_id,
        )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + PUBLISH_DEADLINE_S
        delay = 0.1
        while True:
            channel = self._require()
            try:
                async with self._publish_lock:
                    if exchange:
                        target = await channel.get_exchange(exchange, ensure=False)
                    else:
                        target = channel.default_exchange
                    await target.publish(msg, routing_key=routing_key, mandatory=False)
                return
            except (
                TimeoutError,
                aiormq.exceptions.AMQPError,
                aiormq.exceptions.ChannelInvalidStateError,
                ConnectionError,
                RuntimeError,
            ) as exc:
                if loop.time() > deadline:
                    raise BusUnavailable(
                        f"RabbitMQ at {mask_url(self.url)} did not confirm a message: {exc}"
                    ) from exc
                log.warning("publish failed (%s); retrying after reconnect", exc)
                await asyncio.sleep(delay)  # backoff while connect_robust reconnects
                delay = min(delay * 2, 2.0)

    async def consume(self, kind: WorkerKind, handler: DeliveryHandler, prefetch: int) -> None:
        if self._connection is None:
            raise BusUnavailable(f"RabbitMQ bus not started ({mask_url(self.url)})")
        channel = await self._connection.channel()
        assert isinstance(channel, AbstractRobustChannel)
        await channel.set_qos(prefetch_count=max(1, prefetch))
        queue = await channel.get_queue(self.names.work(kind), ensure=True)

        async def on_message(message: AbstractIncomingMessage) -> None:
            await handler(_RabbitDelivery(self, kind, message))

        tag = await queue.consume(on_message)
        self._consume_channels.append((channel, queue, tag))

    async def stop_consuming(self) -> None:
        channels, self._consume_channels = self._consume_channels, []
        for channel, queue, tag in channels:
            try:
                await queue.cancel(tag)
                await channel.close()
            except Exception as exc:  # closing a dead channel is not worth failing a shutdown for
                log.debug("closing consumer channel: %s", exc)

    async def subscribe(self, patterns: Sequence[str], callback: EventCallback) -> Unsubscribe:
        if self._connection is None:
            raise BusUnavailable(f"RabbitMQ bus not started ({mask_url(self.url)})")
        channel = await self._connection.channel()
        exchange = await channel.get_exchange(self.names.events, ensure=False)
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        for pattern in patterns:
            await queue.bind(exchange, routing_key=pattern)

        async def on_message(message: AbstractIncomingMessage) -> None:
            async with message.process():
                try:
                    envelope = decode(message.body)
                except InvalidMessage as exc:
                    log.warning("ignoring invalid event: %s", exc)
                    return
                try:
                    await callback(envelope)
                except Exception:
                    log.exception("event subscriber failed on %s", envelope.type)

        tag = await queue.consume(on_message)

        async def unsubscribe() -> None:
            try:
                await queue.cancel(tag)
                await channel.close()
            except Exception as exc:
                log.debug("closing subscription: %s", exc)

        return unsubscribe

    async def queue_depths(self) -> dict[str, int]:
        channel = self._require()
        depths: dict[str, int] = {}
        for kind in WORKER_KINDS:
            for label, name in (
                (kind, self.names.work(kind)),
                (f"{kind}.dead", self.names.dead(kind)),
            ):
                queue = await channel.declare_queue(name, passive=True)
                depths[label] = int(queue.declaration_result.message_count or 0)
        return depths

    async def dead_letters(self, kind: WorkerKind) -> list[tuple[bytes, str]]:
        """Read the parked messages by taking and requeueing them (order is kept)."""
        if self._connection is None:
            raise BusUnavailable(f"RabbitMQ bus not started ({mask_url(self.url)})")
        channel = await self._connection.channel()
        try:
            queue = await channel.get_queue(self.names.dead(kind), ensure=True)
            taken: list[AbstractIncomingMessage] = []
            while (message := await queue.get(no_ack=False, fail=False)) is not None:
                taken.append(message)
            out = [(m.body, str((m.headers or {}).get(REASON_HEADER, ""))) for m in taken]
            for m in taken:
                await m.nack(requeue=True)
            return out
        finally:
            await channel.close()

    async def delete_topology(self) -> None:
        """Remove every queue and the exchange of this prefix (tests clean up after a run)."""
        channel = self._require()
        for name in self.names.all_queues():
            await channel.queue_delete(name)
        await channel.exchange_delete(self.names.events)
