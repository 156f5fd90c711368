"""Publishing work from outside a handler (CLI, app, watcher): job rows first, then the messages."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from backend.messaging.contracts import Envelope, Payload, new
from backend.services import Services
from backend.worker.jobs import add_jobs_for


async def enqueue(
    services: Services, payloads: Sequence[Payload], correlation_id: str | None = None
) -> list[Envelope[Any]]:
    """Publish ``payloads`` as one correlated batch; returns the envelopes (their ids are the job keys).

    The job rows commit before publishing, so `--wait` and the jobs panel never miss work in flight.
    """
    messages: list[Envelope[Any]] = []
    for payload in payloads:
        message = new(payload, correlation_id)
        correlation_id = correlation_id or message.correlation_id
        messages.append(message)
    async with services.db.unit_of_work() as session:
        add_jobs_for(session, messages)
    await services.bus.publish(messages)
    return messages
