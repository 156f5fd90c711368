"""Frozen entry point shared by the ``tracktion`` (console) and ``tracktion-gui`` (windowed) executables.

Both run the same CLI: without a command it opens the desktop app, so the windowed executable is the
one the desktop entry / Start menu / .app launch, and the console one is what ``/usr/bin/tracktion`` runs.
"""

from __future__ import annotations

import multiprocessing
import os
import sys


def _run() -> int:
    # Must come first: the analysis pool starts "spawn" processes, which re-run this executable with
    # --multiprocessing-fork; freeze_support() turns those runs into pool workers.
    multiprocessing.freeze_support()
    probe = os.environ.get("TRACKTION_TEST_STARTUP_PROBE")
    if probe:
        import startup_probe

        startup_probe.install(wait_ready=probe == "ready")
    from backend.cli.main import main

    return main()


if __name__ == "__main__":
    sys.exit(_run())
