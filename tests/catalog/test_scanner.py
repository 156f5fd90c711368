"""Scanning in both deployments: identity across edits and moves, duplicates, missing, offline roots."""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from backend.api.folders import (
    FolderError,
    add_root,
    duplicates,
    list_roots,
    pause_root,
    purge_missing,
    remove_root,
    scan,
)
from backend.audio.encode import write_tags
from backend.catalog.scanner import ScanProgress
from backend.db.models import Job
from backend.messaging.contracts import AnalysisRequested, Envelope, decode
from backend.services import Services
from tests.catalog.conftest import (
    MakeAudio,
    age,
    copy_with_new_audio,
    root_row,
    track_at,
    tracks,
)

pytestmark = pytest.mark.services


async def analysis_jobs(services: Services) -> list[AnalysisRequested]:
    """The analysis the scans asked for, one request per track (they ask in batches)."""
    async with services.db.read() as session:
        rows = await session.execute(select(Job).where(Job.kind == "analysis:analysis.batch"))
        batches = [decode(j.payload["message"].encode()).payload for j in rows.scalars()]
    return [request for batch in batches for request in batch.requests()]


async def test_initial_scan_then_incremental(
    services: Services, tmp_path: Path, make_audio: MakeAudio
) -> None:
    root = tmp_path / "lib"
    for i, fmt in enumerate(["mp3", "flac", "m4a", "ogg", "wav"]):
        make_audio(root / "sub" / f"{i}.{'m4a' if fmt == 'm4a' else fmt}", fmt, seed=i)
    (root / "cover.jpg").write_bytes(b"\xff\xd8\xff not scanned")
    seen: list[ScanProgress] = []
    events: list[Envelope[Any]] = []
    got = asyncio.Event()

    async def on_event(message: Envelope[Any]) -> None:
        events.append(message)
        got.set()

    await services.bus.subscribe(["track.added"], on_event)
    stats, correlation = await scan(services, [str(root)], progress=seen.append, settle_s=0)
    assert stats.as_json() | {"seconds": 0} == {
        "roots": 1, "files_seen": 5, "added": 5, "updated": 0, "moved": 0, "removed": 0,
        "errors": 0, "seconds": 0,
    }  # fmt: skip
    rows = await tracks(services)
    assert sorted(t.rel_path for t in rows) == [f"sub/{i}.{e}" for i, e in
                                                enumerate(["mp3", "flac", "m4a", "ogg", "wav"])]  # fmt: skip
    assert all(t.status == "ok" and t.fingerprint and t.title for t in rows)
    assert [t.root_id for t in rows] == [rows[0].root_id] * 5
    assert seen and seen[-1].phase in ("read", "write")
    # One batched track.added event with every id, and analysis asked for each new track's audio.
    await asyncio.wait_for(got.wait(), 20)
    assert sorted(events[0].payload.track_ids) == sorted(t.id for t in rows)
    assert events[0].correlation_id == correlation
    asked = {(j.track_id, j.fingerprint) for j in await analysis_jobs(services)}
    assert asked == {(t.id, t.fingerprint) for t in rows}

    again, _ = await scan(services, [str(root)], settle_s=0)
    assert (again.added, again.updated, again.unchanged, again.files_seen) == (0, 0, 5, 5)
    assert len(await analysis_jobs(services)) == 5  # nothing new to analyse


async def test_tag_edit_and_audio_change_keep_the_id(
    services: Services, tmp_path: Path, make_audio: MakeAudio
) -> None:
    root = tmp_path / "lib"
    a = make_audio(root / "a.flac", seed=1, title="Before")
    await scan(services, [str(root)], settle_s=0)
    before = await track_at(services, "a.flac")
    assert before is not None
    write_tags(a, {"title": "After"})
    age(a, seconds=5)
    stats, _ = await scan(services, [str(root)], settle_s=0)
    after = await track_at(services, "a.flac")
    assert after is not None and stats.updated == 1
    assert (after.id, after.fingerprint, after.title) == (before.id, before.fingerprint, "After")
    assert len(await analysis_jobs(services)) == 1  # a tag edit needs no new analysis
    # New audio at the same path: same track, new fingerprint, analysed again.
    copy_with_new_audio(a, root / "tmp.bin")
    os.replace(root / "tmp.bin", a)
    age(a, seconds=3)
    await scan(services, [str(root)], settle_s=0)
    changed = await track_at(services, "a.flac")
    assert changed is not None and changed.id == before.id
    assert changed.fingerprint != before.fingerprint
    assert len(await analysis_jobs(services)) == 2


async def test_moves_keep_ids_inside_and_between_roots(
    services: Services, tmp_path: Path, make_audio: MakeAudio
) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    make_audio(one / "a.mp3", seed=1)
    make_audio(one / "b.mp3", seed=2)
    two.mkdir()
    await scan(services, [str(one), str(two)], settle_s=0)
    a, b = await track_at(services, "a.mp3"), await track_at(services, "b.mp3")
    assert a is not None and b is not None
    (one / "crate").mkdir()
    os.rename(one / "a.mp3", one / "crate" / "a-renamed.mp3")
    shutil.move(one / "b.mp3", two / "b.mp3")
    stats, _ = await scan(services, [str(one), str(two)], settle_s=0)
    assert (stats.moved, stats.added, stats.removed) == (2, 0, 0)
    moved_a = await track_at(services, "crate/a-renamed.mp3")
    moved_b = await track_at(services, "b.mp3")
    assert moved_a is not None and moved_a.id == a.id and moved_a.status == "ok"
    assert moved_b is not None and moved_b.id == b.id
    assert moved_b.root_id == (await root_row(services, two)).id
    assert len(await tracks(services)) == 2


async def test_a_move_among_many_identical_copies_keeps_its_id(
    services: Services, tmp_path: Path, make_audio: MakeAudio
) -> None:
    """Forty copies of the same audio are forty duplicates; the one that moves is found among them."""
    root = tmp_path / "lib"
    seed = make_audio(root / "copies" / "00.wav", seed=4, seconds=0.2)
    for i in range(1, 40):
        shutil.copy2(seed, root / "copies" / f"{i:02d}.wav")
    await scan(services, [str(root)], settle_s=0)
    rows = await tracks(services)
    assert len(rows) == 40 and len({t.fingerprint for t in rows}) == 1
    assert await duplicates(services) == [[t.id for t in rows]]
    before = await track_at(services, "copies/03.wav")  # among the first stored, checked last
    assert before is not None
    (root / "moved").mkdir()
    os.rename(root / "copies" / "03.wav", root / "moved" / "03.wav")
    stats, _ = await scan(services, [str(root)], settle_s=0)
    assert (stats.moved, stats.added, stats.removed) == (1, 0, 0)
    after = await track_at(services, "moved/03.wav")
    assert after is not None and after.id == before.id and after.status == "ok"
    assert len(await tracks(services)) == 40


async def test_duplicates_missing_and_relink(
    services: Services, tmp_path: Path, make_audio: MakeAudio
) -> None:
    root = tmp_path / "lib"
    a = make_audio(root / "a.wav", seed=3)
    shutil.copy2(a, root / "copy of a.wav")
    write_tags(root / "copy of a.wav", {"title": "Different tags, same audio"})
    await scan(services, [str(root)], settle_s=0)
    rows = await tracks(services)
    assert len(rows) == 2 and rows[0].fingerprint == rows[1].fingerprint
    assert await duplicates(services) == [[rows[0].id, rows[1].id]]
    # Deleted: kept, marked missing.
    kept = await track_at(services, "a.wav")
    assert kept is not None
    a.rename(tmp_path / "outside.wav")
    stats, _ = await scan(services, [str(root)], settle_s=0)
    assert stats.removed == 1
    gone = await track_at(services, "a.wav")
    assert gone is not None and gone.status == "missing" and gone.missing_since is not None
    assert await duplicates(services) == []
    # It comes back somewhere else in the root: relinked, same id.
    (root / "back").mkdir()
    (tmp_path / "outside.wav").rename(root / "back" / "a.wav")
    await scan(services, [str(root)], settle_s=0)
    back = await track_at(services, "back/a.wav")
    assert back is not None and back.id == kept.id and back.status == "ok"
    # Purge forgets only missing tracks.
    (root / "back" / "a.wav").unlink()
    await scan(services, [str(root)], settle_s=0)
    assert await purge_missing(services) == 1
    assert [t.rel_path for t in await tracks(services)] == ["copy of a.wav"]


async def test_offline_root_marks_nothing_missing(
    services: Services, tmp_path: Path, make_audio: MakeAudio
) -> None:
    root = tmp_path / "drive"
    make_audio(root / "a.mp3", seed=1)
    make_audio(root / "b.flac", seed=2)
    await scan(services, [str(root)], settle_s=0)
    # Unplugged: the mount point disappears.
    root.rename(tmp_path / "elsewhere")
    stats, _ = await scan(services, settle_s=0)
    assert stats.offline == [str(root)] and stats.removed == 0
    row = await root_row(services, root)
    assert row.state == "offline" and "not found" in (row.last_error or "")
    assert {t.status for t in await tracks(services)} == {"ok"}
    # Unmounted but the mount point stays (an empty folder): offline too.
    root.mkdir()
    stats, _ = await scan(services, settle_s=0)
    assert stats.offline == [str(root)] and stats.removed == 0
    assert "empty" in ((await root_row(services, root)).last_error or "")
    # Plugged back in: online, nothing changed.
    root.rmdir()
    (tmp_path / "elsewhere").rename(root)
    stats, _ = await scan(services, settle_s=0)
    assert (stats.offline, stats.unchanged, stats.removed) == ([], 2, 0)
    assert (await root_row(services, root)).state == "online"


async def test_roots_add_list_pause_remove(
    services: Services, tmp_path: Path, make_audio: MakeAudio
) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    make_audio(one / "a.mp3")
    two.mkdir()
    await add_root(services, one)
    await add_root(services, one)  # idempotent
    await add_root(services, two)
    (one / "sub").mkdir()
    with pytest.raises(FolderError, match="already inside"):
        await add_root(services, one / "sub")
    with pytest.raises(FolderError, match="contains"):
        await add_root(services, tmp_path)
    await pause_root(services, two)
    stats, _ = await scan(services, settle_s=0)  # paused roots are skipped
    assert stats.roots == 1 and stats.added == 1
    listed = {r.path: r for r in await list_roots(services)}
    assert listed[str(one)].tracks == 1 and listed[str(two)].paused
    assert await remove_root(services, one) == 1
    assert await tracks(services) == []
    assert [r.path for r in await list_roots(services)] == [str(two)]


async def test_young_files_wait_for_the_settle_window(
    services: Services, tmp_path: Path, make_audio: MakeAudio
) -> None:
    root = tmp_path / "lib"
    make_audio(root / "old.mp3", seed=1)
    age(root / "old.mp3")
    make_audio(root / "fresh.mp3", seed=2)  # just written: read only once unchanged for 0.5 s
    loop = asyncio.get_running_loop()
    started = loop.time()
    stats, _ = await scan(services, [str(root)], settle_s=0.5)
    assert stats.added == 2
    assert loop.time() - started >= 0.3
