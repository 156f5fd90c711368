"""Accuracy on generated music whose truth is known by construction, against plain librosa.

Corpus (seeded; ``--seed``): ``--clips`` clips of ``--seconds`` s, styles in turn, each with a random
tempo in its style's range (four_on_floor 100–180, breakbeat 80–180, half_time 130–180, swung 70–120:
together 70–180 BPM, with each style in the range where it is played), a random key (24), a tonal (75 %)
or modal (25 %) progression, random timbre, detuning (0–12 cents), swing, timing jitter (0–8 ms), slow
drift (±1 %) and drum/harmony levels. Plus ``--mixes`` mixes of 5–7 tracks (60–150 s, different tempo
and key) cross-faded over 8–32 s.

Metrics:
- tempo Accuracy1 (within 4 % of the truth) and Accuracy2 (also at ×2, ×3, ½, ⅓). With drift the truth
  is the clip's mean tempo (bpm × (1 + drift/2)).
- key: exact and MIREX weighted (1 exact, 0.5 fifth — the estimate a fifth above or below the truth in
  the same mode, 0.3 relative, 0.2 parallel), tonal and modal progressions reported separately.
- transitions: precision and recall of candidates within ±15 s of the true cross-fade centres.
Baseline in the same run: librosa defaults — ``beat_track`` tempo; ``chroma_cqt`` mean matched to
Krumhansl–Kessler templates — on the same audio. (librosa has no transition detector: none is compared.)

Every clip starts on its tonic chord at the start of a phrase, so the phrase-start cue of the key
estimator (backend/analysis/tonal.py) is as clean here as it can be. ``--phrase-offset-bars 1`` cuts the
first bar of every clip (truth unchanged) so phrases no longer start where the music starts: a stress
test of how much the key figures lean on that cue.

    python benchmarks/accuracy.py [--seed 1] [--clips 200] [--seconds 30] [--mixes 6] [--quick]
                                  [--phrase-offset-bars 0]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from backend.analysis.analyzer import analyze_file  # noqa: E402
from backend.analysis.keys import ALL_KEYS, Key, from_name  # noqa: E402
from backend.audio.synth import render_mix, render_track, write_audio  # noqa: E402

SR = 22050  # the corpus is rendered at 22.05 kHz to keep generation quick; both systems get the same audio
RANGES = {
    "four_on_floor": (100, 180),
    "breakbeat": (80, 180),
    "half_time": (130, 180),
    "swung": (70, 120),
}
TIMBRES = ("saw", "square", "sine", "pluck", "organ")
KK_MAJOR = [6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88]
KK_MINOR = [6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17]


def clip_spec(rng: np.random.Generator, index: int) -> dict[str, Any]:
    style = list(RANGES)[index % 4]
    lo, hi = RANGES[style]
    return {
        "style": style, "bpm": float(np.round(rng.uniform(lo, hi), 1)),
        "key": ALL_KEYS[int(rng.integers(24))].name,
        "progression": "modal" if rng.random() < 0.25 else "tonal",
        "timbre": TIMBRES[int(rng.integers(len(TIMBRES)))],
        "detune_cents": float(rng.uniform(0, 12)),
        "swing": float(rng.uniform(0.2, 0.45) if style == "swung" else rng.uniform(0, 0.15)),
        "jitter_ms": float(rng.uniform(0, 8)), "drift": float(rng.uniform(-0.01, 0.01)),
        "drum_level": float(rng.uniform(0.4, 1.0)), "harmony_level": float(rng.uniform(0.2, 0.6)),
        "seed": int(rng.integers(1 << 30)),
    }  # fmt: skip


def mirex(est: Key | None, truth: Key) -> float:
    """MIREX key score: exact 1, fifth 0.5 (same mode, tonic ±7 semitones), relative 0.3, parallel 0.2."""
    if est is None:
        return 0.0
    if est == truth:
        return 1.0
    if est.mode == truth.mode and (est.tonic - truth.tonic) % 12 in (5, 7):
        return 0.5
    relative = (truth.tonic + 9) % 12 if truth.mode == "major" else (truth.tonic + 3) % 12
    if est.mode != truth.mode and est.tonic == relative:
        return 0.3
    if est.mode != truth.mode and est.tonic == truth.tonic:
        return 0.2
    return 0.0


def tempo_scores(est: float | None, truth: float) -> tuple[bool, bool]:
    if not est:
        return False, False
    acc1 = abs(est - truth) <= 0.04 * truth
    acc2 = any(abs(est - truth * m) <= 0.04 * truth * m for m in (1, 2, 3, 0.5, 1 / 3))
    return acc1, acc2


def librosa_baseline(audio: np.ndarray) -> tuple[float, Key]:
    import librosa

    tempo, _ = librosa.beat.beat_track(y=audio, sr=SR)
    chroma = librosa.feature.chroma_cqt(y=audio, sr=SR).mean(axis=1)
    best, best_r = ALL_KEYS[0], -2.0
    for key in ALL_KEYS:
        profile = np.roll(KK_MAJOR if key.mode == "major" else KK_MINOR, key.tonic)
        r = float(np.corrcoef(chroma, profile)[0, 1])
        if r > best_r:
            best, best_r = key, r
    return float(np.atleast_1d(tempo)[0]), best


def run_clips(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    rng = np.random.default_rng(args.seed)
    rows = []
    t_ours = t_base = 0.0
    for i in range(args.clips):
        spec = clip_spec(rng, i)
        kw = {k: spec[k] for k in ("progression", "timbre", "detune_cents", "swing", "jitter_ms", "drift",
                                  "drum_level", "harmony_level")}  # fmt: skip
        audio = render_track(spec["bpm"], spec["key"], args.seconds, SR, style=spec["style"],
                             seed=spec["seed"], **kw)  # fmt: skip
        if args.phrase_offset_bars:
            audio = audio[int(args.phrase_offset_bars * 4 * 60.0 / spec["bpm"] * SR) :]
        path = write_audio(workdir / f"clip{i}.flac", audio, SR)
        t0 = time.perf_counter()
        result, _ = analyze_file(path)
        t1 = time.perf_counter()
        base_bpm, base_key = librosa_baseline(audio)
        t2 = time.perf_counter()
        t_ours, t_base = t_ours + t1 - t0, t_base + t2 - t1
        truth_bpm = spec["bpm"] * (1 + spec["drift"] / 2)
        truth_key = from_name(spec["key"])
        ours_key = from_name(result.key) if result.key else None
        rows.append({**spec, "ours": tempo_scores(result.bpm, truth_bpm), "base": tempo_scores(base_bpm, truth_bpm),
                     "ours_key": (ours_key == truth_key, mirex(ours_key, truth_key)),
                     "base_key": (base_key == truth_key, mirex(base_key, truth_key)),
                     "est": result.bpm, "est_key": result.key})  # fmt: skip
        path.unlink()
        if (i + 1) % 25 == 0:
            print(f"  {i + 1}/{args.clips} clips", flush=True)
    return {"rows": rows, "t_ours": t_ours, "t_base": t_base}


def run_mixes(args: argparse.Namespace, workdir: Path) -> tuple[int, int, int]:
    rng = np.random.default_rng(args.seed + 1000)
    hits = found_total = truth_total = 0
    for m in range(args.mixes):
        n = int(rng.integers(5, 8))
        tracks, fades = [], []
        for j in range(n):
            spec = clip_spec(rng, j + m)
            seconds = float(rng.uniform(60, 150))
            tracks.append(render_track(spec["bpm"], spec["key"], seconds, SR, style=spec["style"],
                                       seed=spec["seed"], timbre=spec["timbre"],
                                       progression=spec["progression"]))  # fmt: skip
            fades.append(float(rng.uniform(8, 32)))
        mix, truth = render_mix(tracks, fades[:-1], SR)
        path = write_audio(workdir / f"mix{m}.flac", mix, SR)
        result, _ = analyze_file(path, is_long=True)
        found = [t.time_s for t in result.transitions or []]
        truth_total += len(truth)
        found_total += len(found)
        hits += sum(1 for f in found if any(abs(f - t) <= 15 for t in truth))
        path.unlink()
    return hits, found_total, truth_total


def report(clips: dict[str, Any], mixes: tuple[int, int, int], args: argparse.Namespace) -> None:
    rows = clips["rows"]

    def mean(values: list[float]) -> float:
        return float(np.mean(values)) if values else float("nan")

    offset = f", first {args.phrase_offset_bars:g} bar(s) cut" if args.phrase_offset_bars else ""
    print(f"\nCorpus: {len(rows)} clips x {args.seconds:g} s, seed {args.seed}{offset}")
    print(f"{'':28}{'tracktion':>12}{'librosa':>12}")
    for name, idx in (("tempo Acc1 (±4 %)", 0), ("tempo Acc2 (×2,×3,½,⅓)", 1)):
        print(
            f"{name:28}{mean([r['ours'][idx] for r in rows]):12.3f}{mean([r['base'][idx] for r in rows]):12.3f}"
        )
    for style in RANGES:
        sub = [r for r in rows if r["style"] == style]
        print(
            f"  Acc1 {style:22}{mean([r['ours'][0] for r in sub]):12.3f}{mean([r['base'][0] for r in sub]):12.3f}"
        )
    for prog in ("tonal", "modal"):
        sub = [r for r in rows if r["progression"] == prog]
        print(
            f"key exact, {prog:17}{mean([r['ours_key'][0] for r in sub]):12.3f}{mean([r['base_key'][0] for r in sub]):12.3f}"
        )
        print(
            f"key MIREX weighted, {prog:8}{mean([r['ours_key'][1] for r in sub]):12.3f}{mean([r['base_key'][1] for r in sub]):12.3f}"
        )
    hits, found, truth = mixes
    if truth:
        precision = hits / found if found else 0.0
        print(f"transitions ({args.mixes} mixes, {truth} true): precision {precision:.3f}, recall "
              f"{min(truth, hits) / truth:.3f} (±15 s)")  # fmt: skip
    print(f"time: tracktion {clips['t_ours']:.1f} s, librosa baseline {clips['t_base']:.1f} s "
          f"(ratio {clips['t_base'] / max(clips['t_ours'], 1e-9):.1f}x)")  # fmt: skip
    misses = [r for r in rows if not r["ours"][0]]
    if misses:
        print(
            "tempo misses:", ", ".join(f"{r['style']} {r['bpm']}→{r['est']}" for r in misses[:12])
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--clips", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--mixes", type=int, default=6)
    parser.add_argument("--quick", action="store_true", help="48 clips of 20 s, 2 mixes")
    parser.add_argument("--phrase-offset-bars", type=float, default=0.0,
                        help="cut this many bars from the start of every clip (stress test)")  # fmt: skip
    args = parser.parse_args()
    if args.quick:
        args.clips, args.seconds, args.mixes = 48, 20.0, 2
    with tempfile.TemporaryDirectory() as tmp:
        clips = run_clips(args, Path(tmp))
        mixes = run_mixes(args, Path(tmp))
    report(clips, mixes, args)


if __name__ == "__main__":
    main()
