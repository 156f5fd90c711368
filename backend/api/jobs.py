"""Jobs: list them for the jobs panel, retry a failed one, cancel an open one."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from backend.db.models import Job, Track
from backend.messaging.contracts import InvalidMessage, JobUpdated, decode, new
from backend.services import Services
from backend.worker import jobs as job_rows

FAILED = ("failed", "dead")


def job_dict(job: Job, track: str | None = None) -> dict[str, Any]:
    """A job for the panel and ``jobs ls --json``; ``track`` names the track it is about, if any."""
    return {
        "id": job.id,
        "kind": job.kind,
        "status": job.status,
        "title": job.title,
        "track_id": job.track_id,
        "track": track,
        "progress": job.progress,
        "attempts": job.attempts,
        "error": job.error,
        "worker": job.worker,
        "created_at": job.created_at.isoformat() if job.created_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }


async def list_jobs(
    services: Services, status: str | None = None, limit: int = 200
) -> list[dict[str, Any]]:
    query = (
        select(Job, Track.artist, Track.title, Track.rel_path)
        .outerjoin(Track, Track.id == Job.track_id)
        .order_by(Job.created_at.desc())
        .limit(limit)
    )
    if status is not None:
        query = query.where(Job.status == status)
    async with services.db.read() as session:
        rows = (await session.execute(query)).all()
    return [job_dict(job, track_name(artist, title, path)) for job, artist, title, path in rows]


def track_name(artist: str | None, title: str | None, rel_path: str | None) -> str | None:
    """How a job names its track: "Artist – Title", else the file name (untagged), else None."""
    if title:
        return f"{artist} – {title}" if artist else title
    return rel_path.rsplit("/", 1)[-1] if rel_path else None


async def retry_job(services: Services, job_id: str) -> bool:
    """Queue a failed (dead-lettered) job's message again; the same job row shows its progress."""
    async with services.db.unit_of_work() as session:
        job = await session.get(Job, job_id)
        if job is None or job.status not in FAILED or "message" not in (job.payload or {}):
            return False
        try:
            message = decode(job.payload["message"].encode())
        except InvalidMessage:
            return False
        job.status = "queued"
        job.error = None
        job.progress = 0.0
        job.attempts = 0
    await services.bus.publish([message])
    return True


async def cancel_job(services: Services, job_id: str) -> bool:
    async with services.db.unit_of_work() as session:
        cancelled = await job_rows.cancel(session, job_id)
        job = await session.get(Job, job_id) if cancelled else None
    if job is not None:
        await services.bus.publish([new(JobUpdated(job_id, job.kind.split(":")[0], "cancelled"))])
    return cancelled
