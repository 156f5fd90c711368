"""Tracklist parsing and alignment speed.

1. Parsing the largest saved page (AFROJACK, 630 kB, 77 rows) with ``parse_tracklist``. Baseline in the
   same process: building the full BeautifulSoup tree of the same page with lxml (what a straightforward
   parser does before reading anything), so the ratio shows what the strainer and the extraction cost or save.
2. Aligning a synthetic 3-hour set (``--tracks`` rows, none cued, one transition every 15 s with a strong
   one at each real track change). Baseline: the proportional estimate alone (no transitions), so the ratio
   is the cost of choosing transitions.

    python benchmarks/tracklists.py [--repeat 5] [--tracks 60] [--quick]

The saved pages come from ../shared/fixtures/1001tracklists (or $TRACKTION_FIXTURES).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from bs4 import BeautifulSoup

from backend.tracklists.align import Transition, align
from backend.tracklists.model import Entry, Timeline
from backend.tracklists.parser import parse_tracklist

REPO = Path(__file__).resolve().parents[1]
PAGES = (
    Path(os.environ.get("TRACKTION_FIXTURES", REPO.parent / "shared" / "fixtures"))
    / "1001tracklists"
)
PAGE = "tracklist_afrojack-edc-lv-2025_mashups-w-ids.html"


def timed(fn: Callable[[], object], repeat: int) -> float:
    """Median seconds of ``repeat`` runs."""
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def synthetic_set(tracks: int, seed: int = 7) -> tuple[Timeline, float, list[Transition]]:
    rng = random.Random(seed)
    lengths = [rng.uniform(150, 330) for _ in range(tracks)]
    starts = [sum(lengths[:i]) for i in range(tracks)]
    duration = sum(lengths)
    transitions = [Transition(t, rng.uniform(0.05, 0.4)) for t in range(15, int(duration), 15)]
    transitions += [Transition(s + rng.uniform(-4, 4), rng.uniform(0.7, 1.0)) for s in starts[1:]]
    entries = tuple(
        Entry(i + 1, 0 if i == 0 else None, f"A{i}", f"T{i}", duration_s=round(lengths[i] * 1.3))
        for i in range(tracks)
    )
    return Timeline(None, None, entries), duration, sorted(transitions, key=lambda t: t.time_s)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--tracks", type=int, default=60)
    parser.add_argument("--quick", action="store_true", help="3 repeats, 30 tracks")
    args = parser.parse_args()
    repeat, tracks = (3, 30) if args.quick else (args.repeat, args.tracks)

    html = (PAGES / PAGE).read_text(encoding="utf-8")
    baseline = timed(lambda: BeautifulSoup(html, "lxml"), repeat)
    ours = timed(lambda: parse_tracklist(html), repeat)
    print(f"parse {PAGE} ({len(html) // 1024} kB), median of {repeat}:")
    print(f"  baseline full soup tree : {baseline * 1000:8.1f} ms")
    print(
        f"  parse_tracklist         : {ours * 1000:8.1f} ms   ratio {ours / baseline:.2f}x baseline"
    )

    timeline, duration, transitions = synthetic_set(tracks)
    base = timed(lambda: align(timeline, duration), repeat)
    full = timed(lambda: align(timeline, duration, transitions), repeat)
    placed = align(timeline, duration, transitions).timeline.entries
    truth = [0.0]
    for e in timeline.entries[:-1]:
        truth.append(truth[-1] + (e.duration_s or 0) / 1.3)
    errors = [abs((e.cue_s or 0) - t) for e, t in zip(placed, truth, strict=True)]
    within = sum(1 for err in errors if err <= 6) / len(errors)
    print(
        f"align {tracks} uncued tracks over {duration / 3600:.1f} h, {len(transitions)} transitions:"
    )
    print(f"  baseline proportional   : {base * 1000:8.1f} ms")
    print(f"  with transitions (DP)   : {full * 1000:8.1f} ms   ratio {full / base:.1f}x baseline")
    print(f"  cues within 6 s of the true change: {within:.0%}")


if __name__ == "__main__":
    main()
