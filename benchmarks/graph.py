"""Similarity-graph benchmark: k-NN build and incremental insert, suggestion and set-path latency, memory.

    python benchmarks/graph.py            # 100k tracks (a few minutes on 2 cores)
    python benchmarks/graph.py --quick    # 10k tracks, for a smoke run

Prints ratios against baselines measured in the same run:
- incremental insert (own search + reverse updates) vs a plain brute-force numpy k-NN query of one vector
  (the least any exact method pays per new track) and vs rebuilding the whole graph (what a
  non-incremental design pays per new track);
- suggestion and 6-step path latency (p95) on the embedded store (SQLite) against the 200 ms goal.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import datetime as dt
import gc
import json
import random
import resource
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert

from backend.db import migrate
from backend.db.models import LibraryRoot, Track
from backend.db.session import Database
from backend.graph.edges import edges_for
from backend.graph.embedded import EmbeddedGraphStore
from backend.graph.knn import KnnIndex, TrackPoint

KEYS = [f"{n}{letter}" for n in range(1, 13) for letter in "AB"]
DIM = 42  # the analysis area's FEATURE_NAMES


def generate(n: int, dim: int, seed: int, start_id: int = 1) -> list[TrackPoint]:
    """Clustered feature vectors in 0..1 (like real genres/sub-genres), tempo, key and energy."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0.2, 0.8, size=(max(1, n // 400), dim))
    which = rng.integers(len(centres), size=n)
    feats = np.clip(centres[which] + rng.normal(0, 0.08, size=(n, dim)), 0, 1).astype(np.float32)
    genre_bpm = rng.choice([100.0, 122.0, 126.0, 128.0, 138.0, 174.0], size=len(centres))
    bpm = genre_bpm[which] + rng.normal(0, 2.0, size=n)
    keys = rng.integers(24, size=n)
    energy = np.clip(rng.normal(0.55, 0.18, size=n), 0, 1)
    return [
        TrackPoint(start_id + i, feats[i], float(bpm[i]), KEYS[keys[i]], float(energy[i]))
        for i in range(n)
    ]


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def brute_force_query(feats: np.ndarray, q: np.ndarray, k: int) -> np.ndarray:
    """Baseline: one exact k-NN query by cosine over normalised vectors, nothing else."""
    sims = feats @ q
    return np.argpartition(-sims, k)[:k]


async def seed_store(
    index: KnnIndex, points: list[TrackPoint], workdir: Path
) -> tuple[Database, EmbeddedGraphStore, float]:
    """A migrated SQLite library with the tracks and every SIMILAR/HARMONIC edge of the index."""
    url = f"sqlite+aiosqlite:///{workdir / 'bench.sqlite3'}"
    migrate.upgrade(url)
    db = Database(url)
    async with db.unit_of_work() as session:
        session.add(LibraryRoot(id=1, path="/bench", name="bench"))
    rows = [
        {
            "id": p.track_id,
            "root_id": 1,
            "rel_path": f"{p.track_id}.flac",
            "title": f"T{p.track_id}",
            "artist": f"Artist {p.track_id % 5000}",
            "bpm": p.bpm,
            "camelot": p.camelot,
            "energy": p.energy,
        }
        for p in points
    ]
    async with db.unit_of_work() as session:
        for i in range(0, len(rows), 5000):
            await session.execute(insert(Track), rows[i : i + 5000])
    # Bulk load with sqlite3's executemany (setup, not a measured path: the worker writes edges
    # incrementally through replace_edges).
    ids = index.track_ids
    t0 = time.perf_counter()
    now = dt.datetime.now(dt.UTC).isoformat()
    con = sqlite3.connect(workdir / "bench.sqlite3")
    for start in range(0, len(ids), 5000):
        batch = ids[start : start + 5000]
        values = [
            (
                e.source_id,
                e.target_id,
                e.kind,
                e.score,
                json.dumps(list(e.reasons)),
                json.dumps(dict(e.data)),
                now,
            )
            for kind in ("similar", "harmonic")
            for rows in edges_for(index, kind, batch, tolerance_pct=6.0, energy_boost=True).values()  # type: ignore[arg-type]
            for e in rows
        ]
        con.executemany(
            "INSERT INTO graph_edges (source_id, target_id, kind, score, reasons, data, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            values,
        )
        con.commit()
    con.close()
    store = EmbeddedGraphStore(db)
    return db, store, time.perf_counter() - t0


async def communities(store: EmbeddedGraphStore, db_file: Path) -> None:
    """clusters() (what colouring the graph view by community costs) and how long it stalls the loop.

    Baseline: reading the same edges with bare sqlite3 (the floor of any whole-graph pass).
    """
    t = time.perf_counter()
    with sqlite3.connect(db_file) as con:
        edges = con.execute("SELECT source_id, target_id, score FROM graph_edges").fetchall()
    read_s = time.perf_counter() - t
    stalls: list[float] = []
    running = True

    async def ticker() -> None:
        while running:
            before = time.perf_counter()
            await asyncio.sleep(0.01)
            stalls.append(time.perf_counter() - before - 0.01)

    tick = asyncio.create_task(ticker())
    t, cpu = time.perf_counter(), time.process_time()
    found = await store.clusters()
    wall, cpu = time.perf_counter() - t, time.process_time() - cpu
    running = False
    await tick
    print(
        f"communities: {len(found)} over {len(edges)} edges in {wall:.2f} s wall / {cpu:.2f} s CPU "
        f"({wall / read_s:.1f}x a bare sqlite3 read of the edges, {read_s:.2f} s); "
        f"event loop stalled at most {max(stalls) * 1000:.0f} ms (p99 {pct(stalls, 99) * 1000:.0f} ms)"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=100_000, help="tracks in the library")
    parser.add_argument("--quick", action="store_true", help="10k tracks, fewer queries")
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--inserts", type=int, default=200, help="incremental inserts to time")
    parser.add_argument("--queries", type=int, default=200, help="suggestion/path queries to time")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    n = 10_000 if args.quick else args.size
    inserts = min(args.inserts, 100) if args.quick else args.inserts
    queries = min(args.queries, 100) if args.quick else args.queries
    print(
        f"graph benchmark: {n} tracks, dim {DIM}, k {args.k}, {inserts} inserts, {queries} queries"
    )

    points = generate(n, DIM, args.seed)
    extra = generate(inserts, DIM, args.seed + 1, start_id=n + 1)

    index = KnnIndex(k=args.k)
    gc.collect()
    t0 = time.perf_counter()
    index.build(points)
    build_s = time.perf_counter() - t0
    print(f"full build: {build_s:.1f} s ({build_s / n * 1000:.2f} ms per track)")

    # Baseline: brute-force numpy k-NN of one vector over the same matrix (features only).
    feats = np.stack([np.asarray(p.features, dtype=np.float32) - 0.5 for p in points])
    feats /= np.linalg.norm(feats, axis=1, keepdims=True)
    base: list[float] = []
    for p in extra:
        q = np.asarray(p.features, dtype=np.float32) - 0.5
        q /= np.linalg.norm(q)
        t = time.perf_counter()
        brute_force_query(feats, q, args.k)
        base.append(time.perf_counter() - t)
    ins: list[float] = []
    changed: list[int] = []
    for p in extra:
        t = time.perf_counter()
        changed.append(len(index.insert(p)))
        ins.append(time.perf_counter() - t)
    rem: list[float] = []
    for p in extra[: len(extra) // 2]:
        t = time.perf_counter()
        index.remove(p.track_id)
        rem.append(time.perf_counter() - t)
    ins_ms, base_ms = np.mean(ins) * 1000, np.mean(base) * 1000
    print(
        f"incremental insert: mean {ins_ms:.1f} ms, p95 {pct(ins, 95) * 1000:.1f} ms "
        f"(goal ≤ 50 ms), {np.mean(changed):.1f} neighbour lists changed per insert"
    )
    print(f"brute-force numpy k-NN query (baseline): mean {base_ms:.1f} ms")
    print(f"ratio insert / brute-force query: {ins_ms / base_ms:.2f}x")
    print(f"ratio rebuild / incremental insert: {build_s * 1000 / ins_ms:.0f}x")
    print(f"remove: mean {np.mean(rem) * 1000:.1f} ms, p95 {pct(rem, 95) * 1000:.1f} ms")
    index_mb = (
        sum(a.nbytes for a in (index._ids, index._feats, index._logbpm, index._key, index._energy))
        + sum(lst.ids.nbytes + lst.dist.nbytes + lst.kth.nbytes for lst in index._lists.values())
    ) / 2**20
    print(f"index arrays: {index_mb:.0f} MB")

    with tempfile.TemporaryDirectory(prefix="tracktion-graph-bench-") as tmp:
        all_points = points + extra[len(extra) // 2 :]
        db, store, write_s = await seed_store(index, all_points, Path(tmp))
        print(f"edges computed and bulk-loaded into SQLite in {write_s:.1f} s (setup)")
        rng = random.Random(args.seed)
        ids = index.track_ids
        sug: list[float] = []
        for _ in range(queries):
            t = time.perf_counter()
            await store.suggestions(rng.choice(ids), limit=10)
            sug.append(time.perf_counter() - t)
        paths: list[float] = []
        found = 0
        # Set paths only make sense within a tempo family (a 100 BPM track never mixes into 174):
        # pair each start with a random track within 3 % of its tempo.
        bpm = {p.track_id: p.bpm or 0.0 for p in all_points}
        by_bpm = sorted(ids, key=lambda t: bpm[t])
        sorted_bpm = [bpm[t] for t in by_bpm]
        for _ in range(queries):
            a = rng.choice(ids)
            lo = bisect.bisect_left(sorted_bpm, bpm[a] * 0.97)
            hi = bisect.bisect_right(sorted_bpm, bpm[a] * 1.03)
            b = by_bpm[rng.randrange(lo, hi)]
            if b == a:
                continue
            t = time.perf_counter()
            result = await store.path(a, b, steps=6)
            paths.append(time.perf_counter() - t)
            found += result is not None
        print(
            f"suggestions: p50 {pct(sug, 50) * 1000:.0f} ms, p95 {pct(sug, 95) * 1000:.0f} ms (goal ≤ 200 ms)"
        )
        print(
            f"6-step path: p50 {pct(paths, 50) * 1000:.0f} ms, p95 {pct(paths, 95) * 1000:.0f} ms "
            f"(goal ≤ 200 ms), found for {found}/{len(paths)} pairs of similar tempo"
        )
        await communities(store, Path(tmp) / "bench.sqlite3")
        await db.close()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {peak_mb:.0f} MB")


if __name__ == "__main__":
    asyncio.run(main())
