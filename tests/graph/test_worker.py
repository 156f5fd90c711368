"""The graph worker end to end: messages in, edges out — embedded (SQLite, in-process bus, tables) and
services mode (PostgreSQL, RabbitMQ, and the Neo4j adapter on ArcadeDB)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import delete, select

from backend.api.commands import enqueue
from backend.db.models import AnalysisResult, LibraryRoot, Track, Tracklist, TracklistEntry
from backend.graph.neo4j_store import Neo4jGraphStore
from backend.messaging.contracts import Payload, TrackAnalyzed, TracklistApplied, TracksRemoved
from backend.services import Services, open_services
from backend.worker.local import local_workers, wait_settled
from tests.conftest import SettingsFactory, truncate_all
from tests.graph.conftest import ArcadeDB

VERSION = "test-1"
GROUP_A = range(1, 7)
GROUP_B = range(7, 13)


def vector(group: str, i: int) -> list[float]:
    """Two clearly separated sound groups, each with a little spread."""
    base = [1.0, 0.0, 0.0, 0.0] if group == "A" else [0.0, 0.0, 1.0, 0.0]
    base[1 if group == "A" else 3] = 0.05 * i
    return base


@pytest.fixture(params=["embedded", "services"])
async def services(
    request: pytest.FixtureRequest, make_settings: SettingsFactory
) -> AsyncIterator[Services]:
    graph = {"k_neighbours": 3, "tempo_tolerance_pct": 6.0}
    if request.param == "embedded":
        svc = await open_services(make_settings("embedded", graph=graph))
        yield svc
        await svc.close()
        return
    url = request.getfixturevalue("pg_url")
    request.getfixturevalue("amqp_url")
    request.getfixturevalue("redis_url")
    arc: ArcadeDB = request.getfixturevalue("arcadedb")
    truncate_all(url)
    settings = make_settings("services", services={"database_url": url}, graph=graph)
    svc = await open_services(settings, migrate_schema=False)
    store = Neo4jGraphStore.connect(
        arc.bolt_uri, "root", arc.password, arc.database, dialect="arcadedb"
    )
    async with store.driver.session(database=store.database) as session:
        await (await session.run("MATCH (n) DETACH DELETE n")).consume()
    await store.ensure_schema()
    svc._graph = store  # the ArcadeDB stand-in for Neo4j
    try:
        yield svc
    finally:
        await svc.bus.delete_topology()  # type: ignore[attr-defined]
        await svc.cache.clear_prefix()  # type: ignore[attr-defined]
        await svc.close()


async def add_library(services: Services) -> None:
    async with services.db.unit_of_work() as session:
        session.add(LibraryRoot(id=1, path="/music", name="music"))
        await session.flush()
        for i in range(1, 13):
            group = "A" if i in GROUP_A else "B"
            session.add(
                Track(
                    id=i,
                    root_id=1,
                    rel_path=f"{i}.flac",
                    title=f"T{i}",
                    artist=f"Artist {group}",
                    fingerprint=f"fp{i}",
                    analysis_version=VERSION,
                    bpm=124.0 + (i % 3),
                    camelot=("8A", "9A", "8B")[i % 3],
                    energy=0.4 + 0.02 * i,
                )
            )
            session.add(
                AnalysisResult(
                    fingerprint=f"fp{i}",
                    algorithm_version=VERSION,
                    data={"features": vector(group, i)},
                )
            )
        session.add(Track(id=100, root_id=1, rel_path="mix.flac", title="Mix", is_mix=True))


async def run(services: Services, payloads: list[Payload]) -> None:
    async with local_workers(services, ["graph"]):
        messages = await enqueue(services, payloads)
        await wait_settled(services, messages[0].correlation_id, timeout_s=120)
    async with services.db.read() as session:
        from backend.db.models import Job

        failed = (await session.scalars(select(Job).where(Job.status != "done"))).all()
    assert [(j.kind, j.error) for j in failed] == []


async def similar_ids(services: Services, track_id: int) -> set[int]:
    store = await services.graph()
    return {n.track.id for n in await store.neighbours(track_id, kinds=["similar"])}


async def test_worker_keeps_the_graph_in_step(services: Services) -> None:
    await add_library(services)
    await run(services, [TrackAnalyzed(i, f"fp{i}", VERSION) for i in range(1, 13)])
    store = await services.graph()
    for i in GROUP_A:
        assert await similar_ids(services, i) <= set(GROUP_A), i
        out = [n for n in await store.neighbours(i, kinds=["similar"]) if n.direction == "out"]
        assert len(out) == 3 and all(n.reasons[0].endswith("% alike") for n in out)
    harmonic = await store.neighbours(2, kinds=["harmonic"])
    assert harmonic and all(any("BPM" in r for r in n.reasons) for n in harmonic)

    # A track leaves the library (the catalog deletes its row, then says so): nobody lists it, the
    # tracks that did are searched again.
    async with services.db.unit_of_work() as session:
        await session.execute(delete(Track).where(Track.id == 1))
    await run(services, [TracksRemoved((1,))])
    assert await store.neighbours(1) == []
    for i in range(2, 7):
        ids = await similar_ids(services, i)
        assert 1 not in ids
        out = [n for n in await store.neighbours(i, kinds=["similar"]) if n.direction == "out"]
        assert len(out) == 3

    # The worker restarts: its index comes back from the stored edges, not from an O(n²) build.
    from backend.graph.handler import maintainer_for

    before = {i: await similar_ids(services, i) for i in range(2, 13)}
    delattr(services, "_graph_maintainer")
    fresh = await maintainer_for(services)
    await fresh.tracks_changed([])  # loads the index
    assert sorted(fresh.index.track_ids) == list(range(2, 13))
    assert {i: await similar_ids(services, i) for i in range(2, 13)} == before

    # Re-analysis moves a track into the other group (same id).
    async with services.db.unit_of_work() as session:
        row = (
            await session.scalars(select(AnalysisResult).where(AnalysisResult.fingerprint == "fp7"))
        ).one()
        row.data = {"features": vector("A", 3)}
    await run(services, [TrackAnalyzed(7, "fp7", VERSION)])
    out7 = [
        n.track.id for n in await store.neighbours(7, kinds=["similar"]) if n.direction == "out"
    ]
    assert set(out7) <= set(GROUP_A)

    # A DJ set: 2 → 3, an unidentified track, then 4.
    async with services.db.unit_of_work() as session:
        tl = Tracklist(track_id=100, source="user", status="applied")
        session.add(tl)
        await session.flush()
        for ordinal, linked in enumerate([2, 3, None, 4]):
            session.add(TracklistEntry(tracklist_id=tl.id, ordinal=ordinal, linked_track_id=linked))
        tl_id = tl.id
    await run(services, [TracklistApplied(100, tl_id)])
    await run(services, [TracklistApplied(100, tl_id)])  # applied twice: counted once
    got = [(t.source_id, t.target_id, t.count, t.sets) for t in await store.transitions()]
    assert got == [(2, 3, 1, (100,))]
    after2: Any = {s.track.id: s for s in await store.suggestions(2, limit=20)}
    assert "played after it in 1 set" in after2[3].reasons
    assert after2[3].components["transition"] == 0.5
