"""The shape rules: backend never imports Qt; compose.yaml is safe and matches what the app reads."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import yaml

from backend.config import ServicesSettings
from tests.conftest import REPO


def test_backend_never_imports_qt() -> None:
    offenders = []
    for path in (REPO / "backend").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(
                n.split(".")[0] in {"PySide6", "shiboken6", "qasync", "pyqtgraph", "tracktion_gui"}
                for n in names
            ):
                offenders.append(str(path.relative_to(REPO)))
    assert offenders == []


def test_cli_help_loads_without_qt() -> None:
    code = "import sys, backend.cli.main as m; m.build_parser(); print(sorted(k for k in sys.modules if k.startswith('PySide6')))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def _compose() -> dict:
    return yaml.safe_load((REPO / "compose.yaml").read_text())


def test_compose_has_every_service_with_health_checks() -> None:
    services = _compose()["services"]
    for name, image in [
        ("postgres", "postgres:16"),
        ("neo4j", "neo4j:5-community"),
        ("redis", "redis:7"),
        ("rabbitmq", "rabbitmq:3-management"),
    ]:
        assert services[name]["image"] == image
        assert "healthcheck" in services[name], f"{name} has no health check"
    workers = [n for n, s in services.items() if s.get("command", [""])[0] == "tracktion"]
    assert {
        "worker-catalog",
        "worker-analysis",
        "worker-tracklists",
        "worker-graph",
        "watcher",
    } <= set(workers)
    for name in workers:
        assert services[name]["build"]["dockerfile"] == "installer/docker/Dockerfile.worker"
        assert (REPO / services[name]["build"]["dockerfile"]).exists()
        assert all(
            dep["condition"] == "service_healthy" for dep in services[name]["depends_on"].values()
        )
    assert set(_compose()["volumes"]) >= {
        "postgres-data",
        "neo4j-data",
        "redis-data",
        "rabbitmq-data",
    }


def test_compose_binds_only_to_loopback() -> None:
    for name, service in _compose()["services"].items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), (
                f"{name} publishes {port} beyond this machine"
            )
    assert "0.0.0.0:" not in (REPO / "compose.yaml").read_text().replace(
        "listen__address: 0.0.0.0", ""
    )


def test_compose_has_no_default_passwords() -> None:
    text = (REPO / "compose.yaml").read_text()
    for secret in ("POSTGRES_PASSWORD", "RABBITMQ_DEFAULT_PASS", "REDIS_PASSWORD", "NEO4J_AUTH"):
        uses = re.findall(r"\$\{" + secret + r"([^}]*)\}", text)
        assert uses, f"{secret} not taken from .env"
        assert all(u.startswith(":?") for u in uses), f"{secret} has a default value: {uses}"
    assert "guest" not in text


def test_compose_sets_the_variables_the_app_reads() -> None:
    env = _compose()["services"]["worker-analysis"]["environment"]
    read = {f"TRACKTION_SERVICES__{f.upper()}" for f in ServicesSettings.__dataclass_fields__}
    used = {k for k in env if k.startswith("TRACKTION_SERVICES__")}
    assert used and used <= read
    assert env["TRACKTION_MODE"] == "services"


def test_services_init_writes_random_private_env(tmp_path: Path) -> None:
    cmd = [
        sys.executable,
        "-m",
        "backend.cli.main",
        "--home",
        str(tmp_path / "h"),
        "services",
        "init",
        "--dir",
        str(tmp_path),
    ]
    subprocess.run(cmd, check=True, capture_output=True)
    env_file = tmp_path / ".env"
    first = env_file.read_text()
    assert env_file.stat().st_mode & 0o777 == 0o600
    values = dict(
        line.split("=", 1) for line in first.splitlines() if line and not line.startswith("#")
    )
    compose_text = (REPO / "compose.yaml").read_text()
    for name in re.findall(r"\$\{([A-Z_]+):\?", compose_text):
        assert name in values, f"compose needs {name} but services init does not write it"
    assert len(values["POSTGRES_PASSWORD"]) >= 24
    assert subprocess.run(cmd, capture_output=True).returncode == 1  # never overwrites silently
    subprocess.run([*cmd, "--force"], check=True, capture_output=True)
    assert env_file.read_text() != first  # new random passwords
