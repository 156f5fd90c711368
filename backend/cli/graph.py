"""``tracktion graph …``: neighbours, next-track suggestions, set paths, clusters and a full rebuild.

TRACK is a track id or the path of a file inside a watched folder.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from backend.cli.common import EXIT_ERROR, EXIT_OK, error, guarded, print_json, run, services_for
from backend.graph.port import EDGE_KINDS, NeighbourFilter, TrackNode
from backend.services import Services


def register(sub: Any) -> None:
    """Add the ``graph`` command and its subcommands."""
    p = sub.add_parser("graph", help="similarity graph: neighbours, suggestions, set paths")
    gs = p.add_subparsers(dest="graph_command", required=True)

    nb = gs.add_parser("neighbours", help="tracks related to TRACK, best first")
    nb.add_argument("track", metavar="TRACK", help="track id or file path")
    nb.add_argument("--kind", action="append", choices=EDGE_KINDS, help="edge kinds (repeatable)")
    nb.add_argument("--bpm-min", type=float, default=None)
    nb.add_argument("--bpm-max", type=float, default=None)
    nb.add_argument(
        "--key", action="append", default=None, help="Camelot key, e.g. 8A (repeatable)"
    )
    nb.add_argument("--limit", type=int, default=25)
    nb.add_argument("--json", action="store_true", help="print JSON")
    nb.set_defaults(func=guarded(_neighbours))

    sg = gs.add_parser("suggest", help="ranked next tracks to play after TRACK")
    sg.add_argument("track", metavar="TRACK", help="track id or file path")
    sg.add_argument("--energy", choices=("up", "down", "keep"), default=None)
    sg.add_argument("--limit", type=int, default=10)
    sg.add_argument("--json", action="store_true", help="print JSON")
    sg.set_defaults(func=guarded(_suggest))

    pa = gs.add_parser("path", help="a set from A to B where every hop mixes")
    pa.add_argument("a", metavar="A", help="first track (id or file path)")
    pa.add_argument("b", metavar="B", help="last track (id or file path)")
    pa.add_argument(
        "--steps", type=int, default=None, help="exact number of hops (default: fewest)"
    )
    pa.add_argument(
        "--energy-curve",
        default=None,
        help="wanted energies along the set, comma-separated 0..1 (e.g. 0.4,0.8,0.6)",
    )
    pa.add_argument("--json", action="store_true", help="print JSON")
    pa.set_defaults(func=guarded(_path))

    cl = gs.add_parser("clusters", help="communities of the graph")
    cl.add_argument("--json", action="store_true", help="print JSON")
    cl.set_defaults(func=guarded(_clusters))

    rb = gs.add_parser("rebuild", help="recompute every similarity edge from the analysed tracks")
    rb.set_defaults(func=guarded(_rebuild))


def _label(t: TrackNode) -> str:
    name = f"{t.artist} - {t.title}" if t.artist else (t.title or "?")
    bpm = f"{t.bpm:.1f}" if t.bpm else "?"
    return f"#{t.id} {name} [{bpm} BPM, {t.camelot or '?'}]"


def _with_tracks(
    args: argparse.Namespace,
    names: Sequence[str],
    body: Callable[[Services, list[int]], Awaitable[int]],
) -> int:
    async def main() -> int:
        from backend.api.media import resolve_track

        async with services_for(args) as services:
            try:
                ids = [await resolve_track(services, name) for name in names]
            except LookupError as exc:
                error(str(exc))
                return EXIT_ERROR
            return await body(services, ids)

    return run(main())


def _neighbours(args: argparse.Namespace) -> int:
    async def body(services: Services, ids: list[int]) -> int:
        store = await services.graph()
        filters = NeighbourFilter(
            bpm_min=args.bpm_min,
            bpm_max=args.bpm_max,
            camelot=tuple(k.upper() for k in args.key) if args.key else None,
        )
        rows = await store.neighbours(
            ids[0], kinds=args.kind or EDGE_KINDS, filters=filters, limit=args.limit
        )
        if args.json:
            print_json([dataclasses.asdict(n) for n in rows])
            return EXIT_OK
        if not rows:
            print("no neighbours yet (is the track analysed?)")
        for n in rows:
            arrow = "→" if n.direction == "out" else "←"
            print(f"{n.score:5.2f} {n.kind:10s} {arrow} {_label(n.track)}")
            if n.reasons:
                print(f"      {'; '.join(n.reasons)}")
        return EXIT_OK

    return _with_tracks(args, [args.track], body)


def _suggest(args: argparse.Namespace) -> int:
    async def body(services: Services, ids: list[int]) -> int:
        store = await services.graph()
        rows = await store.suggestions(ids[0], limit=args.limit, energy=args.energy)
        if args.json:
            print_json([dataclasses.asdict(s) for s in rows])
            return EXIT_OK
        if not rows:
            print("no suggestions yet (is the track analysed?)")
        for i, s in enumerate(rows, 1):
            print(f"{i:2d}. {s.score:4.2f} {_label(s.track)}")
            if s.reasons:
                print(f"      {'; '.join(s.reasons)}")
        return EXIT_OK

    return _with_tracks(args, [args.track], body)


def _path(args: argparse.Namespace) -> int:
    curve: list[float] | None = None
    if args.energy_curve:
        try:
            curve = [float(x) for x in args.energy_curve.split(",") if x.strip()]
        except ValueError:
            error(f"--energy-curve: not a list of numbers: {args.energy_curve!r}")
            return EXIT_ERROR
    if args.steps is not None and args.steps < 1:
        error("--steps must be at least 1")
        return EXIT_ERROR

    async def body(services: Services, ids: list[int]) -> int:
        store = await services.graph()
        found = await store.path(ids[0], ids[1], steps=args.steps, energy_curve=curve)
        if found is None:
            how = f"in exactly {args.steps} hops" if args.steps else "at all"
            error(f"no mixable path from #{ids[0]} to #{ids[1]} {how}")
            return EXIT_ERROR
        if args.json:
            print_json(
                {
                    "track_ids": list(found.track_ids),
                    "tracks": [dataclasses.asdict(t) for t in found.tracks],
                    "hops": [dataclasses.asdict(h) for h in found.hops],
                    "cost": found.cost,
                }
            )
            return EXIT_OK
        print(f"0. {_label(found.tracks[0])}")
        for i, (hop, track) in enumerate(zip(found.hops, found.tracks[1:], strict=True), 1):
            print(f"{i}. {_label(track)}")
            print(f"      {hop.kind} {hop.score:.2f}: {'; '.join(hop.reasons)}")
        return EXIT_OK

    return _with_tracks(args, [args.a, args.b], body)


def _clusters(args: argparse.Namespace) -> int:
    async def main() -> int:
        async with services_for(args) as services:
            clusters = await (await services.graph()).clusters()
        if args.json:
            print_json([dataclasses.asdict(c) for c in clusters])
        else:
            for c in clusters:
                shown = ", ".join(str(i) for i in c.track_ids[:12])
                more = " …" if len(c.track_ids) > 12 else ""
                print(f"cluster {c.id}: {len(c.track_ids)} tracks ({shown}{more})")
        return EXIT_OK

    return run(main())


def _rebuild(args: argparse.Namespace) -> int:
    async def main() -> int:
        from backend.graph.handler import maintainer_for

        async with services_for(args) as services:
            count = await (await maintainer_for(services)).rebuild()
        print(f"graph rebuilt: {count} analysed tracks")
        return EXIT_OK

    return run(main())
