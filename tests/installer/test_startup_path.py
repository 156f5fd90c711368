"""What start-up skips, and that skipping it changes nothing a user sees.

A current database opens without Alembic, embedded mode never loads the Neo4j driver, and ``tracktion
--help`` loads neither Qt, SciPy nor the database layer; an old library is still backed up and migrated,
a database that is not open yet makes its users wait instead of failing, and a server that is down
is still reported in one plain line. Each import check runs in a
fresh interpreter (this test process has imported everything already).
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

from backend.config import settings_from_values
from backend.db import migrate

REPO = Path(__file__).resolve().parents[2]


def _run_python(code: str) -> dict[str, object]:
    """Run ``code`` in a fresh interpreter; it prints one JSON object as its last line."""
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=REPO, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    result: dict[str, object] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def test_head_revision_from_the_files_is_alembics_head() -> None:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    assert migrate.head_revision() == script.get_current_head()


def test_a_current_library_opens_without_alembic_or_neo4j(tmp_path: Path) -> None:
    code = f"""
        import asyncio, json, sys
        from pathlib import Path
        from backend.config import settings_from_values
        from backend.services import open_services

        async def main():
            settings = settings_from_values(Path({str(tmp_path)!r}), {{"mode": "embedded"}})
            services = await open_services(settings)
            graph = await services.graph()
            neighbours = await graph.neighbours(1)
            await services.close()
            return len(neighbours)

        found = asyncio.run(main())
        print(json.dumps({{"found": found, "alembic": "alembic" in sys.modules,
                          "neo4j": "neo4j" in sys.modules}}))
    """
    first = _run_python(code)  # a new library: created by the migrations
    assert first == {"found": 0, "alembic": True, "neo4j": False}
    again = _run_python(code)  # the same library, now current: nothing to migrate
    assert again == {"found": 0, "alembic": False, "neo4j": False}
    assert list(tmp_path.glob("*.backup-*")) == []


def test_an_old_library_is_still_backed_up_and_migrated_on_open(tmp_path: Path) -> None:
    from alembic.script import ScriptDirectory

    from backend.services import open_services

    settings = settings_from_values(tmp_path, {"mode": "embedded"})
    url = settings.database_url
    base = ScriptDirectory.from_config(migrate.alembic_config(url)).get_base()
    assert base is not None and base != migrate.head_revision()
    migrate.upgrade(url, base)
    with sqlite3.connect(settings.database_file) as conn:
        conn.execute(
            "INSERT INTO library_roots (path, name, state, paused, added_at) "
            "VALUES ('/music', 'music', 'online', 0, '2026-01-01')"
        )

    async def open_and_close() -> None:
        services = await open_services(settings)
        await services.close()

    asyncio.run(open_and_close())
    assert migrate.sqlite_revision(settings.database_file) == migrate.head_revision()
    backup = settings.database_file.with_name(f"{settings.database_file.name}.backup-{base}")
    assert migrate.sqlite_revision(backup) == base
    with sqlite3.connect(backup) as conn:
        assert conn.execute("SELECT path FROM library_roots").fetchall() == [("/music",)]
    with sqlite3.connect(settings.database_file) as conn:
        assert conn.execute("SELECT path FROM library_roots").fetchall() == [("/music",)]


def test_a_current_postgresql_database_is_not_migrated_again(pg_url: str) -> None:
    result = _run_python(f"""
        import json, sys
        from backend.db import migrate
        migrate.upgrade_locked({pg_url!r})
        print(json.dumps({{"alembic": "alembic" in sys.modules}}))
    """)  # fmt: skip
    assert result == {"alembic": False}


def test_cli_help_loads_no_qt_scipy_or_database_layer() -> None:
    result = _run_python("""
        import contextlib, io, json, sys
        from backend.cli.main import main
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
            main(["--help"])
        heavy = ("PySide6", "scipy", "numpy", "sqlalchemy", "alembic", "neo4j", "tracktion_gui")
        print(json.dumps({"loaded": [m for m in heavy if m in sys.modules],
                          "lists_commands": all(c in out.getvalue() for c in ("scan", "gui"))}))
    """)  # fmt: skip
    assert result == {"loaded": [], "lists_commands": True}


async def test_sessions_wait_until_the_database_is_open(tmp_path: Path) -> None:
    from sqlalchemy import text

    from backend.db.session import Database

    url = f"sqlite+aiosqlite:///{tmp_path / 'lib.sqlite3'}"
    db = Database(url, opened=False)

    async def query() -> int:
        async with db.read() as session:
            return int((await session.execute(text("SELECT count(*) FROM library_roots"))).scalar())

    try:
        waiting = asyncio.ensure_future(query())
        await asyncio.to_thread(migrate.upgrade, url)  # the app migrates meanwhile
        assert not waiting.done()  # the query waited (it would have failed on the empty file)
        db.open()
        assert await asyncio.wait_for(waiting, 30) == 0
    finally:
        await db.close()


def test_a_server_that_is_down_is_reported_once_and_plainly(tmp_path: Path) -> None:
    """The window's loads wait for a database that never opens; the app cancels them and says why."""
    import os
    import socket

    with socket.socket() as sock:  # a port with nothing listening on it
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text(
        f'mode = "services"\n[services]\n'
        f'database_url = "postgresql+psycopg://postgres@127.0.0.1:{port}/tracktion"\n',
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKTION_")}
    proc = subprocess.run(
        [sys.executable, "-m", "backend.cli.main", "--home", str(home), "gui",
         "--screenshot", str(tmp_path / "shots")],
        cwd=REPO, env={**env, "QT_QPA_PLATFORM": "offscreen"},
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert proc.returncode == 4
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("tracktion:")]
    assert len(errors) == 1 and "PostgreSQL is not reachable" in errors[0], proc.stderr
    assert "Traceback" not in proc.stderr
