"""Settings: file + environment, one home folder, invalid values rejected with key, value and what is allowed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from backend.config import ConfigError, load_settings, mask_url, save_settings


def test_defaults_put_everything_under_home(tmp_path: Path) -> None:
    s = load_settings(tmp_path, environ={})
    assert s.mode == "embedded"
    assert s.database_file == tmp_path / "library.sqlite3"
    assert s.cache_dir.parent == tmp_path and s.log_dir.parent == tmp_path
    assert s.database_url == f"sqlite+aiosqlite:///{tmp_path}/library.sqlite3"


def test_file_then_environment_precedence(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(
        'mode = "services"\n[library]\nmix_min_duration_s = 900\n[graph]\nk_neighbours = 7\n'
    )
    s = load_settings(tmp_path, environ={"TRACKTION_GRAPH__K_NEIGHBOURS": "12"})
    assert s.mode == "services"
    assert s.library.mix_min_duration_s == 900.0
    assert s.graph.k_neighbours == 12  # environment wins over the file


def test_tracktion_home_environment_variable(tmp_path: Path) -> None:
    s = load_settings(environ={"TRACKTION_HOME": str(tmp_path / "lib")})
    assert s.home == (tmp_path / "lib").resolve()


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"TRACKTION_MODE": "cloud"},
            "mode = 'cloud' is not allowed; expected one of embedded, services",
        ),
        (
            {"TRACKTION_WORKER__CONCURRENCY": "many"},
            "worker.concurrency = 'many' is not allowed; expected a whole number",
        ),
        (
            {"TRACKTION_WORKER__CONCURRENCY": "0"},
            "worker.concurrency = '0' is not allowed; expected a number greater than 0",
        ),
        (
            {"TRACKTION_UI__KEY_NOTATION": "solfege"},
            "ui.key_notation = 'solfege' is not allowed; expected one of camelot, openkey, standard",
        ),
        ({"TRACKTION_LIBRARY__COLOUR": "red"}, "library.colour is not a known setting"),
    ],
)
def test_invalid_values_name_key_value_and_allowed(
    tmp_path: Path, env: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(tmp_path, environ=env)
    assert message in str(err.value)


def test_invalid_value_stops_the_cli_at_start_up(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "backend.cli.main", "--home", str(tmp_path), "status"],
        capture_output=True,
        text=True,
        env={"TRACKTION_MODE": "cloud", "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert result.returncode == 2
    assert "mode = 'cloud' is not allowed" in result.stderr


def test_save_settings_validates_before_writing(tmp_path: Path) -> None:
    s = load_settings(tmp_path, environ={})
    s2 = save_settings(s, {"ui": {"theme": "dark"}, "library": {"settle_window_s": 1.5}})
    assert s2.ui.theme == "dark" and s2.library.settle_window_s == 1.5
    with pytest.raises(ConfigError):
        save_settings(s2, {"ui": {"theme": "purple"}})
    assert (
        load_settings(tmp_path, environ={}).ui.theme == "dark"
    )  # the bad value never reached the file


def test_config_show_masks_passwords(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "TRACKTION_SERVICES__AMQP_URL": "amqp://user:s3cret@mq.local:5672/",
        "TRACKTION_SERVICES__NEO4J_PASSWORD": "hunter2",
    }
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "backend.cli.main",
            "--home",
            str(tmp_path),
            "config",
            "show",
            "--json",
        ],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout
    data = json.loads(out)
    assert data["services"]["amqp_url"] == "amqp://user:***@mq.local:5672/"
    assert data["services"]["neo4j_password"] == "***"
    assert "s3cret" not in out and "hunter2" not in out


def test_mask_url_keeps_urls_without_password() -> None:
    assert mask_url("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"
    assert mask_url("postgresql+psycopg://u:p%40ss@h/db") == "postgresql+psycopg://u:***@h/db"
