"""A real worker process for the fault tests: the real runtime and RabbitMQ, with one test handler.

The handler writes a cue point (not idempotent on purpose, so a double run would show) on the track named by
the message. With --block it first touches a marker file and then waits forever: the test kills it there.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from pathlib import Path

from backend.config import load_settings
from backend.db.models import CuePoint
from backend.services import open_services
from backend.worker.runtime import HandlerContext, Worker, run_until_stopped


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--block", type=Path, default=None, help="marker file to touch, then hang")
    args = parser.parse_args()

    async def handle(ctx: HandlerContext) -> None:
        if args.block is not None:
            args.block.touch()
            await asyncio.Event().wait()  # hang until SIGKILL
        async with ctx.transaction() as session:
            session.add(
                CuePoint(track_id=ctx.payload.track_id, position_s=1.0, label=ctx.message.id)
            )

    services = await open_services(load_settings(args.home), migrate_schema=False)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    worker = Worker(services, "analysis", {"analysis.requested": handle}, concurrency=1)
    print("ready", flush=True)
    await run_until_stopped([worker], stop, drain_timeout_s=10)
    await services.close()


if __name__ == "__main__":
    asyncio.run(main())
