"""``tracktion analyze FILE... [--json]``: analyse audio files without a library.

One line per file, in the order given (JSON objects with ``--json``). A file that cannot be read prints
an error line (``{"path": ..., "error": ...}``) and makes the exit status 1; the other files are still
analysed. ``--jobs N`` analyses N files at once in separate processes.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_ERROR = 0, 1


def register(subparsers: Any) -> None:
    """Add the ``analyze`` subcommand to the main parser."""
    parser = subparsers.add_parser(
        "analyze", help="analyse audio files (BPM, key, energy, loudness) without a library",
        description=__doc__,
    )  # fmt: skip
    _add_arguments(parser)
    parser.set_defaults(func=run_analyze)


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
    parser.add_argument("--json", action="store_true", help="one JSON object per file")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--long", dest="is_long", action="store_const", const=True,
                      help="treat as a long recording (timeline + transitions)")  # fmt: skip
    mode.add_argument("--short", dest="is_long", action="store_const", const=False,
                      help="never compute a timeline (default: files of 20 min or more get one)")  # fmt: skip
    parser.add_argument(
        "--jobs", type=int, default=1, help="files analysed in parallel (default 1)"
    )


def analyze_one(path: str, is_long: bool | None) -> dict[str, Any]:
    """The CLI's JSON object for one file (an ``error`` key when it cannot be analysed)."""
    from backend.analysis.analyzer import analyze_file
    from backend.analysis.decode import DecodeError

    try:
        result, _ = analyze_file(path, is_long=is_long)
    except DecodeError as exc:
        return {"path": path, "error": exc.reason}
    data: dict[str, Any] = {"path": path}
    data.update(result.to_json())
    data["peak"] = result.sample_peak
    data["peak_db"] = result.peak_db
    if not result.timeline:
        data.pop("timeline", None)
        data.pop("transitions", None)
    return data


def _human(data: dict[str, Any]) -> str:
    if "error" in data:
        return f"{data['path']}: ERROR {data['error']}"
    bpm = f"{data['bpm']:.1f} BPM ({data['bpm_confidence']:.2f})" if data["bpm"] else "no tempo"
    key = f"{data['key']} ({data['camelot']} / {data['open_key']})" if data["key"] else "no key"
    loud = f"{data['loudness_lufs']:.1f} LUFS" if data["loudness_lufs"] is not None else "silent"
    parts = [bpm, key, f"energy {data['energy']}", loud]
    if data.get("replaygain_db") is not None:
        parts.append(f"RG {data['replaygain_db']:+.2f} dB")
    if data.get("peak_db") is not None:
        parts.append(f"peak {data['peak_db']:.1f} dBFS")
    line = f"{data['path']}: " + ", ".join(parts) + f", {data['duration_s']:.1f} s"
    for window in data.get("timeline") or []:
        line += f"\n  {window['start_s']:7.1f}s  {window['bpm'] or '-'} BPM  {window['key'] or '-'}  E{window['energy']}"
    for tr in data.get("transitions") or []:
        line += f"\n  transition at {tr['time_s']:.1f}s (strength {tr['strength']:.2f})"
    return line


def _results(files: list[str], is_long: bool | None, jobs: int) -> Iterator[dict[str, Any]]:
    if jobs <= 1 or len(files) == 1:
        for f in files:
            yield analyze_one(f, is_long)
        return
    import multiprocessing

    with ProcessPoolExecutor(
        max_workers=jobs, mp_context=multiprocessing.get_context("spawn")
    ) as ex:
        yield from ex.map(analyze_one, files, [is_long] * len(files))


def run_analyze(args: argparse.Namespace) -> int:
    """Entry point of ``tracktion analyze``."""
    home = getattr(args, "home", None) or os.environ.get("TRACKTION_HOME")
    if home and "NUMBA_CACHE_DIR" not in os.environ:  # keep librosa's compiled code between runs
        os.environ["NUMBA_CACHE_DIR"] = str(Path(home) / "cache" / "numba")
    import json

    status = EXIT_OK
    files = [str(f) for f in args.files]
    for data in _results(files, args.is_long, max(1, args.jobs)):
        if "error" in data:
            status = EXIT_ERROR
        if args.json:
            sys.stdout.write(json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n")
        else:
            sys.stdout.write(_human(data) + "\n")
        sys.stdout.flush()
    return status


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry: ``python -m backend.cli.analyze FILE... [--json]``."""
    parser = argparse.ArgumentParser(prog="tracktion analyze", description=__doc__)
    _add_arguments(parser)
    return run_analyze(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
