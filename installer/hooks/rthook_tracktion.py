"""PyInstaller runtime hook: point numba's on-disk cache at the user's Tracktion home.

A frozen app's own folder is read-only once installed (/usr/lib/tracktion, Program Files, a signed
.app), so numba must not cache next to the modules. Same home precedence as backend.config:
``--home`` on the command line, then ``TRACKTION_HOME``, then the platform's per-user data folder.
"""

import os
import sys


def _tracktion_home() -> str:
    argv = sys.argv[1:]
    for i, arg in enumerate(argv):
        if arg == "--home" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--home="):
            return arg.split("=", 1)[1]
    env = os.environ.get("TRACKTION_HOME")
    if env:
        return env
    import platformdirs

    return platformdirs.user_data_dir("tracktion", appauthor=False)


if "NUMBA_CACHE_DIR" not in os.environ:
    os.environ["NUMBA_CACHE_DIR"] = os.path.join(
        os.path.abspath(os.path.expanduser(_tracktion_home())), "cache", "numba"
    )
