"""Helpers shared by the CLI's subcommand modules.

Light on purpose: every subcommand module imports this to register itself, so ``tracktion --help`` pays
only for what is imported here. The services (SQLAlchemy, drivers) load when a command opens them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from backend.config import Settings, load_settings

if TYPE_CHECKING:
    from backend.services import Services

T = TypeVar("T")

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_BLOCKED = 3
EXIT_UNAVAILABLE = 4


def settings_from_args(args: argparse.Namespace) -> Settings:
    home: Path | None = getattr(args, "home", None)
    return load_settings(home)


def run(coro: Awaitable[T]) -> T:
    """Run a command's coroutine on a fresh event loop."""
    return asyncio.run(_as_coroutine(coro))


async def _as_coroutine(aw: Awaitable[T]) -> T:
    return await aw


@asynccontextmanager
async def services_for(args: argparse.Namespace) -> AsyncIterator[Services]:
    """Open the configured deployment's services for one command, and close them after."""
    from backend.heap import startup_heap_frozen
    from backend.services import open_services

    services = await open_services(settings_from_args(args))
    try:
        with (
            startup_heap_frozen()
        ):  # what start-up imported and opened lives as long as the command
            yield services
    finally:
        await services.close()


def print_json(value: Any) -> None:
    json.dump(value, sys.stdout, ensure_ascii=False, default=str)
    sys.stdout.write("\n")
    sys.stdout.flush()


def error(message: str) -> None:
    print(f"tracktion: {message}", file=sys.stderr)


def guarded(func: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Turn 'service down' into a clear one-line message and exit status 4."""

    def wrapper(args: argparse.Namespace) -> int:
        try:
            return func(args)
        except ConnectionError as exc:
            # ServiceUnavailable is a ConnectionError; checked by name so this module stays light.
            from backend.services import ServiceUnavailable

            if not isinstance(exc, ServiceUnavailable):
                raise
            error(str(exc))
            return EXIT_UNAVAILABLE

    wrapper.__name__ = func.__name__
    wrapper.__doc__ = func.__doc__
    return wrapper
