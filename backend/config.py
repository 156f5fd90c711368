"""One typed settings object, read from a TOML file plus ``TRACKTION_*`` environment variables.

Precedence (lowest first): defaults, ``<home>/config.toml``, environment. ``TRACKTION_HOME`` (or the CLI's
``--home``) puts config, database, cache and logs under one folder so tests and several libraries never collide.
Invalid values are rejected at start-up with the key, the value and what is allowed.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import typing
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

import platformdirs

Mode = Literal["embedded", "services"]
KeyNotation = Literal["camelot", "openkey", "standard"]
Theme = Literal["system", "dark", "light"]

ENV_PREFIX = "TRACKTION_"


class ConfigError(ValueError):
    """A configuration value is invalid; the message names the key, the value and what is allowed."""


@dataclass(frozen=True)
class ServicesSettings:
    """Where the servers of services mode live (compose.yaml binds them to 127.0.0.1)."""

    database_url: str = "postgresql+psycopg://tracktion@127.0.0.1:5432/tracktion"
    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    redis_url: str = "redis://127.0.0.1:6379/0"
    neo4j_uri: str = "bolt://127.0.0.1:7687"
    neo4j_user: str = "neo4j"
    neo4j_password: str = ""
    neo4j_database: str = "neo4j"
    # Prefixes keep several libraries (or test runs) apart on shared servers.
    amqp_exchange_prefix: str = "tracktion"
    redis_prefix: str = "tracktion:"


@dataclass(frozen=True)
class WorkerSettings:
    """Worker runtime limits."""

    concurrency: int = 4  # = prefetch per consumer
    job_timeout_s: float = 600.0
    max_attempts: int = 5
    retry_base_delay_s: float = 2.0
    retry_max_delay_s: float = 300.0
    heartbeat_s: float = 10.0
    cpu_processes: int = 0  # 0 = one per core


@dataclass(frozen=True)
class LibrarySettings:
    """Catalog behaviour."""

    mix_min_duration_s: float = 1200.0  # long recordings (mixes) from 20 minutes on
    settle_window_s: float = 2.0  # a file must be unchanged this long before it is read
    debounce_ms: int = 400
    scan_processes: int = 0  # 0 = one per core


@dataclass(frozen=True)
class TracklistSettings:
    """Politeness towards 1001tracklists.com."""

    base_url: str = "https://www.1001tracklists.com"
    min_interval_s: float = 5.0
    cache_days: float = 7.0
    blocked_backoff_s: float = 300.0
    auto_apply_confidence: float = 0.8
    user_agent: str = (
        "Tracktion/0.1 (+https://github.com/tracktion/tracktion; music library manager)"
    )


@dataclass(frozen=True)
class GraphSettings:
    """Similarity graph parameters."""

    k_neighbours: int = 10
    tempo_tolerance_pct: float = 6.0
    energy_boost_moves: bool = True


@dataclass(frozen=True)
class UiSettings:
    """Desktop app appearance."""

    key_notation: KeyNotation = "camelot"
    theme: Theme = "system"


@dataclass(frozen=True)
class Settings:
    """All of Tracktion's configuration."""

    home: Path
    mode: Mode = "embedded"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    services: ServicesSettings = field(default_factory=ServicesSettings)
    worker: WorkerSettings = field(default_factory=WorkerSettings)
    library: LibrarySettings = field(default_factory=LibrarySettings)
    tracklists: TracklistSettings = field(default_factory=TracklistSettings)
    graph: GraphSettings = field(default_factory=GraphSettings)
    ui: UiSettings = field(default_factory=UiSettings)

    @property
    def config_file(self) -> Path:
        return self.home / "config.toml"

    @property
    def database_file(self) -> Path:
        return self.home / "library.sqlite3"

    @property
    def cache_dir(self) -> Path:
        return self.home / "cache"

    @property
    def log_dir(self) -> Path:
        return self.home / "logs"

    @property
    def numba_cache_dir(self) -> Path:
        return self.cache_dir / "numba"

    @property
    def database_url(self) -> str:
        if self.mode == "services":
            return self.services.database_url
        return f"sqlite+aiosqlite:///{self.database_file}"

    def ensure_dirs(self) -> None:
        """Create the home folder and its sub-folders."""
        for d in (self.home, self.cache_dir, self.log_dir):
            d.mkdir(parents=True, exist_ok=True)


_SECTIONS: dict[str, type[Any]] = {
    "services": ServicesSettings,
    "worker": WorkerSettings,
    "library": LibrarySettings,
    "tracklists": TracklistSettings,
    "graph": GraphSettings,
    "ui": UiSettings,
}

_POSITIVE = {
    "concurrency",
    "job_timeout_s",
    "max_attempts",
    "heartbeat_s",
    "min_interval_s",
    "k_neighbours",
}
_NON_NEGATIVE = {
    "retry_base_delay_s",
    "retry_max_delay_s",
    "cpu_processes",
    "mix_min_duration_s",
    "settle_window_s",
    "debounce_ms",
    "scan_processes",
    "cache_days",
    "blocked_backoff_s",
    "auto_apply_confidence",
    "tempo_tolerance_pct",
}


def default_home() -> Path:
    """The platform's per-user data folder, unless ``TRACKTION_HOME`` says otherwise."""
    env = os.environ.get(ENV_PREFIX + "HOME")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir("tracktion", appauthor=False))


def _coerce(key: str, raw: Any, annotation: Any) -> Any:
    """Convert ``raw`` (TOML value or env string) to ``annotation``, or raise ConfigError."""
    origin = typing.get_origin(annotation)
    if origin is Literal:
        allowed = typing.get_args(annotation)
        if raw not in allowed:
            raise ConfigError(
                f"{key} = {raw!r} is not allowed; expected one of {', '.join(allowed)}"
            )
        return raw
    if annotation is bool:
        if isinstance(raw, bool):
            return raw
        if str(raw).lower() in {"1", "true", "yes", "on"}:
            return True
        if str(raw).lower() in {"0", "false", "no", "off"}:
            return False
        raise ConfigError(f"{key} = {raw!r} is not allowed; expected true or false")
    if annotation in (int, float):
        try:
            value = annotation(raw)
        except (TypeError, ValueError):
            kind = "a whole number" if annotation is int else "a number"
            raise ConfigError(f"{key} = {raw!r} is not allowed; expected {kind}") from None
        name = key.rsplit(".", 1)[-1]
        if name in _POSITIVE and value <= 0:
            raise ConfigError(f"{key} = {raw!r} is not allowed; expected a number greater than 0")
        if name in _NON_NEGATIVE and value < 0:
            raise ConfigError(f"{key} = {raw!r} is not allowed; expected a number of 0 or more")
        return value
    if annotation is Path:
        return Path(str(raw)).expanduser()
    if annotation is str:
        if not isinstance(raw, str):
            raise ConfigError(f"{key} = {raw!r} is not allowed; expected text")
        return raw
    raise ConfigError(f"{key}: unsupported setting type {annotation!r}")  # pragma: no cover


def _build(cls: type[Any], prefix: str, values: dict[str, Any]) -> Any:
    hints = typing.get_type_hints(cls)
    kwargs: dict[str, Any] = {}
    known = {f.name for f in fields(cls)}
    for name in values:
        if name not in known:
            raise ConfigError(
                f"{prefix}{name} is not a known setting; known: {', '.join(sorted(known))}"
            )
    for f in fields(cls):
        if f.name in values:
            kwargs[f.name] = _coerce(prefix + f.name, values[f.name], hints[f.name])
    return cls(**kwargs)


def _env_overrides(environ: typing.Mapping[str, str]) -> dict[str, Any]:
    """``TRACKTION_MODE`` → mode; ``TRACKTION_SERVICES__AMQP_URL`` → services.amqp_url."""
    out: dict[str, Any] = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or name == ENV_PREFIX + "HOME":
            continue
        if name.startswith(ENV_PREFIX + "TEST_"):
            continue  # test-suite switches, not settings
        parts = name[len(ENV_PREFIX) :].lower().split("__")
        if len(parts) == 1:
            out[parts[0]] = value
        elif len(parts) == 2:
            out.setdefault(parts[0], {})[parts[1]] = value
    return out


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(merged.get(k), dict):
            merged[k] = {**merged[k], **v}
        else:
            merged[k] = v
    return merged


def load_settings(
    home: Path | None = None, environ: typing.Mapping[str, str] | None = None
) -> Settings:
    """Read the settings for ``home`` (default: ``TRACKTION_HOME`` or the platform folder)."""
    environ = os.environ if environ is None else environ
    if home is None:
        home = (
            Path(environ[ENV_PREFIX + "HOME"]) if ENV_PREFIX + "HOME" in environ else default_home()
        )
    home = home.expanduser().resolve()
    return settings_from_values(
        home, _merge(_read_file(home / "config.toml"), _env_overrides(environ))
    )


def _read_file(config_file: Path) -> dict[str, Any]:
    if not config_file.exists():
        return {}
    try:
        return tomllib.loads(config_file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{config_file}: not valid TOML ({exc})") from None


def settings_from_values(home: Path, values: dict[str, Any]) -> Settings:
    """Validate a nested dict of values (as in the TOML file) into Settings."""
    top_hints = typing.get_type_hints(Settings)
    kwargs: dict[str, Any] = {"home": home}
    for name, raw in values.items():
        if name in _SECTIONS:
            if not isinstance(raw, dict):
                raise ConfigError(f"{name} must be a table of settings, got {raw!r}")
            kwargs[name] = _build(_SECTIONS[name], name + ".", raw)
        elif name in ("mode", "log_level"):
            kwargs[name] = _coerce(name, raw, top_hints[name])
        else:
            allowed = ", ".join(["mode", "log_level", *_SECTIONS])
            raise ConfigError(f"{name} is not a known setting; known: {allowed}")
    return Settings(**kwargs)


def mask_url(url: str) -> str:
    """The URL with its password replaced by ``***`` (for status output and logs)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(":" + parts.password + "@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def as_dict(settings: Settings, *, mask: bool = True) -> dict[str, Any]:
    """A JSON/TOML-friendly view of the settings, with secrets masked."""
    raw = dataclasses.asdict(settings)
    raw["home"] = str(settings.home)
    if mask:
        svc = raw["services"]
        for key in ("database_url", "amqp_url", "redis_url"):
            svc[key] = mask_url(svc[key])
        if svc["neo4j_password"]:
            svc["neo4j_password"] = "***"
    return raw


def save_settings(settings: Settings, changes: dict[str, Any]) -> Settings:
    """Write ``changes`` (``{"ui": {"theme": "dark"}, "mode": ...}``) to the config file.

    The merged file is validated first, so a bad value never reaches the file. Returns the settings as they
    are now in effect (environment variables still win over the file).
    """
    import tomli_w

    merged = _merge(_read_file(settings.config_file), changes)
    settings_from_values(settings.home, merged)
    settings.home.mkdir(parents=True, exist_ok=True)
    tmp = settings.config_file.with_suffix(".toml.tmp")
    tmp.write_text(tomli_w.dumps(merged), encoding="utf-8")
    os.replace(tmp, settings.config_file)
    return load_settings(settings.home)


__all__ = [
    "ConfigError",
    "GraphSettings",
    "LibrarySettings",
    "ServicesSettings",
    "Settings",
    "TracklistSettings",
    "UiSettings",
    "WorkerSettings",
    "as_dict",
    "default_home",
    "load_settings",
    "mask_url",
    "save_settings",
    "settings_from_values",
]
