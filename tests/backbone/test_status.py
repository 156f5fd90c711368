"""`tracktion status --json` in both modes, and a clear message when a service is down."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import AMQP_URL, REDIS_URL, tracktion


def by_name(report: dict) -> dict[str, dict]:
    return {s["name"]: s for s in report["services"]}


def test_status_embedded(tmp_path: Path) -> None:
    result = tracktion(tmp_path, "status", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["mode"] == "embedded"
    services = by_name(report)
    assert services["database"]["kind"] == "SQLite" and services["database"]["reachable"]
    assert services["bus"]["kind"] == "in-process"


def test_status_text_lists_live_workers_and_sums_up_stopped_ones(tmp_path: Path) -> None:
    # Each embedded run that starts the workers leaves stopped worker records; one line for them all.
    (tmp_path / "music").mkdir()
    for _ in range(2):
        ran = tracktion(tmp_path, "scan", str(tmp_path / "music"), "--wait", "--settle", "0")
        assert ran.returncode == 0, ran.stderr
    report = json.loads(tracktion(tmp_path, "status", "--json").stdout)
    stopped = [w for w in report["workers"] if w["state"] == "stopped"]
    assert len(stopped) >= 3
    text = tracktion(tmp_path, "status").stdout
    assert f"  {len(stopped)} stopped (the last " in text
    assert not any(w["name"] in text for w in stopped)


def services_env(pg_url: str, **over: str) -> dict[str, str]:
    env = {
        "TRACKTION_MODE": "services",
        "TRACKTION_SERVICES__DATABASE_URL": pg_url,
        "TRACKTION_SERVICES__AMQP_URL": AMQP_URL,
        "TRACKTION_SERVICES__REDIS_URL": REDIS_URL,
        "TRACKTION_SERVICES__AMQP_EXCHANGE_PREFIX": "status-test",
        "TRACKTION_SERVICES__NEO4J_URI": "bolt://127.0.0.1:1",
        "TRACKTION_SERVICES__NEO4J_PASSWORD": "pw",
    }
    env.update(over)
    return env


@pytest.mark.services
def test_status_services_reports_each_service(
    tmp_path: Path, pg_url: str, amqp_url: str, redis_url: str
) -> None:
    result = tracktion(tmp_path, "status", "--json", env=services_env(pg_url))
    report = json.loads(result.stdout)
    services = by_name(report)
    assert report["mode"] == "services"
    assert services["database"]["reachable"] and services["database"]["kind"] == "PostgreSQL"
    assert services["bus"]["reachable"] and services["cache"]["reachable"]
    assert set(report["queues"]) >= {"catalog", "analysis", "tracklists", "graph", "analysis.dead"}
    # Neo4j is not running here: it must show as down, and the exit status says something is down.
    assert services["graph"]["kind"] == "Neo4j" and not services["graph"]["reachable"]
    assert services["graph"]["url"] == "bolt://127.0.0.1:1"
    assert result.returncode == 4


@pytest.mark.services
def test_status_shows_a_stopped_service_as_down(tmp_path: Path, pg_url: str, amqp_url: str) -> None:
    env = services_env(pg_url, TRACKTION_SERVICES__REDIS_URL="redis://:topsecret@127.0.0.1:1/0")
    result = tracktion(tmp_path, "status", "--json", env=env)
    services = by_name(json.loads(result.stdout))
    assert not services["cache"]["reachable"]
    assert services["cache"]["url"] == "redis://:***@127.0.0.1:1/0"
    assert "topsecret" not in result.stdout
    assert services["bus"]["reachable"]
    assert result.returncode == 4


@pytest.mark.services
def test_command_with_broker_down_names_it(tmp_path: Path, pg_url: str, redis_url: str) -> None:
    env = services_env(pg_url, TRACKTION_SERVICES__AMQP_URL="amqp://guest:guest@127.0.0.1:1/")
    result = tracktion(tmp_path, "jobs", "ls", env=env)
    assert result.returncode == 4
    assert "RabbitMQ is not reachable at amqp://guest:***@127.0.0.1:1/" in result.stderr
