"""Checking the services of a mode and saying plainly what is down (first run, settings, start-up)."""

from __future__ import annotations

from typing import Any

from backend.config import Settings
from backend.status import collect_status

NAMES = {
    "PostgreSQL": "the database (PostgreSQL)",
    "SQLite": "the library database",
    "RabbitMQ": "the message broker (RabbitMQ)",
    "Redis": "the cache (Redis)",
    "Neo4j": "the graph database (Neo4j)",
}


async def check(settings: Settings) -> list[dict[str, Any]]:
    """One entry per service: kind, url, reachable, error."""
    report = await collect_status(settings)
    services: list[dict[str, Any]] = report.get("services", [])
    return services


def summary_html(services: list[dict[str, Any]]) -> str:
    """✓/✗ lines; a down service says what it is, where it was looked for and why it failed."""
    lines = []
    for s in services:
        what = NAMES.get(s.get("kind", ""), s.get("kind") or s.get("name"))
        where = f" at {s['url']}" if s.get("url") else ""
        if s.get("reachable"):
            lines.append(f"<span style='color:#3fb950'>✓</span> {what}{where}")
        else:
            lines.append(
                f"<span style='color:#e5534b'>✗ {what} is down</span>{where}: "
                f"{s.get('error') or 'no answer'}"
            )
    return "<br>".join(lines)


def down(services: list[dict[str, Any]]) -> list[str]:
    return [str(s.get("kind") or s.get("name")) for s in services if not s.get("reachable")]
