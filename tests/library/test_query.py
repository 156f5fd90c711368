"""The search box's query language, run against a real library database.

Backend only (no Qt), so on plain asyncio: run on the GUI tests' per-test qasync loops, the services-mode
case made the next qasync loop of the run crash inside PySide6 (a segfault in CI).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from backend.api.library import track_ids
from backend.db.models import LibraryRoot, Track
from backend.library.query import compile_query
from backend.services import Services, open_services
from tests.conftest import open_deployment

TRACKS = [
    # title, artist, genre, bpm, camelot, energy, is_mix, status, fingerprint, last_error
    ("Night Drive", "Aurora Unit", "Techno", 128.0, "8A", 7.0, False, "ok", "fp1", None),
    ("Sunrise", "Bass Theory", "House", 122.4, "9A", 5.0, False, "ok", "fp2", None),
    ("Deep Space", "Cold Front", "Techno", 135.0, "3B", 8.5, False, "ok", "fp3", None),
    ("Sunrise (copy)", "Bass Theory", "House", 122.4, "9A", 5.0, False, "ok", "fp2", None),
    ("Live at Club", "Various", "Techno", 126.0, "8B", 6.5, True, "ok", "fp5", None),
    ("Gone", "Lost Artist", "Ambient", None, None, None, False, "missing", "fp6", None),
    (
        "Broken",
        "Glitch",
        "IDM",
        None,
        None,
        None,
        False,
        "error",
        None,
        "cannot decode: bad header",
    ),
    ("100% Pure_Mix", "Aurora Unit", "Trance", 138.0, "7A", 9.0, False, "ok", "fp8", None),
]


@pytest.fixture
async def library(make_settings: Any) -> AsyncIterator[Services]:
    services = await open_services(make_settings("embedded"))
    await _add_tracks(services)
    yield services
    await services.close()


async def _add_tracks(services: Services) -> None:
    async with services.db.unit_of_work() as session:
        root = LibraryRoot(path="/music", name="music")
        session.add(root)
        await session.flush()
        for i, (title, artist, genre, bpm, cam, energy, mix, status, fp, err) in enumerate(TRACKS):
            session.add(
                Track(
                    root_id=root.id,
                    rel_path=f"{genre}/{i:02d} {title}.mp3",
                    title=title,
                    artist=artist,
                    genre=genre,
                    bpm=bpm,
                    camelot=cam,
                    energy=energy,
                    is_mix=mix,
                    status=status,
                    fingerprint=fp,
                    last_error=err,
                )
            )


async def titles(services: Services, query: str) -> list[str]:
    result = await track_ids(services, query, sort="title")
    assert not result.errors, result.errors
    async with services.db.read() as session:
        by_id = {t.id: t.title for t in (await session.execute(Track.__table__.select())).all()}
    return [by_id[i] for i in result.ids]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", [t[0] for t in sorted(TRACKS)]),
        ("sunrise", ["Sunrise", "Sunrise (copy)"]),
        ("aurora drive", ["Night Drive"]),  # every word must match somewhere
        ("techno", ["Deep Space", "Live at Club", "Night Drive"]),  # free text also hits the genre
        ("artist:theory", ["Sunrise", "Sunrise (copy)"]),
        ('title:"deep space"', ["Deep Space"]),
        ("bpm:120-128", ["Live at Club", "Night Drive", "Sunrise", "Sunrise (copy)"]),
        ("bpm:128", ["Night Drive"]),
        ("bpm:122", ["Sunrise", "Sunrise (copy)"]),  # a typed tempo means that tempo, rounded
        ("energy:>8", ["100% Pure_Mix", "Deep Space"]),
        ("energy:<=5", ["Sunrise", "Sunrise (copy)"]),
        ("key:8A", ["Night Drive"]),
        ("key:Am", ["Night Drive"]),  # any notation
        ("key:1m", ["Night Drive"]),  # Open Key 1m = 8A
        ("key:~8A", ["100% Pure_Mix", "Live at Club", "Night Drive", "Sunrise", "Sunrise (copy)"]),
        ("is:mix", ["Live at Club"]),
        ("is:missing", ["Gone"]),
        ("is:duplicate", ["Sunrise", "Sunrise (copy)"]),
        ("has:error", ["Broken"]),
        ("-genre:techno -genre:house", ["100% Pure_Mix", "Broken", "Gone"]),
        ("100%", ["100% Pure_Mix"]),  # LIKE wildcards are literal
        ("pure_mix", ["100% Pure_Mix"]),
        ("genre:techno bpm:>130", ["Deep Space"]),
    ],
)
async def test_query_language(library: Services, query: str, expected: list[str]) -> None:
    assert await titles(library, query) == sorted(expected)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("colour:red", "unknown field 'colour'"),
        ("bpm:fast", "bpm: 'fast' is not a number or range"),
        ("key:H", "not a key"),
        ("is:favourite", "is:favourite is unknown"),
        ('artist:"unclosed', "unclosed quote"),
        ("energy:", "energy: needs a value"),
    ],
)
def test_mistakes_are_explained_not_raised(query: str, message: str) -> None:
    compiled = compile_query(query)
    assert any(message in e for e in compiled.errors), compiled.errors


async def test_the_valid_part_of_a_mistaken_query_still_filters(library: Services) -> None:
    result = await track_ids(library, "genre:house colour:red", sort="title")
    assert len(result.ids) == 2
    assert result.errors == [result.errors[0]] and "colour" in result.errors[0]


async def test_sorting_is_done_by_the_database(library: Services) -> None:
    result = await track_ids(library, "has:key", sort="key")
    async with library.db.read() as session:
        keys = {t.id: t.camelot for t in (await session.execute(Track.__table__.select())).all()}
    # The Camelot wheel order: 3B, 7A, 8A, 8B, 9A, 9A (not the string order that puts 10A first).
    assert [keys[i] for i in result.ids] == ["3B", "7A", "8A", "8B", "9A", "9A"]
    desc = await track_ids(library, "has:bpm", sort="bpm", descending=True)
    assert desc.ids[0] == result.ids[1]  # 138 BPM (7A) is the fastest


IN_MEMORY_QUERIES = [
    "sunrise",
    "aurora drive",
    "techno",
    "-genre:techno -house",
    "100%",
    "bpm:>120 theory",
]


@pytest.mark.parametrize("query", IN_MEMORY_QUERIES)
async def test_in_memory_free_text_gives_the_same_tracks_in_the_same_order(
    library: Services, query: str
) -> None:
    from backend.api.library import IdCache
    from backend.library.search import SearchIndex

    index = SearchIndex()
    await index.load(library)
    cache = IdCache()
    in_sql = await track_ids(library, query, sort="bpm", descending=True)
    in_memory = await track_ids(library, query, "bpm", True, index, cache)
    assert in_memory.ids == in_sql.ids
    again = await track_ids(
        library, query + " a", "bpm", True, index, cache
    )  # narrowing, cached ids
    assert again.ids == (await track_ids(library, query + " a", sort="bpm", descending=True)).ids


async def test_ids_read_across_a_library_change_are_not_kept(library: Services) -> None:
    import asyncio

    from backend.api.library import IdCache

    cache = IdCache()
    reading = asyncio.ensure_future(cache.order(library, "title", False))
    await asyncio.sleep(0)  # the query is now waiting on the database thread
    assert not reading.done()
    cache.clear()  # a track event arrives while it runs: its answer may predate the change
    assert len(await reading) == len(TRACKS)
    assert cache.orders == {}
    await cache.order(library, "title", False)
    assert list(cache.orders) == [("title", False)]


@pytest.mark.parametrize("mode", ["embedded", "services"])
async def test_cached_id_vectors_answer_as_sql_does_on_both_deployments(
    request: pytest.FixtureRequest, make_settings: Any, mode: str
) -> None:
    """The app's path (sort order and per-term ids cached, words in memory) equals one SQL query,
    on SQLite and on PostgreSQL, for every sort column and direction."""
    from backend.api.library import IdCache
    from backend.library.search import SearchIndex

    async with open_deployment(request, make_settings, mode) as services:
        await _add_tracks(services)
        index, cache = SearchIndex(), IdCache()
        await index.load(services)
        for query in [*IN_MEMORY_QUERIES, "genre:techno bpm:120-140", "-is:mix key:~8A", ""]:
            for sort in ("title", "bpm", "key", "artist"):
                for descending in (False, True):
                    in_sql = await track_ids(services, query, sort, descending)
                    cached = await track_ids(services, query, sort, descending, index, cache)
                    assert cached.ids == in_sql.ids, (query, sort, descending)
