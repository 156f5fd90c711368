"""``tracktion status``: what runs where, what is reachable, how much work is waiting."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from typing import Any

from sqlalchemy import select, text

from backend.config import Settings, mask_url
from backend.db.models import WorkerHeartbeat
from backend.db.session import Database
from backend.worker.jobs import counts_by_status

CHECK_TIMEOUT_S = 5.0


async def _check(name: str, kind: str, url: str, probe: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": name,
        "kind": kind,
        "url": mask_url(url),
        "reachable": False,
        "error": None,
    }
    try:
        await asyncio.wait_for(probe(), CHECK_TIMEOUT_S)
        entry["reachable"] = True
    except Exception as exc:
        entry["error"] = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300] or type(
            exc
        ).__name__
    return entry


async def collect_status(settings: Settings) -> dict[str, Any]:
    """Probe every service of the configured mode without failing on the first that is down."""
    report: dict[str, Any] = {
        "mode": settings.mode,
        "home": str(settings.home),
        "services": [],
        "queues": {},
        "jobs": {},
        "workers": [],
    }
    db = Database(settings.database_url)

    async def probe_db() -> None:
        async with db.read() as session:
            await session.execute(text("SELECT 1"))

    db_kind = "PostgreSQL" if settings.mode == "services" else "SQLite"
    if settings.mode == "embedded" and not settings.database_file.exists():
        report["services"].append(
            {
                "name": "database",
                "kind": db_kind,
                "url": settings.database_url,
                "reachable": True,
                "error": None,
                "note": "not created yet (created on first use)",
            }
        )
        db_ok = False
    else:
        report["services"].append(
            await _check("database", db_kind, settings.database_url, probe_db)
        )
        db_ok = report["services"][-1]["reachable"]
    try:
        if db_ok:
            await _jobs_and_workers(db, settings, report)
    finally:
        await db.close()
    if settings.mode == "embedded":
        report["services"] += [
            {"name": "bus", "kind": "in-process", "url": "", "reachable": True, "error": None},
            {"name": "cache", "kind": "in-process", "url": "", "reachable": True, "error": None},
            {
                "name": "graph",
                "kind": "embedded (database tables)",
                "url": "",
                "reachable": True,
                "error": None,
            },
        ]
        return report
    await _services_mode_checks(settings, report)
    return report


async def _jobs_and_workers(db: Database, settings: Settings, report: dict[str, Any]) -> None:
    try:
        async with db.read() as session:
            report["jobs"] = await counts_by_status(session)
            rows = (await session.execute(select(WorkerHeartbeat))).scalars().all()
    except Exception as exc:  # schema not created yet
        report["jobs_error"] = str(exc).splitlines()[0]
        return
    now = dt.datetime.now(dt.UTC)
    for row in rows:
        beat = row.beat_at if row.beat_at.tzinfo else row.beat_at.replace(tzinfo=dt.UTC)
        age = (now - beat).total_seconds()
        alive = row.state == "running" and age < 3 * settings.worker.heartbeat_s
        report["workers"].append(
            {
                "name": row.name,
                "kind": row.kind,
                "state": row.state if alive or row.state != "running" else "silent",
                "last_beat_s_ago": round(age, 1),
                "jobs_done": row.jobs_done,
                "jobs_failed": row.jobs_failed,
            }
        )


async def _services_mode_checks(settings: Settings, report: dict[str, Any]) -> None:
    svc = settings.services
    from backend.cache.redis_cache import RedisCache
    from backend.messaging.rabbitmq import RabbitBus

    bus = RabbitBus(svc.amqp_url, svc.amqp_exchange_prefix)

    async def probe_bus() -> None:
        await bus.start()
        report["queues"] = await bus.queue_depths()

    report["services"].append(await _check("bus", "RabbitMQ", svc.amqp_url, probe_bus))
    with contextlib.suppress(Exception):
        await bus.close()
    cache = RedisCache(svc.redis_url, svc.redis_prefix)
    report["services"].append(await _check("cache", "Redis", svc.redis_url, cache.ping))
    await cache.close()

    async def probe_neo4j() -> None:
        from neo4j import AsyncGraphDatabase

        driver = AsyncGraphDatabase.driver(
            svc.neo4j_uri,
            auth=(svc.neo4j_user, svc.neo4j_password),
            connection_timeout=CHECK_TIMEOUT_S,
        )
        try:
            await driver.verify_connectivity()
        finally:
            await driver.close()

    report["services"].append(await _check("graph", "Neo4j", svc.neo4j_uri, probe_neo4j))


def format_status(report: dict[str, Any]) -> str:
    lines = [f"mode: {report['mode']}   home: {report['home']}", "services:"]
    for s in report["services"]:
        state = "up" if s["reachable"] else "DOWN"
        extra = (
            f" — {s['error']}" if s.get("error") else (f" — {s['note']}" if s.get("note") else "")
        )
        lines.append(f"  {s['name']:<9} {s['kind']:<28} {state:<5} {s['url']}{extra}")
    if report["queues"]:
        lines.append(
            "queues: " + ", ".join(f"{k} {v}" for k, v in sorted(report["queues"].items()))
        )
    lines.append(
        "jobs: " + (", ".join(f"{k} {v}" for k, v in sorted(report["jobs"].items())) or "none")
    )
    live = [w for w in report["workers"] if w["state"] != "stopped"]
    stopped = [w for w in report["workers"] if w["state"] == "stopped"]
    if report["workers"]:
        lines.append("workers:")
    for w in live:
        lines.append(
            f"  {w['name']:<40} {w['state']:<8} beat {w['last_beat_s_ago']} s ago, done {w['jobs_done']}"
        )
    if stopped:
        # Every embedded run of the app or a command leaves one record per worker kind: one line for all.
        latest = min(w["last_beat_s_ago"] for w in stopped)
        done = sum(w["jobs_done"] for w in stopped)
        lines.append(
            f"  {len(stopped)} stopped (the last {_ago(latest)} ago; {done} jobs done between them)"
        )
    return "\n".join(lines)


def _ago(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} days"
