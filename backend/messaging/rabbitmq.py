"""The RabbitMQ adapter (aio-pika, robust connection, publisher confirms).

Reconnection is ours, not aio-pika's robust channels (whose channel restore can race with in-flight acks and
leave a consumer dead): when the connection drops, a loop reconnects with backoff and rebuilds the topology, the
consumers and the event subscriptions. Publishing waits for the connection and retries until the broker
confirms (bounded), so no message is lost in between. Unacked deliveries of a dead connection are redelivered
by the broker; the runtime's inbox makes that harmless.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

import aio_pika
import aiormq
from aio_pika.abc import (
    AbstractChannel,
    AbstractConnection,
    AbstractIncomingMessage,
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
CONFIRM_TIMEOUT_S = 10.0
PUBLISH_BATCH = 500  # messages in flight awaiting confirms at once


class _RabbitDelivery(Delivery):
    def __init__(self, bus: RabbitBus, kind: WorkerKind, message: AbstractIncomingMessage) -> None:
        self._bus, self._kind, self._message = bus, kind, message
        self.body = message.body
        self.attempt = int((message.headers or {}).get(ATTEMPT_HEADER, 1))  # type: ignore[arg-type]
        self.redelivered = bool(message.redelivered)

    async def ack(self) -> None:
        await _settle_quietly(self._message.ack())

    async def retry(self, delay_s: float, reason: str) -> None:
        step = retry_step(delay_s)
        await self._bus._publish_raw(
            "",
            self._bus.names.retry(self._kind, step),
            self.body,
            {ATTEMPT_HEADER: self.attempt + 1, REASON_HEADER: reason[:1000]},
        )
        await _settle_quietly(self._message.ack())

    async def dead_letter(self, reason: str) -> None:
        await self._bus._publish_raw(
            "",
            self._bus.names.dead(self._kind),
            self.body,
            {ATTEMPT_HEADER: self.attempt, REASON_HEADER: reason[:4000]},
        )
        await _settle_quietly(self._message.ack())


async def _settle_quietly(ack: Any) -> None:
    """Ack on a channel that died meanwhile: the broker redelivers the message; the inbox skips it."""
    try:
        await ack
    except (
        aiormq.exceptions.AMQPError,
        aiormq.exceptions.ChannelInvalidStateError,
        RuntimeError,
    ) as exc:
        log.warning("could not ack (connection lost?): %s; the message will be redelivered", exc)


class RabbitBus(Bus):
    """Bus on RabbitMQ: one topic exchange, a work queue + dead-letter + delay queues per worker kind."""

    def __init__(self, url: str, prefix: str = "tracktion") -> None:
        self.url = url
        self.names = Names(prefix)
        self._connection: AbstractConnection | None = None
        self._publish_channel: AbstractChannel | None = None
        self._connected = asyncio.Event()
        self._closing = False
        self._reconnect_task: asyncio.Task[None] | None = None
        # What to rebuild after a reconnect.
        self._consumers: list[tuple[WorkerKind, DeliveryHandler, int]] = []
        self._subscriptions: dict[int, tuple[tuple[str, ...], EventCallback]] = {}
        self._channels: list[
            AbstractChannel
        ] = []  # consumer + subscription channels of this connection

    async def start(self) -> None:
        try:
            await self._connect()
        except (TimeoutError, OSError, aiormq.exceptions.AMQPError) as exc:
            raise BusUnavailable(
                f"RabbitMQ is not reachable at {mask_url(self.url)}: {exc}"
            ) from exc

    async def _connect(self) -> None:
        connection = await aio_pika.connect(self.url, timeout=10)
        try:
            self._publish_channel = await connection.channel(publisher_confirms=True)
            await self._declare(self._publish_channel)
            self._channels = []
            for kind, handler, prefetch in self._consumers:
                await self._open_consumer(connection, kind, handler, prefetch)
            for key, (patterns, callback) in self._subscriptions.items():
                await self._open_subscription(connection, key, patterns, callback)
        except BaseException:
            await connection.close()
            raise
        connection.close_callbacks.add(self._on_connection_closed)
        self._connection = connection
        self._connected.set()

    def _on_connection_closed(self, _sender: Any, exc: BaseException | None = None) -> None:
        self._connected.clear()
        if self._closing or (self._reconnect_task is not None and not self._reconnect_task.done()):
            return
        log.warning("RabbitMQ connection lost (%s); reconnecting", exc)
        self._reconnect_task = asyncio.get_running_loop().create_task(self._reconnect_loop())

    async def _reconnect_loop(self) -> None:
        delay = 0.2
        while not self._closing:
            try:
                await self._connect()
                log.warning("RabbitMQ connection restored")
                return
            except (TimeoutError, OSError, aiormq.exceptions.AMQPError, RuntimeError) as exc:
                log.warning("RabbitMQ still unreachable at %s: %s", mask_url(self.url), exc)
                await asyncio.sleep(delay)  # backoff between reconnect attempts
                delay = min(delay * 2, 10.0)

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
        self._closing = True
        if self._reconnect_task is not None:
            self._reconnect_task.cancel()
        await self.stop_consuming()
        if self._connection is not None:
            await self._connection.close()
            self._connection = None
        self._connected.clear()

    async def publish(self, messages: Sequence[Envelope[Any]]) -> None:
        # Confirms are awaited together: one round trip per batch instead of one per message.
        for start in range(0, len(messages), PUBLISH_BATCH):
            batch = messages[start : start + PUBLISH_BATCH]
            await asyncio.gather(
                *(
                    self._publish_raw(self.names.events, m.type, encode(m), {}, message_id=m.id)
                    for m in batch
                )
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
        properties = aiormq.spec.Basic.Properties(
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT.value,
            content_type="application/json",
            headers=headers,
            message_id=message_id,
        )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + PUBLISH_DEADLINE_S
        while True:
            try:
                if not self._connected.is_set():  # (wait_for costs a task: not per message)
                    await asyncio.wait_for(
                        self._connected.wait(), max(0.01, deadline - loop.time())
                    )
                channel = self._publish_channel
                assert channel is not None
                if channel.is_closed:
                    raise aiormq.exceptions.ChannelInvalidStateError(f"{channel!r} closed")
                # Straight on the aiormq channel (what aio-pika's Exchange.publish does too): its
                # Message and Exchange wrappers cost as much again per message as the frames, and a
                # scan publishes one analysis request per new track. A nack raises DeliveryError.
                # A confirm that never comes (connection died mid-publish) must not hang us.
                underlay = await channel.get_underlay_channel()
                await underlay.basic_publish(
                    body,
                    exchange=exchange,
                    routing_key=routing_key,
                    properties=properties,
                    mandatory=False,
                    timeout=CONFIRM_TIMEOUT_S,
                )
                return
            except (
                TimeoutError,
                aiormq.exceptions.AMQPError,
                aiormq.exceptions.ChannelInvalidStateError,
                ConnectionError,
                RuntimeError,
            ) as exc:
                if loop.time() >= deadline or self._closing:
                    raise BusUnavailable(
                        f"RabbitMQ at {mask_url(self.url)} did not confirm a message: {exc!r}"
                    ) from exc
                log.warning("publish failed (%r); retrying after reconnect", exc)
                # The connection-closed callback may not have run yet: wait for it to notice.
                await asyncio.sleep(0.05)

    async def consume(self, kind: WorkerKind, handler: DeliveryHandler, prefetch: int) -> None:
        if self._connection is None:
            raise BusUnavailable(f"RabbitMQ bus not started ({mask_url(self.url)})")
        self._consumers.append((kind, handler, prefetch))
        await self._open_consumer(self._connection, kind, handler, prefetch)

    async def _open_consumer(
        self,
        connection: AbstractConnection,
        kind: WorkerKind,
        handler: DeliveryHandler,
        prefetch: int,
    ) -> None:
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=max(1, prefetch))
        queue = await channel.get_queue(self.names.work(kind), ensure=True)

        async def on_message(message: AbstractIncomingMessage) -> None:
            await handler(_RabbitDelivery(self, kind, message))

        await queue.consume(on_message)
        self._channels.append(channel)

    async def stop_consuming(self) -> None:
        """Close consumer channels: unacked deliveries go back to their queues for other workers."""
        self._consumers = []
        self._subscriptions = {}
        channels, self._channels = self._channels, []
        for channel in channels:
            try:
                await channel.close()
            except Exception as exc:  # closing a dead channel is not worth failing a shutdown for
                log.debug("closing consumer channel: %s", exc)

    async def subscribe(self, patterns: Sequence[str], callback: EventCallback) -> Unsubscribe:
        if self._connection is None:
            raise BusUnavailable(f"RabbitMQ bus not started ({mask_url(self.url)})")
        key = id(callback) ^ len(self._subscriptions) << 48
        self._subscriptions[key] = (tuple(patterns), callback)
        channel = await self._open_subscription(self._connection, key, tuple(patterns), callback)

        async def unsubscribe() -> None:
            self._subscriptions.pop(key, None)
            try:
                await channel.close()
            except Exception as exc:
                log.debug("closing subscription: %s", exc)

        return unsubscribe

    async def _open_subscription(
        self,
        connection: AbstractConnection,
        key: int,
        patterns: tuple[str, ...],
        callback: EventCallback,
    ) -> AbstractChannel:
        channel = await connection.channel()
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

        await queue.consume(on_message)
        self._channels.append(channel)
        return channel

    def _require(self) -> AbstractChannel:
        if self._publish_channel is None or not self._connected.is_set():
            raise BusUnavailable(f"RabbitMQ is not connected ({mask_url(self.url)})")
        return self._publish_channel

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
