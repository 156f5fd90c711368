"""Messages per second through the bus: publish → handler → commit → ack, 1 and 4 consumers.

Baseline in the same process: the same handler's commit called directly in a loop (no bus, no job rows),
so the ratio shows what the bus + runtime add on top of the unavoidable database write.

    python benchmarks/bus.py [--messages 2000] [--skip-services]

Services mode needs PostgreSQL, RabbitMQ and Redis on 127.0.0.1 (a scratch database is created and dropped).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text

from backend.api.commands import enqueue
from backend.config import settings_from_values
from backend.db import migrate
from backend.db.models import CuePoint, LibraryRoot, Track
from backend.messaging.contracts import AnalysisRequested
from backend.services import Services, open_services
from backend.worker.local import wait_settled
from backend.worker.runtime import HandlerContext, Worker

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


async def seed_track(services: Services) -> int:
    async with services.db.unit_of_work() as session:
        root = LibraryRoot(path=f"/bench/{uuid.uuid4()}", name="bench")
        session.add(root)
        await session.flush()
        track = Track(root_id=root.id, rel_path="a.flac")
        session.add(track)
        await session.flush()
        return track.id


async def direct_rate(services: Services, track_id: int, n: int) -> float:
    start = time.perf_counter()
    for i in range(n):
        async with services.db.unit_of_work() as session:
            session.add(CuePoint(track_id=track_id, position_s=float(i)))
    return n / (time.perf_counter() - start)


async def bus_rate(services: Services, track_id: int, n: int, consumers: int) -> float:
    async def handle(ctx: HandlerContext) -> None:
        async with ctx.transaction() as session:
            session.add(CuePoint(track_id=track_id, position_s=1.0, label=ctx.message.id))

    worker = Worker(services, "analysis", {"analysis.requested": handle}, concurrency=consumers)
    await worker.start()
    start = time.perf_counter()
    messages = await enqueue(services, [AnalysisRequested(track_id, "0" * 64) for _ in range(n)])
    await wait_settled(services, messages[0].correlation_id, timeout_s=600)
    elapsed = time.perf_counter() - start
    await worker.drain(10)
    return n / elapsed


async def run_mode(label: str, services: Services, n: int) -> list[str]:
    track_id = await seed_track(services)
    base = await direct_rate(services, track_id, n)
    rows = [f"| {label} | direct commit loop (baseline) | – | {base:,.0f} | 1.00 |"]
    for consumers in (1, 4):
        rate = await bus_rate(services, track_id, n, consumers)
        rows.append(
            f"| {label} | publish → handler → commit → ack | {consumers} | {rate:,.0f} | {rate / base:.2f} |"
        )
    return rows


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--skip-services", action="store_true")
    args = parser.parse_args()
    rows: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        settings = settings_from_values(Path(tmp), {"mode": "embedded"})
        services = await open_services(settings)
        try:
            rows += await run_mode("embedded (in-process, SQLite)", services, args.messages)
        finally:
            await services.close()
        if not args.skip_services:
            name = f"tracktion_bench_{uuid.uuid4().hex[:8]}"
            admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
            try:
                migrate.upgrade(url)
                settings = settings_from_values(
                    Path(tmp),
                    {
                        "mode": "services",
                        "services": {"database_url": url, "amqp_exchange_prefix": name},
                    },
                )
                services = await open_services(settings, migrate_schema=False)
                try:
                    rows += await run_mode(
                        "services (RabbitMQ, PostgreSQL)", services, args.messages
                    )
                finally:
                    await services.bus.delete_topology()  # type: ignore[attr-defined]
                    await services.close()
            finally:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()
    print(f"messages: {args.messages}")
    print("| deployment | path | consumers | messages/s | ratio to baseline |")
    print("|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    asyncio.run(main())
