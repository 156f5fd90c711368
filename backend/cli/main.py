"""The ``tracktion`` command: subcommands are the CLI; without one it opens the desktop app."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from backend import __version__
from backend.cli.common import EXIT_USAGE, error
from backend.config import ConfigError

# Each area registers its own subcommands; listed here so the order of --help is stable.
COMMAND_MODULES = (
    "backend.cli.system",
    "backend.cli.catalog",
    "backend.cli.analyze",
    "backend.cli.tracklist",
    "backend.cli.graph",
    "backend.cli.gui",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tracktion",
        description="Tracktion: music library manager for DJs. Without a command, opens the desktop app.",
    )
    parser.add_argument("--version", action="version", version=f"tracktion {__version__}")
    parser.add_argument(
        "--home",
        type=Path,
        default=None,
        help="folder for config, database, cache and logs (default: $TRACKTION_HOME or the platform's)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="check this installation end to end (window, scan, analysis), write a report and exit",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue  # an area not installed in this build
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.self_test:
        # Lives with the app (it opens the main window); loaded by name so the backend stays Qt-free.
        selftest = importlib.import_module("tracktion_gui.selftest")
        return int(selftest.run_self_test(args))
    if args.command is None:
        args = parser.parse_args([*argv, "gui"])
    try:
        return int(args.func(args))
    except ConfigError as exc:
        error(f"configuration error: {exc}")
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
