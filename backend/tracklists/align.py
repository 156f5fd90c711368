"""Fit a tracklist's timeline to a recording: keep known cues, fill unknown ones from the audio.

Inputs are the timeline (cues from the site, some unknown), the recording's length, and the transitions
found by the analysis (``[{"time_s": float, "strength": 0..1}]``). Known cues are kept as they are. Each run
of unknown cues between two known ones (or the file's start/end) gets expected starts in proportion to the
tracks' own durations; then the best ordered set of transitions near those starts is chosen (see
:func:`_fill_run`). A timeline whose
cues cannot belong to the file (beyond its end, out of order, a length far from the file's, or known cues
that miss the audio's transitions) is not used at all.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from backend.tracklists.model import Entry, Timeline, TracklistPage

MIN_GAP_S = 20.0  # no two tracks start closer than this
DURATION_TOLERANCE = 0.05  # a timeline's length may differ from the file's by 5 % ...
DURATION_SLACK_S = 120.0  # ... or by two minutes, whichever is more
TRANSITION_HIT_S = 20.0  # a known cue "hits" a transition this close to it
MIN_HIT_RATIO = 0.25  # below this, the known cues do not describe this audio
DRIFT_PENALTY = 0.25  # cost of placing a cue one track length away from its expected start


@dataclass(frozen=True)
class Transition:
    """A change of track heard in the audio (from the analysis)."""

    time_s: float
    strength: float


@dataclass(frozen=True)
class Alignment:
    """The timeline with cues filled in, or why its cues could not be used."""

    timeline: Timeline
    usable: bool
    reason: str | None = None

    @property
    def cues(self) -> list[tuple[Entry, float]]:
        """(entry, cue) for every entry that now has a cue, in order."""
        return [(e, e.cue_s) for e in self.timeline.entries if e.cue_s is not None]


def transitions_from(raw: Iterable[Mapping[str, Any]] | None) -> list[Transition]:
    """Transitions from the analysis output, sorted by time; malformed items are skipped."""
    out = []
    for item in raw or ():
        try:
            out.append(Transition(float(item["time_s"]), float(item.get("strength", 1.0))))
        except (KeyError, TypeError, ValueError):
            continue
    return sorted(out, key=lambda t: t.time_s)


def mismatch_reason(
    timeline: Timeline, file_duration_s: float, transitions: Sequence[Transition] = ()
) -> str | None:
    """Why the timeline's cues cannot belong to this file, or None when they may."""
    known = [e.cue_s for e in timeline.entries if e.cue_s is not None and not e.with_previous]
    if timeline.duration_s is not None:
        slack = max(DURATION_SLACK_S, DURATION_TOLERANCE * file_duration_s)
        if abs(timeline.duration_s - file_duration_s) > slack:
            return (
                f"the tracklist's recording lasts {timeline.duration_s} s, "
                f"the file {file_duration_s:.0f} s"
            )
    if known and max(known) >= file_duration_s - 5:
        return f"a cue at {max(known)} s is beyond the file's end ({file_duration_s:.0f} s)"
    if any(b < a for a, b in itertools.pairwise(known)):
        return "the cues are not in order"
    inner = [c for c in known if c > 0]
    if transitions and len(inner) >= 4:
        hits = sum(1 for c in inner if _nearest(transitions, c, TRANSITION_HIT_S) is not None)
        if hits / len(inner) < MIN_HIT_RATIO:
            return (
                f"only {hits} of {len(inner)} cues fall on a transition heard in the file; "
                "the tracklist probably describes another recording or edit"
            )
    return None


def choose_timeline(
    page: TracklistPage, file_duration_s: float, transitions: Sequence[Transition] = ()
) -> Timeline | None:
    """The timeline of ``page`` that fits the file best, or None when none fits."""
    fitting = [
        t for t in page.timelines if mismatch_reason(t, file_duration_s, transitions) is None
    ]
    if not fitting:
        return None

    def distance(t: Timeline) -> float:
        return abs(t.duration_s - file_duration_s) if t.duration_s is not None else 1e9

    return min(fitting, key=distance)


def _nearest(transitions: Sequence[Transition], at: float, window: float) -> Transition | None:
    best = None
    for t in transitions:
        if abs(t.time_s - at) <= window and (
            best is None or abs(t.time_s - at) < abs(best.time_s - at)
        ):
            best = t
    return best


def _fill_run(
    start: float, end: float, weights: Sequence[float], transitions: Sequence[Transition]
) -> list[float]:
    """Cues for the entries after an anchor at ``start`` and before ``end``.

    ``weights`` are the lengths of the anchor's track and of each entry to place. Expected starts split
    the gap in proportion to them; then a dynamic programme picks, in order and at least MIN_GAP_S
    apart, the transitions (or the expected start itself, worth nothing) that maximise the sum of
    strengths minus a penalty for straying from the expected start, measured in track lengths. Each
    choice is free to drift (an ID row with a guessed length does not throw the rest off).
    """
    n = len(weights) - 1
    scale = (end - start) / sum(weights)
    expected: list[float] = []
    at = start
    for k in range(n):
        at += weights[k] * scale
        expected.append(at)
    slots = [max(weights[k + 1] * scale, MIN_GAP_S) for k in range(n)]
    options = sorted(
        {
            (t.time_s, t.strength)
            for t in transitions
            if start + MIN_GAP_S <= t.time_s <= end - MIN_GAP_S
        }
        | {(e, 0.0) for e in expected}
    )
    times = [t for t, _ in options]
    m = len(options)
    neg = float("-inf")
    best = [[neg] * m for _ in range(n)]
    back = [[-1] * m for _ in range(n)]
    for i in range(n):
        prefix_best, prefix_arg = neg, -1
        p = 0  # options[:p] end at least MIN_GAP_S before the current one
        for j, (t, strength) in enumerate(options):
            gain = strength - DRIFT_PENALTY * abs(t - expected[i]) / slots[i]
            if i == 0:
                if t - start >= MIN_GAP_S:
                    best[i][j] = gain
                continue
            while p < m and times[p] <= t - MIN_GAP_S:
                if best[i - 1][p] > prefix_best:
                    prefix_best, prefix_arg = best[i - 1][p], p
                p += 1
            if prefix_arg >= 0:
                best[i][j] = prefix_best + gain
                back[i][j] = prefix_arg
    last = max(range(m), key=lambda j: best[n - 1][j]) if m else -1
    if last < 0 or best[n - 1][last] == neg:
        return expected  # too many tracks for the gap: keep the proportional estimate
    chosen = [0.0] * n
    for i in range(n - 1, -1, -1):
        chosen[i] = times[last]
        last = back[i][last]
    return chosen


def align(
    timeline: Timeline,
    file_duration_s: float,
    transitions: Sequence[Transition] = (),
    *,
    durations: Mapping[int, float] | None = None,
) -> Alignment:
    """Fill unknown cues of ``timeline`` for a file of ``file_duration_s`` seconds.

    ``durations`` may give better track lengths by entry index (e.g. from linked library tracks); the
    page's own durations are used otherwise. "w/" rows share their main row's time and get no cue of their
    own unless the site gives one.
    """
    reason = mismatch_reason(timeline, file_duration_s, transitions)
    if reason is not None:
        cleared = tuple(replace(e, cue_s=None) for e in timeline.entries)
        return Alignment(replace(timeline, entries=cleared), usable=False, reason=reason)
    entries = list(timeline.entries)
    mains = [i for i, e in enumerate(entries) if not e.with_previous]
    if not mains:
        return Alignment(timeline, usable=True)
    known_lengths = [float(e.duration_s) for e in entries if e.duration_s]
    typical = sorted(known_lengths)[len(known_lengths) // 2] if known_lengths else 300.0

    def length(i: int) -> float:
        if durations and i in durations:
            return float(durations[i])
        return float(entries[i].duration_s or typical)

    cues: dict[int, float] = {}
    for i in mains:
        known = entries[i].cue_s
        if known is not None:
            cues[i] = float(known)
    if mains[0] not in cues:
        cues[mains[0]] = 0.0
        entries[mains[0]] = replace(entries[mains[0]], cue_s=0, cue_source="aligned")
    # Walk the runs of unknown cues between anchors.
    anchor_pos = 0
    while anchor_pos < len(mains):
        nxt = anchor_pos + 1
        while nxt < len(mains) and mains[nxt] not in cues:
            nxt += 1
        run = mains[anchor_pos + 1 : nxt]
        if run:
            start = cues[mains[anchor_pos]]
            end = cues[mains[nxt]] if nxt < len(mains) else file_duration_s
            weights = [length(i) for i in [mains[anchor_pos], *run]]
            for i, cue in zip(run, _fill_run(start, end, weights, transitions), strict=True):
                cues[i] = cue
                entries[i] = replace(entries[i], cue_s=round(cue), cue_source="aligned")
        anchor_pos = nxt
    return Alignment(replace(timeline, entries=tuple(entries)), usable=True)
