"""The jobs panel: a failed job shows why it failed, and Retry runs it again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from backend.db.models import Track
from backend.messaging.contracts import AnalysisRequested, TracklistRequested
from backend.worker.local import wait_settled
from tests.gui.conftest import make_music, next_signal, rows_become

MISSING_TRACK = 424242


async def test_a_failed_job_shows_its_reason_and_retries(open_window: Any, qtbot: Any) -> None:
    async with open_window(kinds=("catalog", "tracklists")) as window:
        client = window.client
        # A real failure: the tracklists worker is asked about a track that does not exist.
        (message,) = await client.enqueue([TracklistRequested(track_id=MISSING_TRACK)])
        await wait_settled(client.services, message.correlation_id, timeout_s=30)

        window.show_view("jobs")
        jobs = window.jobs
        await jobs.reload()
        failed = [j for j in jobs.model.jobs if j["status"] in ("failed", "dead")]
        assert len(failed) == 1, jobs.model.jobs
        first_finish = failed[0]["finished_at"]
        row = jobs.model.jobs.index(failed[0])
        jobs.table.selectRow(row)
        reason = jobs.error_text.text()
        assert "Why it failed" in reason and str(MISSING_TRACK) in reason
        status_cell = jobs.model.index(row, 0).data()
        assert status_cell in ("failed", "dead")

        messages: list[str] = []
        window.statusBar().messageChanged.connect(messages.append)
        retried = next_signal(jobs.message)
        jobs.retry_button.click()
        (text,) = await retried
        assert text.startswith("1 job retried")
        await wait_settled(client.services, message.correlation_id, timeout_s=30)
        await jobs.reload()
        again = next(j for j in jobs.model.jobs if j["id"] == failed[0]["id"])
        # It ran again (a new finish time) and failed for the same readable reason.
        assert again["finished_at"] != first_finish
        assert again["status"] in ("failed", "dead") and str(MISSING_TRACK) in again["error"]
        assert "failed" in window.jobs_label.text() or "dead" in jobs.summary.text()


async def test_jobs_name_the_track_they_are_about(
    open_window: Any, qtbot: Any, tmp_path: Path
) -> None:
    async with open_window(kinds=("catalog",)) as window:
        make_music(tmp_path / "music", [{"title": "Night Drive", "artist": "Lumen Tide"}])
        await window.add_folder(tmp_path / "music")
        await rows_become(window, 1)
        async with window.client.services.db.read() as session:
            track = (await session.execute(select(Track))).scalar_one()
        # What the analysis worker makes of the scan's batch: one job per track.
        await window.client.enqueue([AnalysisRequested(track.id, track.fingerprint or "")])
        window.show_view("jobs")
        await window.jobs.reload()
        jobs = window.jobs.model.jobs
        described = {j["kind"]: window.jobs.model.index(jobs.index(j), 1).data() for j in jobs}
        # "Analyse “Lumen Tide – Night Drive”", not "Analyse track #1".
        assert described["analysis:analysis.requested"] == "Analyse “Lumen Tide – Night Drive”"
        assert described["analysis:analysis.batch"] == "Queue analysis (1)"
