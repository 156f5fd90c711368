"""``tracktion tracklist``: parse saved pages, search 1001tracklists, apply a tracklist, write CUE sheets.

``parse`` needs nothing but the file, so it also runs standalone: ``python -m backend.cli.tracklist parse
PAGE.html --format export``. A block/captcha page exits with status 3 and says what to do.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from backend.cli.common import (
    EXIT_BLOCKED,
    EXIT_ERROR,
    EXIT_OK,
    error,
    guarded,
    print_json,
    run,
    services_for,
)
from backend.tracklists.model import BlockedError, NotATracklistError, page_json


def register(sub: Any) -> None:
    """Add the ``tracklist`` command and its subcommands."""
    p = sub.add_parser("tracklist", help="tracklists of recorded sets (1001tracklists, CUE sheets)")
    ts = p.add_subparsers(dest="tracklist_command", required=True)

    parse = ts.add_parser("parse", help="parse a saved 1001tracklists tracklist page")
    parse.add_argument("page", type=Path, help="the saved .html page")
    out = parse.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print the tracklist as JSON")
    out.add_argument(
        "--format", choices=["text", "export"], default="text",
        help="export: exactly the site's own plain-text export",
    )  # fmt: skip
    parse.set_defaults(func=_parse)

    search = ts.add_parser("search", help="search 1001tracklists (politely, cached)")
    search.add_argument("query", nargs="+")
    search.add_argument("--json", action="store_true")
    search.set_defaults(func=guarded(_search))

    apply = ts.add_parser("apply", help="find (or fetch from --url), align and apply a tracklist")
    apply.add_argument("recording", help="track id or path of the recording")
    apply.add_argument("--url", default=None, help="the tracklist page to use instead of searching")
    apply.add_argument("--json", action="store_true")
    apply.set_defaults(func=guarded(_apply))

    cue = ts.add_parser("cue", help="write the CUE sheet of a recording's applied tracklist")
    cue.add_argument("recording", help="track id or path of the recording")
    cue.add_argument("-o", "--output", default="-", help="file to write (default: standard output)")
    cue.add_argument(
        "--chapters", action="store_true", help="also write the tracks as chapters into the file"
    )
    cue.set_defaults(func=guarded(_cue))


def _blocked(exc: BlockedError) -> int:
    error(f"blocked: {exc}")
    return EXIT_BLOCKED


def _parse(args: argparse.Namespace) -> int:
    from backend.tracklists.export import export_text
    from backend.tracklists.parser import parse_tracklist

    try:
        html = args.page.read_text(encoding="utf-8", errors="replace")
        page = parse_tracklist(html)
    except OSError as exc:
        error(f"cannot read {args.page}: {exc.strerror or exc}")
        return EXIT_ERROR
    except BlockedError as exc:
        return _blocked(exc)
    except NotATracklistError as exc:
        error(f"{args.page}: {exc}")
        return EXIT_ERROR
    if args.json:
        print_json(page_json(page))
    elif args.format == "export":
        sys.stdout.flush()
        sys.stdout.buffer.write(export_text(page).encode("utf-8"))
        sys.stdout.buffer.flush()
    else:
        print(export_text(page).replace("\r\n", "\n"))
    return EXIT_OK


def _search(args: argparse.Namespace) -> int:
    return run(_search_async(args))


async def _search_async(args: argparse.Namespace) -> int:
    from backend.tracklists.client import ClientConfig, FetchError, TracklistsClient

    query = " ".join(args.query)
    async with services_for(args) as services:
        config = ClientConfig.from_settings(services.settings.tracklists)
        async with TracklistsClient(services.cache, config) as client:
            try:
                hits = await client.search(query)
            except BlockedError as exc:
                return _blocked(exc)
            except FetchError as exc:
                error(str(exc))
                return EXIT_ERROR
    if args.json:
        print_json([{**h.__dict__, "date": h.date.isoformat() if h.date else None} for h in hits])
        return EXIT_OK
    if not hits:
        print(f"no tracklists found for {query!r}")
    for h in hits:
        length = (
            f"{h.play_time_s // 3600}h{h.play_time_s % 3600 // 60:02d}" if h.play_time_s else "?"
        )
        print(f"{h.date or '----------'}  {length:>6}  {h.title}  {config.base_url}{h.path}")
    return EXIT_OK


async def resolve_recording(services: Any, recording: str) -> int:
    """A track id from a number or from the path of a catalogued file."""
    from sqlalchemy import select

    from backend.catalog.paths import to_db
    from backend.db.models import LibraryRoot, Track

    if recording.isdigit():
        return int(recording)
    path = Path(recording).expanduser().resolve()
    async with services.db.read() as session:
        roots = (await session.scalars(select(LibraryRoot))).all()
        for root in roots:
            try:
                rel = path.relative_to(Path(root.path).resolve())
            except ValueError:
                continue
            track_id = await session.scalar(
                select(Track.id).where(Track.root_id == root.id, Track.rel_path == to_db(str(rel)))
            )
            if track_id is not None:
                return int(track_id)
    raise LookupError(f"{recording} is not in the library (add its folder first)")


def _apply(args: argparse.Namespace) -> int:
    return run(_apply_async(args))


async def _apply_async(args: argparse.Namespace) -> int:
    from backend.tracklists.client import FetchError
    from backend.tracklists.service import TracklistService

    async with services_for(args) as services:
        service = TracklistService(services)
        try:
            track_id = await resolve_recording(services, args.recording)
            outcome = await service.find_and_apply(track_id, args.url)
        except BlockedError as exc:
            return _blocked(exc)
        except (LookupError, FetchError, NotATracklistError) as exc:
            error(str(exc))
            return EXIT_ERROR
        finally:
            await service.close()
    if args.json:
        print_json(outcome.__dict__)
    else:
        print(outcome.message)
    return EXIT_OK if outcome.status != "none" else EXIT_ERROR


def _cue(args: argparse.Namespace) -> int:
    return run(_cue_async(args))


async def _cue_async(args: argparse.Namespace) -> int:
    from backend.tracklists.chapters import ChaptersUnsupported, chapters_from, write_chapters
    from backend.tracklists.cue import cue_sheet
    from backend.tracklists.service import load_applied

    async with services_for(args) as services:
        try:
            track_id = await resolve_recording(services, args.recording)
            page, audio = await load_applied(services, track_id)
        except LookupError as exc:
            error(str(exc))
            return EXIT_ERROR
    timeline = page.timelines[0]
    sheet = cue_sheet(page, timeline, audio)
    if args.output == "-":
        sys.stdout.write(sheet.text.replace("\r\n", "\n"))
    else:
        Path(args.output).write_text(sheet.text, encoding="utf-8", newline="")
        print(f"wrote {args.output} ({sheet.tracks} tracks)", file=sys.stderr)
    if sheet.left_out:
        error(f"{len(sheet.left_out)} entries without a cue were left out of the sheet")
    if args.chapters:
        from backend.catalog.tags import read_tags

        try:
            duration = read_tags(str(audio)).duration_s or 0.0
            write_chapters(audio, chapters_from(timeline), duration)
        except ChaptersUnsupported as exc:
            error(str(exc))
            return EXIT_ERROR
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Standalone entry point: ``python -m backend.cli.tracklist parse PAGE.html``."""
    parser = argparse.ArgumentParser(prog="python -m backend.cli.tracklist")
    parser.add_argument("--home", type=Path, default=None)
    sub = parser.add_subparsers(dest="command", required=True)
    register(sub)
    args = parser.parse_args(["tracklist", *(sys.argv[1:] if argv is None else argv)])
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
