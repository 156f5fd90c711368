"""Catalog commands: ``folders add|rm|ls|pause|resume|purge``, ``scan``, ``watch``, ``demo``."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from backend.cli.common import (
    EXIT_ERROR,
    EXIT_OK,
    error,
    guarded,
    print_json,
    run,
    services_for,
)

if TYPE_CHECKING:
    from backend.catalog.scanner import ScanProgress
    from backend.services import Services


def register(sub: Any) -> None:
    p = sub.add_parser("folders", help="watched folders (library roots)")
    fs = p.add_subparsers(dest="folders_command", required=True)
    add = fs.add_parser("add", help="watch a folder (scan it with `tracktion scan`)")
    add.add_argument("paths", nargs="+", type=Path)
    add.set_defaults(func=guarded(_folders_add))
    rm = fs.add_parser("rm", help="stop watching a folder and forget its tracks (files stay)")
    rm.add_argument("path", type=Path)
    rm.set_defaults(func=guarded(_folders_rm))
    ls = fs.add_parser("ls", help="list watched folders")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=guarded(_folders_ls))
    for name, paused in (("pause", True), ("resume", False)):
        cmd = fs.add_parser(name, help=f"{name} watching and scanning a folder")
        cmd.add_argument("path", type=Path)
        cmd.set_defaults(func=guarded(_folders_pause), paused=paused)
    purge = fs.add_parser("purge", help="forget tracks marked missing")
    purge.add_argument("path", type=Path, nargs="?", default=None)
    purge.set_defaults(func=guarded(_folders_purge))

    p = sub.add_parser("scan", help="scan folders (added as watched folders if needed)")
    p.add_argument("paths", nargs="*", type=Path, help="default: every watched folder")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument(
        "--wait", action="store_true", help="return when all downstream work has finished"
    )
    p.add_argument("--full", action="store_true", help="re-read every file, changed or not")
    p.add_argument("--timeout", type=float, default=None, help="give up waiting after N seconds")
    p.add_argument(
        "--settle",
        type=float,
        default=None,
        help="seconds a just-written file must stay unchanged before it is read",
    )
    p.set_defaults(func=guarded(_scan))

    p = sub.add_parser("watch", help="watch the folders and keep the library in step (headless)")
    p.set_defaults(func=guarded(_watch))

    p = sub.add_parser("demo", help="write a demo library of generated tracks and a 20-minute mix")
    p.add_argument("dir", type=Path)
    p.add_argument("--no-mix", action="store_true", help="skip the 20-minute mix")
    p.set_defaults(func=_demo)


def _folders_add(args: argparse.Namespace) -> int:
    from backend.api.folders import FolderError, add_root

    async def go() -> int:
        async with services_for(args) as services:
            for path in args.paths:
                try:
                    root = await add_root(services, path)
                except FolderError as exc:
                    error(str(exc))
                    return EXIT_ERROR
                print(f"watching {root.path}")
        return EXIT_OK

    return run(go())


def _folders_rm(args: argparse.Namespace) -> int:
    from backend.api.folders import FolderError, remove_root

    async def go() -> int:
        async with services_for(args) as services:
            try:
                n = await remove_root(services, args.path)
            except FolderError as exc:
                error(str(exc))
                return EXIT_ERROR
        print(f"stopped watching {args.path}; {n} track(s) removed from the library")
        return EXIT_OK

    return run(go())


def _folders_ls(args: argparse.Namespace) -> int:
    from backend.api.folders import list_roots

    async def go() -> list[Any]:
        async with services_for(args) as services:
            return await list_roots(services)

    roots = run(go())
    if args.json:
        print_json([r.as_dict() for r in roots])
        return EXIT_OK
    if not roots:
        print("no watched folders; add one with: tracktion folders add PATH")
    for r in roots:
        state = "paused" if r.paused else r.state
        line = f"{r.path}  [{state}]  {r.tracks} tracks"
        if r.missing:
            line += f", {r.missing} missing"
        if r.errors:
            line += f", {r.errors} unreadable"
        if r.last_error:
            line += f"  — {r.last_error}"
        print(line)
    return EXIT_OK


def _folders_pause(args: argparse.Namespace) -> int:
    from backend.api.folders import FolderError, pause_root

    async def go() -> int:
        async with services_for(args) as services:
            try:
                await pause_root(services, args.path, args.paused)
            except FolderError as exc:
                error(str(exc))
                return EXIT_ERROR
        print(f"{'paused' if args.paused else 'resumed'} {args.path}")
        return EXIT_OK

    return run(go())


def _folders_purge(args: argparse.Namespace) -> int:
    from backend.api.folders import FolderError, purge_missing

    async def go() -> int:
        async with services_for(args) as services:
            try:
                n = await purge_missing(services, args.path)
            except FolderError as exc:
                error(str(exc))
                return EXIT_ERROR
        print(f"forgot {n} missing track(s)")
        return EXIT_OK

    return run(go())


class _Bar:
    """A one-line progress bar on stderr, redrawn at most ten times a second (only on a terminal)."""

    def __init__(self) -> None:
        self.enabled = sys.stderr.isatty()
        self._last = 0.0
        self._read = 0

    def __call__(self, p: ScanProgress) -> None:
        if not self.enabled or p.phase != "read":
            return
        now = time.monotonic()
        if now - self._last < 0.1 and p.done < p.total:
            return
        self._last = now
        width = 30
        filled = int(width * p.done / max(1, p.total))
        sys.stderr.write(
            f"\r[{'#' * filled}{'.' * (width - filled)}] {p.done}/{p.total} files  {p.root[-40:]}"
        )
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


def _scan(args: argparse.Namespace) -> int:
    from backend.api.folders import FolderError

    try:
        return run(_scan_async(args))
    except FolderError as exc:
        error(str(exc))
        return EXIT_ERROR
    except TimeoutError:
        error(f"downstream work did not finish within {args.timeout:g} s (see `tracktion jobs ls`)")
        return EXIT_ERROR


async def _scan_async(args: argparse.Namespace) -> int:
    from backend.api.folders import scan
    from backend.messaging.topology import WORKER_KINDS
    from backend.worker.local import available_kinds, local_workers, wait_settled

    bar = _Bar()
    paths = [str(p) for p in args.paths]
    async with services_for(args) as services:
        if args.wait and services.mode == "embedded":
            # Embedded: the workers that do the downstream work live in this process.
            kinds = available_kinds()
            async with local_workers(services, kinds):
                stats, correlation = await scan(
                    services, paths, full=args.full, progress=bar, settle_s=args.settle
                )
                bar.close()
                if set(kinds) == set(WORKER_KINDS):
                    await wait_settled(services, correlation, args.timeout)
                else:  # a partial build: jobs of kinds it cannot run would never finish
                    await _wait_kinds(services, correlation, kinds, args.timeout)
        else:
            stats, correlation = await scan(
                services, paths, full=args.full, progress=bar, settle_s=args.settle
            )
            bar.close()
            if args.wait:
                await wait_settled(services, correlation, args.timeout)
        problems = await _problems(services, stats.offline)
    if args.json:
        print_json(stats.as_json())
        return EXIT_OK
    moved = stats.moved + stats.relinked
    print(
        f"scanned {stats.roots} folder(s) in {stats.seconds:.1f} s: {stats.files_seen} files, "
        f"{stats.added} added, {stats.updated} updated, {moved} moved, {stats.removed} removed, "
        f"{stats.errors} errors, {stats.unchanged} unchanged"
        + (f", {stats.pending} still being written" if stats.pending else "")
    )
    for line in problems:
        print(line)
    return EXIT_OK


async def _wait_kinds(
    services: Services, correlation: str, kinds: Sequence[str], timeout: float | None
) -> None:
    """Wait until no job of ``correlation`` handled by one of ``kinds`` is open."""
    from sqlalchemy import func, or_, select

    from backend.db.models import Job
    from backend.worker.jobs import OPEN_STATUSES

    async def poll() -> None:
        while True:
            async with services.db.read() as session:
                open_jobs = (
                    await session.execute(
                        select(func.count())
                        .select_from(Job)
                        .where(
                            Job.correlation_id == correlation,
                            Job.status.in_(OPEN_STATUSES),
                            or_(*(Job.kind.startswith(f"{k}:") for k in kinds)),
                        )
                    )
                ).scalar_one()
            if open_jobs == 0:
                return
            await asyncio.sleep(0.1)

    await asyncio.wait_for(poll(), timeout)


async def _problems(services: Services, offline: list[str]) -> list[str]:
    """Offline roots and unreadable files, with their reasons, for the summary."""
    from sqlalchemy import select

    from backend.catalog.paths import display
    from backend.db.models import LibraryRoot, Track

    lines = []
    async with services.db.read() as session:
        for root in (await session.execute(select(LibraryRoot))).scalars():
            if root.path in offline:
                lines.append(f"offline: {root.path} — {root.last_error}")
        rows = await session.execute(
            select(Track.rel_path, Track.last_error, LibraryRoot.path)
            .join(LibraryRoot)
            .where(Track.status == "error")
            .order_by(Track.rel_path)
            .limit(20)
        )
        for rel, reason, root_path in rows.all():
            lines.append(f"error: {root_path}/{display(rel)} — {reason}")
    return lines


def _watch(args: argparse.Namespace) -> int:
    return run(_watch_async(args))


async def _watch_async(args: argparse.Namespace) -> int:
    from contextlib import AsyncExitStack

    from backend.catalog.watcher import Watcher
    from backend.worker.local import local_workers

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with services_for(args) as services, AsyncExitStack() as stack:
        if services.mode == "embedded":
            await stack.enter_async_context(local_workers(services))
        print(f"tracktion watch: watching the library folders ({services.mode} mode)", flush=True)
        await Watcher(services).run(stop)
    return EXIT_OK


def _demo(args: argparse.Namespace) -> int:
    from backend.catalog.demo import write_demo_library

    started = time.monotonic()
    files = write_demo_library(args.dir, with_mix=not args.no_mix)
    print(f"wrote {len(files)} files to {args.dir} in {time.monotonic() - started:.1f} s")
    print(f"add them to the library with: tracktion scan {args.dir}")
    return EXIT_OK
