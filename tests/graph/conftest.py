"""Graph-store fixtures: one contract suite, run against every adapter we can reach.

- ``embedded``: tables in a SQLite library database (migrated like the app's);
- ``embedded-pg``: the same adapter on PostgreSQL (skipped locally without it, failed in CI);
- ``arcadedb``: the Neo4j adapter over Bolt against ArcadeDB, started once per run on free loopback ports
  (a missing ArcadeDB/Java skips locally and FAILS in CI);
- ``neo4j``: the Neo4j adapter against a real Neo4j, only when TRACKTION_TEST_NEO4J_URI is set.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete

from backend.db import migrate
from backend.db.models import GraphEdge, LibraryRoot, Track
from backend.db.session import Database
from backend.graph.embedded import EmbeddedGraphStore
from backend.graph.neo4j_store import Neo4jGraphStore
from backend.graph.port import GraphStore, TrackNode
from tests.conftest import IN_CI, RUN_ID, truncate_all

NEO4J_URI = os.environ.get("TRACKTION_TEST_NEO4J_URI")
ARCADE_PASSWORD = "tracktion-test-" + uuid.uuid4().hex[:8]

STORE_KINDS = ["embedded", "embedded-pg", "arcadedb", *(["neo4j"] if NEO4J_URI else [])]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _missing(what: str) -> None:
    if IN_CI:
        pytest.fail(f"{what} (CI must be able to run the graph contract suite against it)")
    pytest.skip(what)


@dataclass
class ArcadeDB:
    bolt_uri: str
    password: str
    database: str


@pytest.fixture(scope="session")
def arcadedb() -> Iterator[ArcadeDB]:
    """An ArcadeDB server with the Bolt plugin on free loopback ports, one database per test run.

    It runs in a child process (tests/tools/arcadedb_server.py) so the JVM never lives in pytest's.
    """
    try:
        import arcadedb_embedded  # noqa: F401
    except ImportError as exc:  # the package (and with it the bundled Java) is missing
        _missing(f"arcadedb-embedded is not installed: {exc}")
        raise
    root = tempfile.mkdtemp(prefix="tracktion-arcadedb-")
    bolt_port = _free_port()
    name = f"graph_{RUN_ID}"
    script = Path(__file__).resolve().parents[1] / "tools" / "arcadedb_server.py"
    proc = subprocess.Popen(
        [
            sys.executable,
            str(script),
            root,
            ARCADE_PASSWORD,
            str(_free_port()),
            str(bolt_port),
            name,
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=root,  # ArcadeDB writes its log/ folder into the working directory
    )
    assert proc.stdout is not None and proc.stdin is not None
    line = proc.stdout.readline().strip()  # blocks until the server is up or the process died
    if line != "ready":
        proc.kill()
        _missing(f"ArcadeDB server did not start (exit status {proc.wait()})")
    try:
        yield ArcadeDB(f"bolt://127.0.0.1:{bolt_port}", ARCADE_PASSWORD, name)
    finally:
        proc.stdin.close()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite library, copied for each test (migrating once is what takes time)."""
    path = tmp_path_factory.mktemp("graph-db") / "template.sqlite3"
    migrate.upgrade(f"sqlite+aiosqlite:///{path}")
    return path


class Harness:
    """A store plus a way to create the tracks it works on (rows in the DB and/or nodes)."""

    def __init__(self, kind: str, store: GraphStore, db: Database | None) -> None:
        self.kind = kind
        self.store = store
        self.db = db

    async def add_tracks(self, nodes: Sequence[TrackNode]) -> None:
        if self.db is not None:
            async with self.db.unit_of_work() as session:
                root = await session.get(LibraryRoot, 1)
                if root is None:
                    session.add(LibraryRoot(id=1, path=f"/music-{RUN_ID}", name="music"))
                    await session.flush()
                for n in nodes:
                    session.add(
                        Track(
                            id=n.id,
                            root_id=1,
                            rel_path=f"{n.id}.flac",
                            title=n.title,
                            artist=n.artist,
                            label=n.label,
                            genre=n.genre,
                            bpm=n.bpm,
                            camelot=n.camelot,
                            energy=n.energy,
                            duration_s=n.duration_s,
                        )
                    )
        await self.store.upsert_tracks(nodes)


async def _wipe_bolt(store: Neo4jGraphStore) -> None:
    async with store.driver.session(database=store.database) as session:
        result = await session.run("MATCH (n) DETACH DELETE n")
        await result.consume()


@pytest.fixture(params=STORE_KINDS)
async def harness(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> AsyncIterator[Harness]:
    """The contract suite's subject: each adapter in turn, empty at the start of every test."""
    kind: str = request.param
    if kind == "embedded":
        path = tmp_path / "library.sqlite3"
        shutil.copy(sqlite_template, path)
        db = Database(f"sqlite+aiosqlite:///{path}")
        store: Any = EmbeddedGraphStore(db)
        yield Harness(kind, store, db)
        await db.close()
        return
    if kind == "embedded-pg":
        url = request.getfixturevalue("pg_url")
        truncate_all(url)
        db = Database(url)
        async with db.unit_of_work() as session:
            await session.execute(delete(GraphEdge))
        yield Harness(kind, EmbeddedGraphStore(db), db)
        await db.close()
        return
    if kind == "arcadedb":
        arc: ArcadeDB = request.getfixturevalue("arcadedb")
        store = Neo4jGraphStore.connect(
            arc.bolt_uri, "root", arc.password, arc.database, dialect="arcadedb"
        )
    else:
        store = Neo4jGraphStore.connect(
            NEO4J_URI or "",
            os.environ.get("TRACKTION_TEST_NEO4J_USER", "neo4j"),
            os.environ.get("TRACKTION_TEST_NEO4J_PASSWORD", ""),
            os.environ.get("TRACKTION_TEST_NEO4J_DATABASE", "neo4j"),
        )
    await _wipe_bolt(store)
    await store.ensure_schema()
    try:
        yield Harness(kind, store, None)
    finally:
        await _wipe_bolt(store)
        await store.close()
