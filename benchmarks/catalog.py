"""Catalog benchmark: scan throughput against a plain mutagen + hashing loop, re-scan cost, loop lag,
watch latency, and `beet import -A` as a peer when beets is installed.

    python benchmarks/catalog.py            # 5,000 files, embedded + services, 1,000 watched files
    python benchmarks/catalog.py --quick    # 1,000 files, 200 watched files
    python benchmarks/catalog.py --files 20000 --no-services

The corpus is generated once and kept (``--cache``, default /work/bench-cache/catalog, or
$TRACKTION_BENCH_CACHE): a few distinct encodes per format, then copies that each get their own audio
bytes (so every file has its own fingerprint, like a real library) and their own tags. Every figure is a
ratio against a baseline measured in the same run on the same files: a single-process loop of
``mutagen.File`` + BLAKE2b over each file, i.e. the least work any cataloguer must do. CPU time (user +
sys, reader processes included) is printed beside every wall time: on a shared machine it is the figure
that shows the work done, while wall time shows what the cores that were free made of it.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import mutagen

from backend.audio.encode import FORMATS, encode, extension, tone, write_tags

SR = 22050
BASES_PER_FORMAT = 3


def cached_corpus(cache: Path, n_files: int) -> list[Path]:
    """The corpus of ``n_files`` under ``cache``, generated on first use (a marker says it is whole)."""
    target = cache / f"corpus-{n_files}"
    marker = target / ".complete"
    if marker.exists():
        return sorted(p for p in target.rglob("*") if p.is_file() and p.name != ".complete")
    shutil.rmtree(target, ignore_errors=True)
    files = make_corpus(target, n_files)
    marker.touch()
    return files


def make_corpus(target: Path, n_files: int) -> list[Path]:
    """``n_files`` tagged files of mixed formats, each with distinct audio bytes."""
    bases_dir = target.parent / f"{target.name}-bases"
    bases_dir.mkdir(parents=True, exist_ok=True)
    bases: list[Path] = []
    for fmt in FORMATS:
        for k in range(BASES_PER_FORMAT):
            path = bases_dir / f"{fmt}-{k}{extension(fmt)}"
            if not path.exists():
                encode(path, tone(4.0, SR, 200.0 + 30 * k, seed=k), SR, fmt)
            bases.append(path)
    blobs = [(p.suffix, p.read_bytes()) for p in bases]
    files: list[Path] = []
    for i in range(n_files):
        suffix, blob = blobs[i % len(blobs)]
        data = bytearray(blob)
        mid = len(data) // 2
        data[mid : mid + 4] = i.to_bytes(4, "little")  # distinct audio → distinct fingerprint
        folder = target / f"artist{i % 97:02d}" / f"album{i % 13:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{i:06d} track{suffix}"
        path.write_bytes(bytes(data))
        write_tags(path, {"title": f"Track {i}", "artist": f"Artist {i % 97}",
                          "album": f"Album {i % 13}", "track_no": i % 20 + 1, "bpm": 120 + i % 10})  # fmt: skip
        files.append(path)
    return files


def cpu_s(who: int = resource.RUSAGE_SELF) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def baseline_loop(files: list[Path]) -> tuple[float, float]:
    """The floor: one process, ``mutagen.File`` + hashing each whole file in 1 MiB blocks (wall, CPU)."""
    started, cpu = time.perf_counter(), time.process_time()
    for path in files:
        mutagen.File(path)
        h = hashlib.blake2b(digest_size=16)
        with open(path, "rb") as fh:
            while block := fh.read(1 << 20):
                h.update(block)
    return time.perf_counter() - started, time.process_time() - cpu


def server_cpu_s(names: tuple[str, ...] = ("postgres", "beam.smp")) -> dict[str, float]:
    """CPU seconds used so far by the local database and broker servers (their exited children
    included, e.g. the PostgreSQL backend of a finished command); empty where /proc cannot tell."""
    totals = {name: 0.0 for name in names}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        comm = raw[raw.index("(") + 1 : raw.rindex(")")]
        if comm in totals:
            fields = raw[raw.rindex(")") + 2 :].split()
            totals[comm] += sum(int(v) for v in fields[11:15]) / tick  # utime stime cutime cstime
    return totals


def run_child(cmd: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall and CPU time (the process and every process it waited for) of a command, and its stdout."""
    cpu0 = cpu_s(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{cmd[:4]} failed: {done.stderr[-2000:]}")
    return elapsed, cpu_s(resource.RUSAGE_CHILDREN) - cpu0, done.stdout


def cli_scan(home: Path, root: Path, env: dict[str, str]) -> tuple[float, float, dict[str, Any]]:
    """``tracktion scan ROOT --json``: wall and CPU time (start-up and readers included), summary."""
    cmd = [sys.executable, "-m", "backend.cli.main", "--home", str(home), "scan", str(root),
           "--json", "--settle", "0"]  # fmt: skip
    elapsed, cpu, out = run_child(cmd, env)
    return elapsed, cpu, json.loads(out)


def beets_import(work: Path, root: Path) -> tuple[float, float] | None:
    """``beet import -A`` (no autotagging, no copying, no tag writing) into a new beets library."""
    beet = shutil.which("beet") or str(Path(sys.executable).with_name("beet"))
    if not os.path.exists(beet):
        return None
    home = work / "beets"
    home.mkdir()
    config = home / "config.yaml"
    config.write_text(
        f"directory: {home / 'music'}\nlibrary: {home / 'library.db'}\nplugins: []\n"
        "import:\n  copy: no\n  move: no\n  write: no\n  autotag: no\n  quiet: yes\n"
    )
    env = dict(os.environ, BEETSDIR=str(home))
    elapsed, cpu, _out = run_child([beet, "-c", str(config), "import", "-A", "-q", str(root)], env)
    return elapsed, cpu


async def loop_lag(work: Path, root: Path) -> dict[str, float]:
    """A 10 ms timer's lateness on the loop that scans (the app's, in embedded mode): idle, then scanning.

    Also splits the scan's CPU time between this process (walk, writes, events) and the readers.
    """
    from backend.api.folders import scan
    from backend.catalog.reader import shutdown_pool
    from backend.config import settings_from_values
    from backend.services import open_services

    services = await open_services(settings_from_values(work / "lag-home", {}))
    loop = asyncio.get_running_loop()

    async def ticker(stop: asyncio.Event, lags: list[float]) -> None:
        while not stop.is_set():
            t = loop.time()
            await asyncio.sleep(0.01)
            lags.append(max(0.0, loop.time() - t - 0.01))

    async def timed(coro: Any) -> tuple[list[float], Any]:
        lags: list[float] = []
        stop = asyncio.Event()
        task = asyncio.create_task(ticker(stop, lags))
        try:
            result = await coro
        finally:
            stop.set()
            await task
        return lags, result

    try:
        idle, _ = await timed(asyncio.sleep(2.0))
        shutdown_pool()
        main0, readers0, started = cpu_s(), cpu_s(resource.RUSAGE_CHILDREN), time.perf_counter()
        busy, (stats, _corr) = await timed(scan(services, [str(root)], settle_s=0))
        elapsed, main = time.perf_counter() - started, cpu_s() - main0
        shutdown_pool()  # reaped: their CPU time is counted now
        readers = cpu_s(resource.RUSAGE_CHILDREN) - readers0
    finally:
        await services.close()
    return {"idle_p50_ms": 1000 * percentile(idle, 0.5), "idle_p99_ms": 1000 * percentile(idle, 0.99),
            "scan_p50_ms": 1000 * percentile(busy, 0.5), "scan_p99_ms": 1000 * percentile(busy, 0.99),
            "scan_max_ms": 1000 * max(busy), "files": stats.added, "scan_s": elapsed,
            "main_cpu_s": main, "readers_cpu_s": readers}  # fmt: skip


def services_env(tag: str) -> tuple[dict[str, str], str, str]:
    """Environment for services mode on a throw-away PostgreSQL database and queue/key prefixes."""
    from sqlalchemy import create_engine, text

    name = f"tracktion_bench_{tag}"
    admin = create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
                          isolation_level="AUTOCOMMIT")  # fmt: skip
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # see main(): start-up from compiled bytecode
    env.update(
        {
            "TRACKTION_MODE": "services",
            "TRACKTION_SERVICES__DATABASE_URL": url,
            "TRACKTION_SERVICES__AMQP_URL": "amqp://guest:guest@127.0.0.1:5672/",
            "TRACKTION_SERVICES__REDIS_URL": "redis://127.0.0.1:6379/14",
            "TRACKTION_SERVICES__AMQP_EXCHANGE_PREFIX": f"bench_{tag}",
            "TRACKTION_SERVICES__REDIS_PREFIX": f"bench_{tag}:",
        }
    )
    return env, name, url


def drop_services(home: Path, env: dict[str, str], db_name: str) -> None:
    from sqlalchemy import create_engine, text

    from backend.config import load_settings
    from backend.services import open_services

    async def clean() -> None:
        svc = await open_services(load_settings(home, env), migrate_schema=False)
        await svc.bus.delete_topology()  # type: ignore[attr-defined]
        await svc.cache.clear_prefix()  # type: ignore[attr-defined]
        await svc.close()

    asyncio.run(clean())
    admin = create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
                          isolation_level="AUTOCOMMIT")  # fmt: skip
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
    admin.dispose()


async def watch_latency(work: Path, sources: list[Path], settle_s: float) -> list[float]:
    """Seconds from a file appearing in a watched root to its ``track.added`` event, per file."""
    from sqlalchemy import select

    from backend.api.folders import add_root
    from backend.catalog.watcher import Watcher
    from backend.config import settings_from_values
    from backend.db.models import Track
    from backend.services import open_services
    from backend.worker.local import local_workers

    home = work / "watch-home"
    root = work / "watched"
    root.mkdir()
    settings = settings_from_values(home, {"library": {"settle_window_s": settle_s}})
    services = await open_services(settings)
    await add_root(services, root)
    appeared: dict[str, float] = {}
    latencies: list[float] = []
    done = asyncio.Event()

    async def on_added(message: Any) -> None:
        now = time.perf_counter()
        async with services.db.read() as session:
            rows = await session.execute(
                select(Track.rel_path).where(Track.id.in_(message.payload.track_ids))
            )
            for (rel,) in rows.all():
                latencies.append(now - appeared[rel])
        if len(latencies) >= len(sources):
            done.set()

    await services.bus.subscribe(["track.added"], on_added)
    stop = asyncio.Event()
    try:
        async with local_workers(services, ["catalog"]):
            watcher = Watcher(services, initial_scan=False)
            task = asyncio.create_task(watcher.run(stop))
            await asyncio.wait_for(watcher.ready.wait(), 30)
            for i, src in enumerate(sources):  # dropped at once: renames into the root
                name = f"{i:05d}{src.suffix}"
                os.rename(src, root / name)
                appeared[name] = time.perf_counter()
            await asyncio.wait_for(done.wait(), 600)
            stop.set()
            await task
    finally:
        await services.close()
    return latencies


def report(label: str, n: int, base: dict[str, float], first: dict[str, float],
           again: dict[str, float]) -> dict[str, float]:  # fmt: skip
    """Print and return one deployment's figures: the command's wall and CPU time, and the scan alone."""
    wall, inside, cpu = first["wall_s"], first["scan_s"], first["cpu_s"]
    print(f"tracktion scan, {label}: {wall:.2f} s wall = {n / wall:.0f} files/s = "
          f"{base['wall_s'] / wall:.2f}x baseline (scan alone {inside:.2f} s = "
          f"{base['wall_s'] / inside:.2f}x); CPU {cpu:.2f} s = {1000 * cpu / n:.2f} ms/file "
          f"(baseline {1000 * base['cpu_s'] / n:.2f} ms/file)")  # fmt: skip
    print(f"  re-scan: {again['wall_s']:.2f} s wall = {100 * again['wall_s'] / wall:.1f}% "
          f"(scan alone {again['scan_s']:.2f} s = {100 * again['scan_s'] / inside:.1f}%), "
          f"CPU {again['cpu_s']:.2f} s")  # fmt: skip
    return {"scan_wall_s": wall, "scan_s": inside, "scan_cpu_s": cpu, "files_per_s_wall": n / wall,
            "vs_baseline_wall": base["wall_s"] / wall, "vs_baseline": base["wall_s"] / inside,
            "cpu_ms_per_file": 1000 * cpu / n, "rescan_wall_s": again["wall_s"],
            "rescan_s": again["scan_s"], "rescan_cpu_s": again["cpu_s"],
            "rescan_ratio_wall": again["wall_s"] / wall,
            "rescan_ratio": again["scan_s"] / inside}  # fmt: skip


def measured(run: tuple[float, float, dict[str, Any]]) -> dict[str, float]:
    wall, cpu, summary = run
    return {"wall_s": wall, "cpu_s": cpu, "scan_s": float(summary["seconds"])}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=None, help="corpus size (default 5000)")
    parser.add_argument("--quick", action="store_true", help="1,000 files, 200 watched")
    parser.add_argument("--watch-files", type=int, default=None)
    parser.add_argument("--no-services", action="store_true", help="skip the PostgreSQL run")
    parser.add_argument("--no-beets", action="store_true", help="skip `beet import -A`")
    parser.add_argument("--settle", type=float, default=2.0, help="watch settle window (s)")
    parser.add_argument("--repeat", type=int, default=2, help="best of N for baseline and scans")
    parser.add_argument("--cache", type=Path, default=Path(os.environ.get(
        "TRACKTION_BENCH_CACHE", "/work/bench-cache/catalog")), help="where the corpus is kept")  # fmt: skip
    args = parser.parse_args()
    n = args.files or (1000 if args.quick else 5000)
    n_watch = args.watch_files or (200 if args.quick else 1000)
    work = Path(tempfile.mkdtemp(prefix="tracktion-bench-catalog-"))
    out: dict[str, Any] = {"files": n, "cores": os.cpu_count(), "load": os.getloadavg()}
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} at start")
    try:
        t0 = time.perf_counter()
        files = cached_corpus(args.cache, n)
        corpus = files[0].parents[2]
        total_mb = sum(p.stat().st_size for p in files) / 1e6
        print(
            f"corpus: {n} files, {total_mb:.0f} MB in {corpus} ({time.perf_counter() - t0:.1f} s)"
        )

        # Best of --repeat runs for every side: the machine may be shared, the minimum is the signal.
        runs = [baseline_loop(files) for _ in range(args.repeat)]
        base = {"wall_s": min(r[0] for r in runs), "cpu_s": min(r[1] for r in runs)}
        out["baseline"] = base | {"files_per_s": n / base["wall_s"]}
        print(f"baseline (1 process, mutagen.File + blake2b): {base['wall_s']:.2f} s = "
              f"{n / base['wall_s']:.0f} files/s, CPU {1000 * base['cpu_s'] / n:.2f} ms/file")  # fmt: skip

        env = dict(os.environ)
        env.pop("TRACKTION_MODE", None)
        # An installed Tracktion runs from compiled bytecode: let the commands write theirs (this
        # environment may forbid it) and warm it up, so start-up is not a compile of every module.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        (work / "empty").mkdir()
        cli_scan(work / "home-warm-up", work / "empty", env)
        firsts = []
        for r in range(args.repeat):
            home = work / f"home-embedded-{r}"
            first = cli_scan(home, corpus, env)
            assert first[2]["added"] == n, first[2]
            firsts.append(measured(first))
        best = {k: min(f[k] for f in firsts) for k in ("wall_s", "cpu_s", "scan_s")}
        agains = []
        for _ in range(args.repeat):
            again = cli_scan(home, corpus, env)
            assert again[2]["added"] == 0 and again[2]["updated"] == 0, again[2]
            agains.append(measured(again))
        best_again = {k: min(a[k] for a in agains) for k in ("wall_s", "cpu_s", "scan_s")}
        out["embedded"] = report("embedded SQLite", n, base, best, best_again)

        if not args.no_services:
            # Best of --repeat too, each first scan into a new database (as for embedded).
            firsts, agains, servers = [], [], []
            for r in range(args.repeat):
                tag = uuid.uuid4().hex[:8]
                senv, db_name, _url = services_env(tag)
                home = work / f"home-services-{r}"
                try:
                    # The schema is created by a first command, outside the measurement.
                    run_child([sys.executable, "-m", "backend.cli.main", "--home", str(home),
                               "folders", "ls"], senv)  # fmt: skip
                    before = server_cpu_s()
                    first = cli_scan(home, corpus, senv)
                    after = server_cpu_s()
                    assert first[2]["added"] == n, first[2]
                    firsts.append(measured(first))
                    servers.append({k: after[k] - before[k] for k in after})
                    agains.append(measured(cli_scan(home, corpus, senv)))
                finally:
                    drop_services(home, senv, db_name)
            best = {k: min(f[k] for f in firsts) for k in ("wall_s", "cpu_s", "scan_s")}
            best_again = {k: min(a[k] for a in agains) for k in ("wall_s", "cpu_s", "scan_s")}
            out["services"] = report("services PostgreSQL", n, base, best, best_again)
            server = {k: min(s[k] for s in servers) for k in servers[0]}
            out["services"]["server_cpu_s"] = server
            cores_s = best["cpu_s"] + sum(server.values())
            print(f"  CPU of the first scan on the shared cores: Tracktion {best['cpu_s']:.2f} s "
                  f"(start-up and readers included), PostgreSQL {server['postgres']:.2f} s, RabbitMQ "
                  f"{server['beam.smp']:.2f} s: {cores_s:.2f} s of CPU for "
                  f"{os.cpu_count()} cores")  # fmt: skip

        lag = asyncio.run(loop_lag(work, corpus))
        out["loop_lag"] = lag
        print(f"event-loop lag of a 10 ms timer while the loop scans {lag['files']} files "
              f"({lag['scan_s']:.1f} s): p50 {lag['scan_p50_ms']:.1f} ms, p99 "
              f"{lag['scan_p99_ms']:.1f} ms, max {lag['scan_max_ms']:.0f} ms; idle p50 "
              f"{lag['idle_p50_ms']:.1f} ms, p99 {lag['idle_p99_ms']:.1f} ms (goal p99 <= 50 ms)")  # fmt: skip
        print(f"  CPU per file: this process {1000 * lag['main_cpu_s'] / n:.2f} ms, readers "
              f"{1000 * lag['readers_cpu_s'] / n:.2f} ms (baseline {1000 * base['cpu_s'] / n:.2f} ms)")  # fmt: skip

        if not args.no_beets:
            peer = beets_import(work, corpus)
            if peer is None:
                print("beets not installed (pip install beets): no `beet import -A` column")
            else:
                out["beets"] = {"wall_s": peer[0], "cpu_s": peer[1]}
                print(f"beet import -A: {peer[0]:.2f} s wall = {n / peer[0]:.0f} files/s = "
                      f"{base['wall_s'] / peer[0]:.2f}x baseline; CPU {1000 * peer[1] / n:.2f} ms/file")  # fmt: skip

        drop = work / "drop"
        drop.mkdir()
        sources = []
        for i, src in enumerate(files[:n_watch]):
            dst = drop / f"{i:05d}{src.suffix}"
            shutil.copy(src, dst)
            sources.append(dst)
        lat = asyncio.run(watch_latency(work, sources, args.settle))
        p50, p95 = statistics.median(lat), percentile(lat, 0.95)
        out["watch"] = {"files": n_watch, "settle_s": args.settle, "p50_s": p50, "p95_s": p95,
                        "goal_p95_s": args.settle + 1.0}  # fmt: skip
        print(f"watch latency, {n_watch} files dropped at once (settle {args.settle:g} s): "
              f"p50 {p50:.2f} s, p95 {p95:.2f} s (goal p95 <= {args.settle + 1:.1f} s)")  # fmt: skip

        scale = 100_000 / n
        for name in ("embedded", "services"):
            if name in out:
                d = out[name]
                print(f"extrapolated to 100k files (linear), {name}: scan "
                      f"{d['scan_s'] * scale / 60:.1f} min, re-scan {d['rescan_s'] * scale:.0f} s")  # fmt: skip
        out["load_end"] = os.getloadavg()
        print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} at the end")
        print(json.dumps(out, indent=2))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
