"""Shared fixtures: real services, one database / queue prefix / key prefix per test run.

A missing service skips the tests that need it on a developer machine but fails them in CI (CI=true),
like dramatiq's check_rabbitmq.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from backend.config import Settings, settings_from_values
from backend.db import migrate
from backend.db.models import Base

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(os.environ.get("TRACKTION_FIXTURES", REPO.parent / "shared" / "fixtures"))
PG_HOST = os.environ.get("TRACKTION_TEST_PG_HOST", "127.0.0.1")
PG_ADMIN_URL = f"postgresql+psycopg://postgres@{PG_HOST}:5432/postgres"
AMQP_URL = os.environ.get("TRACKTION_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
REDIS_URL = os.environ.get("TRACKTION_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
RUN_ID = f"t{os.getpid()}_{uuid.uuid4().hex[:8]}"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def tracktion(
    home: Path, *args: str, env: dict[str, str] | None = None, timeout_s: float = 600
) -> subprocess.CompletedProcess[str]:
    """Run the ``tracktion`` command as a user would, on the library in ``home``.

    The test's own ``TRACKTION_*`` variables are not passed on (only ``env``'s), so a developer's
    configuration never leaks into a test.
    """
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKTION_")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "backend.cli.main", "--home", str(home), *args],
        capture_output=True,
        text=True,
        env=full_env,
        check=False,
        timeout=timeout_s,
    )


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def require_service(name: str, host: str, port: int) -> None:
    """Skip locally, fail in CI, when a service the test needs is not running."""
    if _reachable(host, port):
        return
    message = f"{name} is not running on {host}:{port}"
    if IN_CI:
        pytest.fail(message + " (CI must start it: see .ci/run)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A PostgreSQL database for this test run, migrated to head, dropped at the end."""
    require_service("PostgreSQL", PG_HOST, 5432)
    name = f"tracktion_{RUN_ID}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = f"postgresql+psycopg://postgres@{PG_HOST}:5432/{name}"
    migrate.upgrade(url)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def truncate_all(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(scope="session")
def amqp_url() -> str:
    require_service("RabbitMQ", "127.0.0.1", 5672)
    return AMQP_URL


@pytest.fixture(scope="session")
def redis_url() -> str:
    require_service("Redis", "127.0.0.1", 6379)
    return REDIS_URL


SettingsFactory = Callable[..., Settings]


@pytest.fixture
def make_settings(tmp_path: Path) -> SettingsFactory:
    """Build Settings for a mode with a private home; services mode gets this test's prefixes."""

    def factory(mode: str = "embedded", **sections: dict[str, Any]) -> Settings:
        values: dict[str, Any] = {"mode": mode, **sections}
        if mode == "services":
            prefix = f"{RUN_ID}_{uuid.uuid4().hex[:6]}"
            values["services"] = {
                "database_url": sections.get("services", {}).get("database_url", ""),
                "amqp_url": AMQP_URL,
                "redis_url": REDIS_URL,
                "amqp_exchange_prefix": prefix,
                "redis_prefix": prefix + ":",
                **sections.get("services", {}),
            }
        home = tmp_path / f"home-{mode}"
        home.mkdir(exist_ok=True)
        return settings_from_values(home, values)

    return factory


@asynccontextmanager
async def open_deployment(
    request: pytest.FixtureRequest, make_settings: SettingsFactory, mode: str, **sections: Any
) -> AsyncIterator[Any]:
    """Services of one deployment with extra settings ``sections``; services mode gets a clean database,
    its own queue and key prefixes, and removes them afterwards."""
    from backend.services import open_services

    if mode == "embedded":
        svc = await open_services(make_settings("embedded", **sections))
        try:
            yield svc
        finally:
            await svc.close()
        return
    url = request.getfixturevalue("pg_url")
    request.getfixturevalue("amqp_url")
    request.getfixturevalue("redis_url")
    truncate_all(url)
    settings = make_settings("services", services={"database_url": url}, **sections)
    svc = await open_services(settings, migrate_schema=False)
    try:
        yield svc
    finally:
        await svc.bus.delete_topology()  # type: ignore[attr-defined]
        await svc.cache.clear_prefix()  # type: ignore[attr-defined]
        await svc.close()


@pytest.fixture(params=["embedded", "services"])
async def services(
    request: pytest.FixtureRequest, make_settings: SettingsFactory
) -> AsyncIterator[Any]:
    """The same test against both deployments: embedded (SQLite, in-process) and services (PG, RabbitMQ, Redis)."""
    async with open_deployment(
        request, make_settings, request.param, worker={"retry_base_delay_s": 0.05}
    ) as svc:
        yield svc
