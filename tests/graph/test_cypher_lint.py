"""Every Cypher statement of the Neo4j adapter passes Neo4j's own parser and semantic analysis, offline.

Runs ``tests/tools/cypher-lint/lint.mjs`` (npm package @neo4j-cypher/language-support) in one Node process.
Its node_modules are not committed: the test runs ``npm ci`` there when they are missing.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import pytest

from backend.graph import cypher
from tests.conftest import IN_CI, REPO

LINT_DIR = REPO / "tests" / "tools" / "cypher-lint"


@pytest.fixture(scope="module")
def node() -> str:
    """Path of ``node``, with the linter's packages installed (``npm ci``) if needed."""
    node_bin, npm_bin = shutil.which("node"), shutil.which("npm")
    if node_bin is None or npm_bin is None:
        message = "Node.js (node and npm) is needed for the Cypher lint test"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    if not (LINT_DIR / "node_modules" / "@neo4j-cypher" / "language-support").is_dir():
        subprocess.run(
            [npm_bin, "ci", "--no-audit", "--no-fund"],
            cwd=LINT_DIR,
            check=True,
            timeout=600,
            capture_output=True,
        )
    return node_bin


def lint(
    node: str, statements: dict[str, str], parameters: dict[str, dict[str, Any]]
) -> dict[str, list[dict[str, Any]]]:
    payload = {
        "schema": cypher.SCHEMA,
        "statements": [
            {"name": name, "query": query, "parameters": parameters.get(name, {})}
            for name, query in statements.items()
        ],
    }
    proc = subprocess.run(
        [node, str(LINT_DIR / "lint.mjs")],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return {r["name"]: r["diagnostics"] for r in json.loads(proc.stdout)}


def test_every_statement_lints_clean(node: str) -> None:
    statements = cypher.all_statements()
    assert len(statements) >= 25
    unknown = set(cypher.PARAMETERS) - set(statements)
    assert not unknown, f"PARAMETERS names statements that do not exist: {unknown}"
    results = lint(node, statements, cypher.PARAMETERS)
    assert set(results) == set(statements)
    problems = {
        name: [f"{d['severity']} at {d['offset']}: {d['message']}" for d in diags]
        for name, diags in results.items()
        if diags
    }
    assert problems == {}, json.dumps(problems, indent=2)


def test_the_linter_reports_broken_statements(node: str) -> None:
    results = lint(
        node,
        {
            "TYPO": "MATCH (t:Trak {id: $id}) RETURN t.id",
            "UNDEFINED": "MATCH (t:Track) RETURN x",
            "ARITY": "MATCH (t:Track) RETURN coalesce()",
            "PARAM": "MATCH (t:Track {id: $nope}) RETURN t",
        },
        {"TYPO": {"id": 1}},
    )
    assert any("Trak" in d["message"] for d in results["TYPO"])
    assert any(d["severity"] == "error" for d in results["UNDEFINED"])
    assert results["ARITY"], "a call with the wrong number of arguments must be reported"
    assert any("nope" in d["message"] for d in results["PARAM"])


def test_sources_use_no_cypher_outside_the_statement_module() -> None:
    """Only cypher.py holds Cypher: other graph modules must not embed MATCH/MERGE text."""
    pkg = REPO / "backend" / "graph"
    offenders = []
    for path in sorted(pkg.glob("*.py")):
        if path.name == "cypher.py":
            continue
        text = path.read_text(encoding="utf-8")
        if any(word in text for word in ("MATCH (", "MERGE (", "UNWIND $", "DETACH DELETE")):
            offenders.append(path.name)
    assert offenders == []
