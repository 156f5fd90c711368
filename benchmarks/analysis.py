"""Analysis speed and memory: a 6-minute track and a long mix, MP3 and FLAC, on one core.

For each file, in separate one-core subprocesses (so peak memory is per measurement):
  decode   — decode-only of the same file (the floor: PyAV, blocks, nothing kept)
  full     — tracktion's analyze_file (tempo, beats, key, loudness, peaks, waveform, features;
             timeline + transitions for the mix)
  naive    — the naive librosa pipeline: librosa.load (whole file, 22.05 kHz), beat_track,
             chroma_cqt, rms
and prints x-realtime, peak RSS and the ratios full/decode and naive/full — by wall clock, and again by
the process's own CPU time (user + sys), which other load on the machine disturbs far less.

    python benchmarks/analysis.py                  # 6-min track + 30-min mix (a few minutes)
    python benchmarks/analysis.py --quick          # 6-min track + 10-min mix, naive on the track only
    python benchmarks/analysis.py --mix-minutes 120 --mix-minutes 180 --skip-naive-mix
                                                   # the issue's 2-hour mix and a 3-hour one

Generated audio is cached in --workdir (default: $TRACKTION_BENCH_CACHE, else a folder under the system
temp dir) and reused by every later run: the generator is deterministic, and files are written under a
temporary name and renamed when complete, so an interrupted generation is never mistaken for a cached file.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SR = 44100


def _make_track(path: Path, seconds: float) -> None:
    from backend.audio.synth import render_track, write_audio

    audio = render_track(126.0, "F minor", seconds, SR, style="four_on_floor", seed=1)
    write_audio(path, audio, SR, channels=2)


def _mix_blocks(minutes: float):  # type: ignore[no-untyped-def]
    """Yield a long mix block by block: 8 distinct 5-minute tracks cycled, 16 s equal-power fades."""
    from backend.analysis.keys import ALL_KEYS
    from backend.audio.synth import STYLES, render_track

    rng = np.random.default_rng(5)
    tracks = []
    for i in range(8):
        bpm = float(rng.uniform(118, 140))
        key = ALL_KEYS[int(rng.integers(24))].name
        tracks.append(render_track(bpm, key, 300.0, SR, style=STYLES[i % 4], seed=i))
    fade = 16 * SR
    ramp = np.sin(np.linspace(0, np.pi / 2, fade)).astype(np.float32)
    total = int(minutes * 60 * SR)
    done, i = 0, 0
    tail = np.zeros(0, dtype=np.float32)
    while done < total:
        track = tracks[i % len(tracks)].copy()
        track[:fade] *= ramp
        track[-fade:] *= ramp[::-1]
        if len(tail):
            track[:fade] += tail
        tail = track[-fade:]
        body = track[:-fade][: total - done]
        done += len(body)
        i += 1
        yield body


def _make_mix(path: Path, minutes: float) -> None:
    from backend.audio.synth import write_audio

    write_audio(path, _mix_blocks(minutes), SR, channels=2)


def _cached(path: Path, make: Callable[[Path], None]) -> Path:
    """Generate ``path`` once (under a temporary name, renamed when complete) and reuse it afterwards."""
    if not path.exists():
        print(f"generating {path.name} ...", flush=True)
        partial = path.with_name(f".partial-{path.name}")
        make(partial)
        partial.rename(path)
    return path


def _measure(kind: str, path: str, is_long: bool) -> dict[str, float]:
    """Runs inside the one-core subprocess."""
    t0 = time.perf_counter()
    cpu0 = time.process_time()
    if kind == "decode":
        from backend.analysis.decode import decode_all

        t0, cpu0 = time.perf_counter(), time.process_time()
        seconds = decode_all(path)
    elif kind == "full":
        from backend.analysis.analyzer import analyze_file

        t0, cpu0 = time.perf_counter(), time.process_time()
        result, waveform = analyze_file(path, is_long=is_long)
        waveform.to_bytes()
        seconds = result.duration_s
    else:
        import librosa

        y, sr = librosa.load(path, sr=22050, mono=True)
        librosa.beat.beat_track(y=y, sr=sr)
        librosa.feature.chroma_cqt(y=y, sr=sr)
        librosa.feature.rms(y=y)
        seconds = len(y) / sr
    elapsed = time.perf_counter() - t0
    cpu = (
        time.process_time() - cpu0
    )  # user + sys of this process: robust to other load on the machine
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return {"elapsed_s": elapsed, "cpu_s": cpu, "audio_s": seconds, "peak_mb": peak_mb}


def _run_one_core(kind: str, path: Path, is_long: bool) -> dict[str, float]:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "NUMBA_NUM_THREADS": "1"}  # fmt: skip
    env.setdefault("NUMBA_CACHE_DIR", str(Path(tempfile.gettempdir()) / "tracktion-bench-numba"))
    cmd = [sys.executable, __file__, "--measure", kind, str(path)] + (["--long"] if is_long else [])
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True,
                          preexec_fn=lambda: os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}))  # fmt: skip
    return json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--mix-minutes", type=float, action="append", default=None,
                        help="mix length (repeatable: --mix-minutes 120 --mix-minutes 180)")  # fmt: skip
    parser.add_argument("--no-track", action="store_true", help="measure only the mixes")
    parser.add_argument(
        "--generate-only", action="store_true", help="fill the cache, measure nothing"
    )
    default_dir = os.environ.get("TRACKTION_BENCH_CACHE") or str(
        Path(tempfile.gettempdir()) / "tracktion-bench-audio"
    )
    parser.add_argument("--workdir", type=Path, default=Path(default_dir))
    parser.add_argument(
        "--skip-naive-mix", action="store_true", help="naive librosa only on the track"
    )
    parser.add_argument("--measure", nargs=2, metavar=("KIND", "PATH"), help=argparse.SUPPRESS)
    parser.add_argument("--long", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(_measure(args.measure[0], args.measure[1], args.long)))
        return
    all_minutes = args.mix_minutes or [10.0 if args.quick else 30.0]
    args.workdir.mkdir(parents=True, exist_ok=True)
    files: list[tuple[str, Path, bool]] = []
    for ext in ("mp3", "flac"):
        if not args.no_track:
            track = _cached(args.workdir / f"track-6min.{ext}", lambda p: _make_track(p, 360.0))
            files.append((f"6-min track {ext}", track, False))
        for minutes in all_minutes:
            mix = _cached(args.workdir / f"mix-{minutes:g}min.{ext}",
                          lambda p, m=minutes: _make_mix(p, m))  # fmt: skip
            files.append((f"{minutes:g}-min mix {ext}", mix, True))
    if args.generate_only:
        return
    print(f"{'file':22} {'decode x-rt':>11} {'full x-rt':>10} {'full/decode':>11} {'naive x-rt':>10} "
          f"{'naive/full':>10} {'full MB':>8} {'naive MB':>8} {'cpu: decode':>11} {'full x-rt':>9} "
          f"{'full/decode':>11}")  # fmt: skip
    for label, path, is_long in files:
        decode = _run_one_core("decode", path, is_long)
        full = _run_one_core("full", path, is_long)
        skip_naive = is_long and (args.quick or args.skip_naive_mix)
        naive = None if skip_naive else _run_one_core("naive", path, is_long)
        rt = full["audio_s"]
        row = (f"{label:22} {rt / decode['elapsed_s']:11.0f} {rt / full['elapsed_s']:10.0f} "
               f"{full['elapsed_s'] / decode['elapsed_s']:11.2f} ")  # fmt: skip
        if naive:
            row += (
                f"{rt / naive['elapsed_s']:10.0f} {naive['elapsed_s'] / full['elapsed_s']:10.1f} "
            )
        else:
            row += f"{'-':>10} {'-':>10} "
        row += f"{full['peak_mb']:8.0f} {naive['peak_mb'] if naive else float('nan'):8.0f} "
        row += (f"{rt / decode['cpu_s']:11.0f} {rt / full['cpu_s']:9.0f} "
                f"{full['cpu_s'] / decode['cpu_s']:11.2f}")  # fmt: skip
        print(row, flush=True)


if __name__ == "__main__":
    main()
