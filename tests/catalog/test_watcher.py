"""Live watching in both deployments: real files, the real watcher, the catalog handler on the bus."""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from backend.api.folders import add_root
from backend.audio.encode import write_tags
from backend.catalog.own_writes import expect_write
from backend.catalog.watcher import Watcher
from backend.messaging.contracts import Envelope
from backend.services import Services
from backend.worker.local import local_workers
from tests.catalog.conftest import MakeAudio, root_row, track_at, tracks
from tests.conftest import SettingsFactory, open_deployment

pytestmark = pytest.mark.services

FAST = {"settle_window_s": 0.3, "debounce_ms": 50}
TIMEOUT = 30.0


@pytest.fixture(params=["embedded", "services"])
async def fast_services(
    request: pytest.FixtureRequest, make_settings: SettingsFactory
) -> AsyncIterator[Services]:
    """Like the shared ``services`` fixture, with a short settle window so watch tests run quickly."""
    common: dict[str, Any] = {"library": FAST, "worker": {"retry_base_delay_s": 0.05}}
    async with open_deployment(request, make_settings, request.param, **common) as svc:
        yield svc


@asynccontextmanager
async def watching(services: Services) -> AsyncIterator[Watcher]:
    """The watcher plus the catalog worker that handles its messages, for the block's duration."""
    stop = asyncio.Event()
    async with local_workers(services, ["catalog"]):
        watcher = Watcher(services, roots_poll_s=0.3, initial_scan=False)
        task = asyncio.create_task(watcher.run(stop))
        await asyncio.wait_for(watcher.ready.wait(), TIMEOUT)
        try:
            yield watcher
        finally:
            stop.set()
            await asyncio.wait_for(task, TIMEOUT)


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = TIMEOUT) -> None:
    """Poll ``check`` until it holds (the watcher works asynchronously by design)."""
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)


async def test_create_modify_rename_delete(
    fast_services: Services, tmp_path: Path, make_audio: MakeAudio
) -> None:
    services = fast_services
    root = tmp_path / "lib"
    root.mkdir()
    await add_root(services, root)
    async with watching(services):
        make_audio(root / "a.mp3", seed=1, title="First")

        async def created() -> bool:
            t = await track_at(services, "a.mp3")
            return t is not None and t.title == "First"

        await eventually(created)
        first = await track_at(services, "a.mp3")
        assert first is not None
        write_tags(root / "a.mp3", {"title": "Edited"})

        async def edited() -> bool:
            t = await track_at(services, "a.mp3")
            return t is not None and t.title == "Edited"

        await eventually(edited)
        (root / "crate").mkdir()
        os.rename(root / "a.mp3", root / "crate" / "b.mp3")

        async def renamed() -> bool:
            t = await track_at(services, "crate/b.mp3")
            return t is not None and t.status == "ok"

        await eventually(renamed)
        moved = await track_at(services, "crate/b.mp3")
        assert moved is not None and moved.id == first.id
        assert len(await tracks(services)) == 1
        (root / "crate" / "b.mp3").unlink()

        async def missing() -> bool:
            t = await track_at(services, "crate/b.mp3")
            return t is not None and t.status == "missing"

        await eventually(missing)


async def test_folders_in_and_out_and_moves_between_roots(
    fast_services: Services, tmp_path: Path, make_audio: MakeAudio
) -> None:
    services = fast_services
    one, two, outside = tmp_path / "one", tmp_path / "two", tmp_path / "outside"
    one.mkdir()
    two.mkdir()
    for i in range(3):
        make_audio(outside / "album" / f"{i}.flac", seed=i)
    await add_root(services, one)
    await add_root(services, two)
    async with watching(services):
        shutil.move(outside / "album", one / "album")  # a folder moved in: one event for the folder

        async def three() -> bool:
            return len(await tracks(services, status="ok")) == 3

        await eventually(three)
        ids = {t.rel_path: t.id for t in await tracks(services)}
        assert set(ids) == {"album/0.flac", "album/1.flac", "album/2.flac"}
        shutil.move(one / "album" / "0.flac", two / "0.flac")  # between roots

        async def moved() -> bool:
            t = await track_at(services, "0.flac")
            return t is not None and t.status == "ok"

        await eventually(moved)
        t = await track_at(services, "0.flac")
        assert t is not None and t.id == ids["album/0.flac"]
        assert t.root_id == (await root_row(services, two)).id
        shutil.move(one / "album", outside / "album")  # a folder moved out

        async def gone() -> bool:
            return len(await tracks(services, status="missing")) == 2

        await eventually(gone)
        assert len(await tracks(services)) == 3


async def test_root_deleted_while_watched(
    fast_services: Services, tmp_path: Path, make_audio: MakeAudio
) -> None:
    services = fast_services
    doomed, other = tmp_path / "doomed", tmp_path / "other"
    other.mkdir()
    make_audio(doomed / "a.mp3", seed=1)
    make_audio(doomed / "b.mp3", seed=2)
    from backend.api.folders import scan

    await scan(services, [str(doomed), str(other)], settle_s=0)
    async with watching(services) as watcher:
        shutil.rmtree(doomed)

        async def offline() -> bool:
            return (await root_row(services, doomed)).state == "offline"

        await eventually(offline)
        assert {t.status for t in await tracks(services)} == {"ok"}  # nothing marked missing

        async def rewatched() -> bool:
            return watcher.watched == (str(other),)

        await eventually(rewatched)
        make_audio(other / "c.mp3", seed=3)  # the other root is still watched

        async def still_watching() -> bool:
            return await track_at(services, "c.mp3") is not None

        await eventually(still_watching)


async def test_thousand_files_dropped_at_once_each_catalogued_once(
    fast_services: Services, tmp_path: Path, make_audio: MakeAudio
) -> None:
    services = fast_services
    root, staging = tmp_path / "lib", tmp_path / "staging"
    root.mkdir()
    base = make_audio(staging / "base.wav", seconds=0.2)
    template = base.read_bytes()
    mid = len(template) // 2  # inside the PCM data: every copy gets its own audio fingerprint
    for i in range(1000):
        data = bytearray(template)
        data[mid : mid + 2] = i.to_bytes(2, "little")
        (staging / f"{i:04d}.wav").write_bytes(bytes(data))
    base.unlink()
    await add_root(services, root)
    added: list[int] = []

    async def on_added(message: Envelope[Any]) -> None:
        added.extend(message.payload.track_ids)

    await services.bus.subscribe(["track.added"], on_added)
    async with watching(services):
        for name in sorted(os.listdir(staging)):
            os.rename(staging / name, root / name)

        async def all_in() -> bool:
            return len(await tracks(services)) >= 1000 and len(added) >= 1000

        await eventually(all_in, timeout=120)
    rows = await tracks(services)
    assert len(rows) == 1000 and len({t.rel_path for t in rows}) == 1000
    assert {t.status for t in rows} == {"ok"}
    assert sorted(added) == sorted(t.id for t in rows)  # one track.added per file, none twice


async def test_rename_storm(fast_services: Services, tmp_path: Path, make_audio: MakeAudio) -> None:
    services = fast_services
    root = tmp_path / "lib"
    a = make_audio(root / "a.mp3", seed=1)
    b = make_audio(root / "b.mp3", seed=2)
    from backend.api.folders import scan

    await scan(services, [str(root)], settle_s=0)
    ids = {t.fingerprint: t.id for t in await tracks(services)}
    async with watching(services):
        current_a, current_b = a, b
        for i in range(60):  # rename both files in quick succession, swapping names on the way
            next_a, next_b = root / f"x{i}.mp3", root / f"y{i}.mp3"
            os.rename(current_a, next_a)
            os.rename(current_b, next_b)
            current_a, current_b = next_a, next_b
        os.rename(current_a, root / "tmp.mp3")
        os.rename(current_b, root / "final-a.mp3")
        os.rename(root / "tmp.mp3", root / "final-b.mp3")

        async def settled() -> bool:
            rows = await tracks(services)
            return {t.rel_path for t in rows if t.status == "ok"} == {"final-a.mp3", "final-b.mp3"}

        await eventually(settled)
    rows = await tracks(services)
    assert len(rows) == 2  # no duplicates, nothing left missing
    assert {t.fingerprint: t.id for t in rows} == ids  # both kept their identity


async def test_own_writes_are_not_catalogued_again(
    fast_services: Services, tmp_path: Path, make_audio: MakeAudio
) -> None:
    services = fast_services
    root = tmp_path / "lib"
    path = make_audio(root / "a.flac", seed=1, title="Original")
    from backend.api.folders import scan

    await scan(services, [str(root)], settle_s=0)
    updates: list[Envelope[Any]] = []

    async def on_updated(message: Envelope[Any]) -> None:
        updates.append(message)

    await services.bus.subscribe(["track.updated"], on_updated)
    async with watching(services):
        write_tags(path, {"title": "Written by Tracktion"})
        st = path.stat()
        await expect_write(services.cache, path, st.st_size, st.st_mtime)

        async def stat_recorded() -> bool:
            t = await track_at(services, "a.flac")
            return t is not None and t.size == st.st_size and t.mtime == st.st_mtime

        await eventually(stat_recorded)
        # An outside edit of the same file is catalogued as usual.
        write_tags(path, {"title": "Edited elsewhere"})

        async def outside_edit() -> bool:
            t = await track_at(services, "a.flac")
            return t is not None and t.title == "Edited elsewhere"

        await eventually(outside_edit)
    assert len(updates) == 1  # only the outside edit produced track.updated


async def test_file_still_being_copied_is_read_once_complete(
    fast_services: Services, tmp_path: Path, make_audio: MakeAudio
) -> None:
    services = fast_services
    root = tmp_path / "lib"
    root.mkdir()
    src = make_audio(tmp_path / "src.flac", seed=4, seconds=3.0)
    data = src.read_bytes()
    await add_root(services, root)
    async with watching(services):
        with open(
            root / "slow.flac", "wb"
        ) as fh:  # a slow copy: pauses shorter than the settle window
            for start in range(0, len(data), len(data) // 6):
                fh.write(data[start : start + len(data) // 6])
                fh.flush()
                assert await track_at(services, "slow.flac") is None  # never read half-written
                await asyncio.sleep(0.1)

        async def complete() -> bool:
            return await track_at(services, "slow.flac") is not None

        await eventually(complete)
    track = await track_at(services, "slow.flac")
    assert track is not None and track.status == "ok"
    assert track.duration_s == pytest.approx(3.0, abs=0.1)
