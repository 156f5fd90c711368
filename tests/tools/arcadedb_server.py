"""Run an ArcadeDB server with the Bolt plugin in its own process (for the graph contract tests).

The JVM lives here, not in the pytest process: JPype's JVM shutdown during interpreter exit segfaults,
which would turn a green test run into exit status 139. Prints "ready" once the database exists, then
serves until its standard input closes.

    python tests/tools/arcadedb_server.py ROOT PASSWORD HTTP_PORT BOLT_PORT DATABASE
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    root, password, http_port, bolt_port, database = sys.argv[1:6]
    from arcadedb_embedded.server import ArcadeDBServer

    server = ArcadeDBServer(
        root_path=root,
        root_password=password,
        config={
            "host": "127.0.0.1",
            "http_port": int(http_port),
            "server_plugins": "Bolt:com.arcadedb.bolt.BoltProtocolPlugin",
            "bolt_port": int(bolt_port),
        },
    )
    server.start()
    server.create_database(database)
    print("ready", flush=True)
    sys.stdin.read()  # until the test run closes our stdin
    server.stop()
    sys.stdout.flush()
    os._exit(0)  # skip the JVM's teardown during interpreter finalisation (it can segfault)


if __name__ == "__main__":
    main()
