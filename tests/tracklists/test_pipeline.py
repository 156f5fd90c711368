"""End to end in both deployments: recording analysed → search → pick → fetch → parse → align → store → CUE.

The worker runs the real handlers on the deployment's bus; the site is the local server with the saved pages.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from backend.db.models import (
    AnalysisResult,
    CuePoint,
    Job,
    LibraryRoot,
    Track,
    Tracklist,
    TracklistEntry,
)
from backend.messaging.contracts import RecordingAnalyzed, TracklistRequested, new
from backend.services import Services
from backend.tracklists.cue import cue_sheet, parse_cue
from backend.tracklists.search import build_query
from backend.tracklists.service import load_applied
from backend.worker.jobs import add_jobs_for, job_id_for
from backend.worker.local import local_workers, wait_for_job
from tests.conftest import open_deployment
from tests.tracklists.conftest import SEARCH_30, TRACKLIST_PATHS, FakeSite, page

AFRO_PATH, ARMIN_PATH, BICEP_PATH, BLOCKED_PATH = list(TRACKLIST_PATHS)
AFRO_FILE = "AFROJACK @ kineticFIELD, EDC Las Vegas 2025-05-17.mp3"
AFRO_LENGTH = 4069.0  # the set's YouTube recording: "Player 1 [1:07:49]"


def search_page_pointing_at(path: str) -> str:
    """The saved 30-hit search page, its first hit turned into the AFROJACK set at ``path``."""
    html = page(SEARCH_30)
    marker = '<div class="bItm action oItm"'
    head, first, rest = html.partition(marker)
    second = rest.index(marker)
    hit, tail = rest[:second], rest[second:]
    hit = hit.replace(
        "/tracklist/2r65b051/gorgon-city-club-space-miami-united-states-2025-12-27.html", path
    )
    hit = hit.replace(
        "Gorgon City @ Club Space Miami, United States",
        "AFROJACK @ kineticFIELD, EDC Las Vegas, United States",
    )
    hit = hit.replace("2025-12-27", "2025-05-17").replace("3h 59m", "1h 8m")
    return head + first + hit + tail


@pytest.fixture(params=["embedded", "services"])
async def deployment(
    request: pytest.FixtureRequest, make_settings: Any, site: FakeSite
) -> AsyncIterator[Services]:
    """Services of one deployment whose tracklist client talks to the local site, 50 ms apart."""
    sections: dict[str, Any] = {
        "tracklists": {"base_url": site.base_url, "min_interval_s": 0.05},
        "worker": {"retry_base_delay_s": 0.05, "max_attempts": 2},
    }
    async with open_deployment(request, make_settings, request.param, **sections) as svc:
        yield svc


async def add_recording(
    svc: Services, folder: Path, name: str, duration_s: float, transitions: list[dict[str, float]]
) -> int:
    """A catalogued long recording with its analysis (transitions), as the catalog and analysis leave it."""
    (folder / name).write_bytes(b"\xff\xfb" + bytes(64))
    fingerprint = uuid.uuid4().hex
    async with svc.db.unit_of_work() as session:
        root = LibraryRoot(path=str(folder), name="Sets")
        session.add(root)
        await session.flush()
        track = Track(
            root_id=root.id,
            rel_path=name,
            duration_s=duration_s,
            fingerprint=fingerprint,
            is_mix=True,
            format="mp3",
        )
        session.add(track)
        # A library track played in the set, to be linked.
        session.add(
            Track(
                root_id=root.id,
                rel_path="tco.mp3",
                artist="Afrojack feat. Eva Simons",
                title="Take Over Control [Piano Version]",
                duration_s=399.0,
            )
        )
        session.add(
            AnalysisResult(
                fingerprint=fingerprint, algorithm_version="t", data={"transitions": transitions}
            )
        )
        await session.flush()
        return track.id


async def run_job(svc: Services, payload: Any) -> Job:
    """Publish one message like the app does (job row first) and let the tracklists worker handle it."""
    message = new(payload)
    async with svc.db.unit_of_work() as session:
        add_jobs_for(session, [message])
    job_id = job_id_for(message.id, "tracklists")
    async with local_workers(svc, ["tracklists"]):
        await svc.bus.publish([message])
        await wait_for_job(svc, job_id, timeout_s=60)
    async with svc.db.read() as session:
        job = await session.get(Job, job_id)
        assert job is not None
        return job


async def count(svc: Services, model: Any) -> int:
    async with svc.db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_search_pick_fetch_parse_align_store_and_cue(
    deployment: Services, site: FakeSite, tmp_path: Path
) -> None:
    query = build_query(AFRO_FILE).text
    site.search_pages[query] = search_page_pointing_at(AFRO_PATH)
    track_id = await add_recording(deployment, tmp_path, AFRO_FILE, AFRO_LENGTH, [])
    job = await run_job(
        deployment, RecordingAnalyzed(track_id=track_id, fingerprint="x", algorithm_version="t")
    )
    assert job.status == "done", job.error
    # One search, one page: the other 29 hits were not worth a request.
    assert [h.path for h in site.hits if h.path != "/robots.txt"] == [
        "/search/result.php",
        AFRO_PATH,
    ]
    async with deployment.db.read() as session:
        lists = (await session.scalars(select(Tracklist))).all()
        assert len(lists) == 1
        tl = lists[0]
        assert (tl.status, tl.source, tl.track_id) == ("applied", "1001tracklists", track_id)
        assert tl.url and tl.url.endswith(
            "2wrmg6f1/afrojack-kineticfield-edc-las-vegas-united-states-2025-05-17.html"
        )
        assert tl.confidence >= 0.8 and tl.date == "2025-05-17" and tl.djs == ["AFROJACK"]
        entries = (
            await session.scalars(select(TracklistEntry).order_by(TracklistEntry.ordinal))
        ).all()
        assert len(entries) == 57
        assert {e.cue_source for e in entries if e.cue_s is not None} == {"site"}
        assert entries[0].linked_track_id is not None  # Take Over Control (Piano Version)
        cues = (await session.scalars(select(CuePoint).where(CuePoint.track_id == track_id))).all()
        assert len(cues) == 28 and {c.kind for c in cues} == {"tracklist"}
        # tracklist.applied went out to the graph worker (its job row is queued).
        graph_jobs = (await session.scalars(select(Job.kind))).all()
        assert "graph:tracklist.applied" in graph_jobs
    page_, audio = await load_applied(deployment, track_id)
    sheet = cue_sheet(page_, page_.timelines[0], audio)
    assert f'FILE "{AFRO_FILE}" MP3' in sheet.text and sheet.tracks == 28
    parsed, file_name = parse_cue(sheet.text)
    assert file_name == AFRO_FILE and len(parsed.entries) == 57


async def test_blocked_page_leaves_the_database_untouched(
    deployment: Services, site: FakeSite, tmp_path: Path
) -> None:
    query = build_query(AFRO_FILE).text
    site.search_pages[query] = search_page_pointing_at(BLOCKED_PATH)
    track_id = await add_recording(deployment, tmp_path, AFRO_FILE, AFRO_LENGTH, [])
    job = await run_job(
        deployment, RecordingAnalyzed(track_id=track_id, fingerprint="x", algorithm_version="t")
    )
    assert job.status in {"dead", "failed"}
    assert job.error is not None and "browser" in job.error and "captcha" in job.error
    assert await count(deployment, Tracklist) == 0
    assert await count(deployment, TracklistEntry) == 0
    assert await count(deployment, CuePoint) == 0
    # Only once: the job was not retried into the block.
    assert len(site.requests_to(BLOCKED_PATH)) == 1


async def test_ambiguous_search_leaves_candidates_for_the_user(
    deployment: Services, site: FakeSite, tmp_path: Path
) -> None:
    name = "AFROJACK @ kineticFIELD, EDC Las Vegas.mp3"  # no date; length of neither recording
    site.search_pages[build_query(name).text] = search_page_pointing_at(AFRO_PATH)
    track_id = await add_recording(deployment, tmp_path, name, 1500.0, [])
    job = await run_job(
        deployment, RecordingAnalyzed(track_id=track_id, fingerprint="x", algorithm_version="t")
    )
    assert job.status == "done", job.error
    async with deployment.db.read() as session:
        lists = (await session.scalars(select(Tracklist))).all()
        assert [t.status for t in lists] == ["candidate"]
        assert await session.scalar(select(func.count()).select_from(CuePoint)) == 0
        assert "graph:tracklist.applied" not in (await session.scalars(select(Job.kind))).all()


async def test_url_given_by_the_user_is_applied_and_aligned(
    deployment: Services, site: FakeSite, tmp_path: Path
) -> None:
    # The Bicep set has no cues at all: they come from the transitions heard in the recording.
    transitions = [{"time_s": 330.0 * i + 7, "strength": 0.9} for i in range(1, 22)]
    track_id = await add_recording(deployment, tmp_path, "bicep whp.flac", 22 * 330.0, transitions)
    job = await run_job(
        deployment, TracklistRequested(track_id=track_id, url=site.base_url + BICEP_PATH)
    )
    assert job.status == "done", job.error
    async with deployment.db.read() as session:
        tl = await session.scalar(select(Tracklist))
        assert tl is not None and tl.status == "applied"
        entries = (
            await session.scalars(select(TracklistEntry).order_by(TracklistEntry.ordinal))
        ).all()
        cues = [e.cue_s for e in entries]
        assert cues[0] == 0 and cues[1:] == [330.0 * i + 7 for i in range(1, 22)]
        assert {e.cue_source for e in entries} == {"aligned"}
        points = (await session.scalars(select(CuePoint).order_by(CuePoint.position_s))).all()
        assert [p.source for p in points] == ["aligned"] * 22


async def test_cue_sheet_next_to_the_recording_is_imported_without_the_site(
    deployment: Services, site: FakeSite, tmp_path: Path
) -> None:
    track_id = await add_recording(deployment, tmp_path, "mix.mp3", 600.0, [])
    (tmp_path / "mix.cue").write_text(
        'PERFORMER "DJ"\nTITLE "Mix"\nFILE "mix.mp3" MP3\n  TRACK 01 AUDIO\n    TITLE "One"\n'
        '    PERFORMER "A"\n    INDEX 01 00:00:00\n  TRACK 02 AUDIO\n    TITLE "Two"\n'
        '    PERFORMER "B"\n    INDEX 01 04:30:00\n',
        encoding="utf-8",
    )
    job = await run_job(
        deployment, RecordingAnalyzed(track_id=track_id, fingerprint="x", algorithm_version="t")
    )
    assert job.status == "done", job.error
    assert site.hits == []
    async with deployment.db.read() as session:
        tl = await session.scalar(select(Tracklist))
        assert tl is not None and (tl.status, tl.source) == ("applied", "cue")
        entries = (
            await session.scalars(select(TracklistEntry).order_by(TracklistEntry.ordinal))
        ).all()
        assert [(e.title, e.cue_s, e.cue_source) for e in entries] == [
            ("One", 0, "user"),
            ("Two", 270, "user"),
        ]


async def test_a_second_run_keeps_the_applied_tracklist_and_the_users_edits(
    deployment: Services, site: FakeSite, tmp_path: Path
) -> None:
    site.search_pages[build_query(AFRO_FILE).text] = search_page_pointing_at(AFRO_PATH)
    track_id = await add_recording(deployment, tmp_path, AFRO_FILE, AFRO_LENGTH, [])
    analyzed = RecordingAnalyzed(track_id=track_id, fingerprint="x", algorithm_version="t")
    assert (await run_job(deployment, analyzed)).status == "done"
    async with deployment.db.unit_of_work() as session:
        second = await session.scalar(select(TracklistEntry).where(TracklistEntry.position == 2))
        assert second is not None and second.cue_s == 215
        second.cue_s, second.cue_source = 217.4, "user"  # the user moved a marker in the app
    assert (await run_job(deployment, analyzed)).status == "done"
    async with deployment.db.read() as session:
        lists = (await session.scalars(select(Tracklist))).all()
        assert [t.status for t in lists] == ["applied"]
        kept = await session.scalar(select(TracklistEntry).where(TracklistEntry.position == 2))
        assert kept is not None and (kept.cue_s, kept.cue_source) == (217.4, "user")
    # Applying the page explicitly replaces it (the user asked for it).
    url = site.base_url + AFRO_PATH
    assert (
        await run_job(deployment, TracklistRequested(track_id=track_id, url=url))
    ).status == "done"
    async with deployment.db.read() as session:
        again = await session.scalar(select(TracklistEntry).where(TracklistEntry.position == 2))
        assert again is not None and (again.cue_s, again.cue_source) == (215, "site")
        assert await session.scalar(select(func.count()).select_from(Tracklist)) == 1
