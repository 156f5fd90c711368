"""The named difference between Neo4j's Cypher and ArcadeDB's: each skipped statement must really fail there.

If ArcadeDB learns one of them, this test fails and the skip can go.
"""

from __future__ import annotations

import neo4j
import pytest

from backend.graph import cypher
from backend.graph.neo4j_store import Neo4jGraphStore
from tests.graph.conftest import ArcadeDB


@pytest.mark.parametrize("statement", sorted(cypher.ARCADEDB_SKIPS))
async def test_arcadedb_really_lacks_each_skipped_statement(
    arcadedb: ArcadeDB, statement: str
) -> None:
    store = Neo4jGraphStore.connect(arcadedb.bolt_uri, "root", arcadedb.password, arcadedb.database)
    try:
        with pytest.raises(neo4j.exceptions.Neo4jError):
            async with store.driver.session(database=store.database) as session:
                result = await session.run(statement)
                await result.consume()
    finally:
        await store.close()


async def test_every_other_schema_statement_runs_on_arcadedb(arcadedb: ArcadeDB) -> None:
    store = Neo4jGraphStore.connect(
        arcadedb.bolt_uri, "root", arcadedb.password, arcadedb.database, dialect="arcadedb"
    )
    try:
        await store.ensure_schema()
        await store.ensure_schema()
    finally:
        await store.close()
