"""The tracklists worker's handlers: a long recording was analysed, or the user asked for its tracklist.

Both run the same pipeline (:class:`TracklistService`) and announce the result after the job commits:
``tracklist.applied`` when a tracklist was applied, ``tracklist.candidates`` when the app must ask.
A block/captcha page fails the job at once with the readable reason (nothing is written, and retrying
before the back-off ends would only be refused); network trouble is retried later.
"""

from __future__ import annotations

import logging

from backend.messaging.contracts import (
    RecordingAnalyzed,
    TracklistApplied,
    TracklistCandidates,
    TracklistRequested,
)
from backend.tracklists.client import FetchError, RobotsDisallowed
from backend.tracklists.model import BlockedError, NotATracklistError
from backend.tracklists.service import Outcome, TracklistService
from backend.worker.errors import PermanentError, TransientError
from backend.worker.runtime import Handler, HandlerContext

log = logging.getLogger(__name__)


async def _run(ctx: HandlerContext, track_id: int, url: str | None) -> Outcome:
    service = TracklistService(ctx.services)
    try:
        outcome = await service.find_and_apply(track_id, url)
    except BlockedError as exc:
        raise PermanentError(str(exc)) from exc
    except (RobotsDisallowed, NotATracklistError) as exc:
        raise PermanentError(str(exc)) from exc
    except FetchError as exc:
        raise TransientError(str(exc)) from exc
    except LookupError as exc:
        raise PermanentError(str(exc)) from exc
    finally:
        await service.close()
    if outcome.status == "applied" and outcome.applied_id is not None:
        ctx.publish(TracklistApplied(track_id=track_id, tracklist_id=outcome.applied_id))
    elif outcome.status == "candidates":
        ctx.publish(
            TracklistCandidates(track_id=track_id, tracklist_ids=tuple(outcome.candidate_ids))
        )
    log.info("tracklist for track %d: %s", track_id, outcome.message)
    return outcome


async def on_recording_analyzed(ctx: HandlerContext) -> None:
    """A mix was analysed (its transitions are stored): find, align and apply its tracklist."""
    payload: RecordingAnalyzed = ctx.payload
    await _run(ctx, payload.track_id, None)


async def on_tracklist_requested(ctx: HandlerContext) -> None:
    """The user asked for a recording's tracklist, optionally naming the page."""
    payload: TracklistRequested = ctx.payload
    await _run(ctx, payload.track_id, payload.url)


HANDLERS: dict[str, Handler] = {
    RecordingAnalyzed.TYPE: on_recording_analyzed,
    TracklistRequested.TYPE: on_tracklist_requested,
}

__all__ = ["HANDLERS"]
