"""Publishing work from outside a handler (CLI, app, watcher): job rows first, then the messages."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from backend.messaging.contracts import Envelope, Payload, new
from backend.services import Services
from backend.worker.jobs import insert_jobs


async def enqueue(
    services: Services, payloads: Sequence[Payload], correlation_id: str | None = None
) -> list[Envelope[Any]]:
    """Publish ``payloads`` as one correlated batch; returns the envelopes (their ids are the job keys).

    The job rows commit before publishing, so `--wait` and the jobs panel never miss work in flight.
    They are built and written in a worker thread: a scan enqueues one analysis job per new track, and
    on the app's event loop that CPU work would stall the interface.
    """
    messages: list[Envelope[Any]] = []
    for payload in payloads:
        message = new(payload, correlation_id)
        correlation_id = correlation_id or message.correlation_id
        messages.append(message)
    await asyncio.to_thread(_record_jobs, services, messages)
    await services.bus.publish(messages)
    return messages


def _record_jobs(services: Services, messages: list[Envelope[Any]]) -> None:
    with services.db.unit_of_work_in_thread() as conn:
        insert_jobs(conn, messages)
