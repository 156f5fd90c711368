"""``tracktion gui``: the desktop app (imported only when asked for, so the backend stays Qt-free)."""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("gui", help="open the desktop app (the default without a command)")
    p.add_argument(
        "--screenshot",
        type=Path,
        metavar="DIR",
        help="render every main view to DIR/<view>.png and exit",
    )
    p.add_argument(
        "--demo", action="store_true", help="open the demo library (created on first use)"
    )
    p.set_defaults(func=_gui)


def _gui(args: argparse.Namespace) -> int:
    # The GUI package is a separate layer on top of the backend: loaded by name, never imported here.
    app = importlib.import_module("tracktion_gui.app")
    result: int = app.run_from_cli(args)
    return result
