"""The mix view: a 48-minute generated recording whose track changes sit at the cues of a real
1001tracklists page; applying that page (served by a local HTTP server) fills the table and the markers.

The recording is rendered so the analysis hears transitions where the page's cues are, and two library
tracks carry the tags of two tracklist entries (so linking has something to find). Built once per module;
slow-ish (a 48-minute file is analysed) but bounded.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from backend.db.models import Tracklist, TracklistEntry
from tests.gui_views.conftest import (
    ARMIN_PATH,
    PAGES,
    SERVED,
    Library,
    build_library,
    run,
    snapshot,
)
from tracktion_gui.asyncutil import idle
from tracktion_gui.views.extra_media import MediaController
from tracktion_gui.views.mix import MixPage

pytestmark = pytest.mark.slow

SR = 11025
KEYS = ["A minor", "E minor", "C major", "D minor", "G major", "B minor", "F major", "A major"]


def armin_page() -> Any:
    from backend.tracklists.parser import parse_tracklist

    return parse_tracklist((PAGES / SERVED[ARMIN_PATH]).read_text(encoding="utf-8"))


def write_recording(folder: Path) -> None:
    """A recording as long as the page's timeline, changing track exactly at each cue."""
    from backend.audio.encode import write_tags
    from backend.audio.synth import render_mix, render_track, write_audio

    page = armin_page()
    timeline = page.timelines[0]
    cues = [e.cue_s for e in timeline.entries if e.cue_s is not None]
    total = float(timeline.duration_s or cues[-1] + 150)
    fade = 6.0
    bounds = [0.0, *cues, total]
    parts = []
    for i in range(len(bounds) - 1):
        start = bounds[i] - (fade / 2 if i > 0 else 0.0)
        end = bounds[i + 1] + (fade / 2 if i + 2 < len(bounds) else 0.0)
        bpm = 122.0 + (i % 3) * 3
        parts.append(render_track(bpm, KEYS[i % len(KEYS)], end - start, SR, seed=100 + i))
    mix, _times = render_mix(parts, [fade] * (len(parts) - 1), SR)
    folder.mkdir(parents=True, exist_ok=True)
    write_audio(folder / "amf-2025.wav", mix, SR)
    write_tags(
        folder / "amf-2025.wav", {"artist": "Armin van Buuren", "title": "AMF 2025 (recording)"}
    )
    # Two library tracks that are entries of the tracklist.
    for n, entry in enumerate(timeline.entries[:2]):
        name = f"entry{n + 1}.flac"
        write_audio(folder / name, render_track(126.0, "A minor", 20.0, SR, seed=200 + n), SR)
        write_tags(folder / name, {"artist": entry.artist, "title": entry.title})


@pytest.fixture(scope="module")
def mix_library(
    qloop: asyncio.AbstractEventLoop, tmp_path_factory: pytest.TempPathFactory, site: str
) -> Iterator[Library]:
    base = tmp_path_factory.mktemp("gui_views_mix")
    write_recording(base / "music")
    lib = run(qloop, build_library(base / "home", base / "music", tracklists_url=site), 600)
    yield lib
    run(qloop, lib.services.close())


async def add_candidate(library: Library, track_id: int, url: str) -> int:
    """A candidate as the tracklists worker stores it when it is not sure enough to apply by itself."""
    from backend.messaging.contracts import TracklistCandidates, new

    async with library.services.db.unit_of_work() as session:
        row = Tracklist(
            track_id=track_id, source="1001tracklists", url=url, status="candidate",
            title="Armin van Buuren & KI/KI @ Two Is One, AMF 2025", confidence=0.62,
        )  # fmt: skip
        session.add(row)
        await session.flush()
        tracklist_id = row.id
    await library.services.bus.publish([new(TracklistCandidates(track_id, (tracklist_id,)))])
    return tracklist_id


async def click_and_wait(library: Library, page: MixPage, button: Any) -> None:
    """Click a button that enqueues a tracklist job, with the tracklists (and graph) workers running;
    wait for the job and for the view's reload."""
    from backend.worker.local import local_workers, wait_settled

    async with local_workers(library.services, ["tracklists", "graph"]):
        button.click()
        (task,) = page.tasks.tasks
        job_id = await task  # the enqueued TracklistRequested job
        assert job_id
        await wait_settled(library.services, job_id, timeout_s=120)
    assert await idle(30)


def test_applying_a_tracklist_shows_entries_and_cues(
    qloop: asyncio.AbstractEventLoop, mix_library: Library, site: str, qtbot: Any, tmp_path: Path
) -> None:
    services = mix_library.services
    recording = mix_library.ids["amf-2025.wav"]
    controller = MediaController(services, mixes_only=True)
    opened: list[int] = []
    page = MixPage(controller, opened.append)
    qtbot.addWidget(page)
    page.resize(1200, 800)
    page.show()
    run(qloop, controller.start_events())
    try:
        controller.select(mix_library.ids["entry1.flac"])  # not a mix: ignored by the mix view
        controller.select(recording)
        assert run(qloop, idle(60))
        assert page.media is not None and page.media.track_id == recording
        assert page.timelines.segments, "no tempo/key/energy timeline for the recording"
        assert page.table.rowCount() == 0

        # "Find tracklist": the (local) site has no hit for this recording; the view says so.
        run(qloop, click_and_wait(mix_library, page, page.find_button), 240)
        assert page.status.text().startswith("No tracklist yet"), page.status.text()
        assert page.table.rowCount() == 0

        run(qloop, add_candidate(mix_library, recording, site + ARMIN_PATH))
        assert run(qloop, idle(30))
        assert page.candidates.count() == 1 and "62%" in page.candidates.itemText(0)
        assert page.apply_button.isEnabled()
        run(qloop, click_and_wait(mix_library, page, page.apply_button), 240)

        timeline = armin_page().timelines[0]
        assert page.table.rowCount() == len(timeline.entries) == 15, page.status.text()
        first = timeline.entries[0]
        assert first.artist in page.table.item(0, 1).text()
        assert page.table.item(0, 0).text() == "1:31"  # cue 91 s from the page
        assert page.table.item(0, 3).text() == "site"
        cue_times = sorted(round(c.position_s) for c in page.waveform.cues)
        assert cue_times == [e.cue_s for e in timeline.entries]
        # Entries linked to library tracks open them.
        linked_rows = [r for r in range(page.table.rowCount()) if page.table.item(r, 5).text()]
        assert linked_rows, "no entry was linked to the two library tracks with its tags"
        page._row_opened(linked_rows[0], 5)
        assert opened and opened[0] in (
            mix_library.ids["entry1.flac"],
            mix_library.ids["entry2.flac"],
        )

        snapshot(page, "mix-applied")
        # Clicking a row seeks there.
        page.table.cellClicked.emit(2, 1)
        assert controller.player.position() == pytest.approx(timeline.entries[2].cue_s)
        t0, t1 = page.waveform.visible_range()
        assert t0 <= timeline.entries[2].cue_s <= t1

        # Dragging the second marker corrects that cue (stored as a user cue) ...
        line, _over, cue = next(item for item in page.waveform.cue_items if item[2].entry_id)
        line.setValue(cue.position_s + 2.5)
        line.sigPositionChangeFinished.emit(line)
        assert run(qloop, idle(30))

        async def entry_row() -> TracklistEntry:
            async with services.db.read() as session:
                row = await session.scalar(
                    select(TracklistEntry).where(TracklistEntry.id == cue.entry_id)
                )
                assert row is not None
                return row

        row = run(qloop, entry_row())
        assert row.cue_s == pytest.approx(cue.position_s + 2.5)
        assert row.cue_source == "user"
        assert "user" in [page.table.item(r, 3).text() for r in range(page.table.rowCount())]

        # ... and the CUE export carries it at frame precision.
        from backend.tracklists.cue import index_time

        dest = tmp_path / "set.cue"
        page.export(dest)
        assert run(qloop, idle(30))
        text = dest.read_text(encoding="utf-8")
        assert 'FILE "amf-2025.wav" WAVE' in text
        assert f"INDEX 01 {index_time(cue.position_s + 2.5)}" in text
        assert text.count("TRACK ") == 15
    finally:
        run(qloop, controller.stop_events())
        controller.player.stop()
