"""Key estimation: chroma summary correlated with 24 key templates.

Chroma frames (12 pitch classes, 50 Hz–2.2 kHz, from a ~0.37 s window) are normalised per frame,
log-compressed and averaged, so a sustained loud pad does not outweigh the bass and melody. The summary
is correlated (Pearson) with a major and a minor template rotated to all 12 tonics. The templates
blend Temperley's corpus profiles (25 %) with the EDMA profiles tuned on electronic dance music (75 %,
Faraldo et al.), spread over each note's harmonics (see _templates). The bass register (< 220 Hz) is
summarised separately and added at half weight: bass lines sit on chord roots and mark the tonic.

Relative keys (C minor / Eb major) share every pitch class, so the profiles alone often confuse them,
and a key with its dominant when a timbre's harmonics stress the fifth. The chords tell them apart,
wherever the file starts: on the beat grid from tempo.py, each beat's chord root is the root of the best of
24 triads (root in the bass, triad above), and each key gains CHORD_WEIGHT × (share of beats on its tonic
root + share of root changes from its dominant to its tonic, the V→I cadence, less those back from
the tonic to the dominant: a two-chord vamp goes both ways and is no cadence). Neither depends on where
the music starts, and both hold for the loops a DJ track is made of (i–iv–v–i, ii–V–I–I, I–vi–IV–V...).

One loop defeats them: i–VI–III–VII in a minor key is the same cycle of chords as the relative major's
I–V–vi–IV (Cm Ab Eb Bb / Eb Bb Cm Ab): equal time on both tonics and no cadence to either. Only where the
phrase starts says which it is. So when the chord evidence of the best key and its relative is within
CHORD_TIE, and most phrase starts — the first bar of the music and every PHRASE_BARS bars after it — sit on
the relative's tonic triad, the relative wins. A file that does not start on a phrase falls back to the
profiles there, or, cut by half a loop, reads the relative (see docs/analysis.md, Known limits).

Confidence = margin between the best and the second-best key that is not its relative (relative
major/minor share all pitch classes and are the usual hard pair) scaled into 0..1, times a tonalness
factor that is ~0 for flat chroma (noise, drums only).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from backend.analysis.beatgrid import beat_grid
from backend.analysis.keys import ALL_KEYS, Key
from backend.analysis.tempo import TempoResult

FloatArray = npt.NDArray[np.float32]

_TEMPERLEY_MAJOR = [
    0.748,
    0.060,
    0.488,
    0.082,
    0.670,
    0.460,
    0.096,
    0.715,
    0.104,
    0.366,
    0.057,
    0.400,
]
_TEMPERLEY_MINOR = [
    0.712,
    0.084,
    0.474,
    0.618,
    0.049,
    0.460,
    0.105,
    0.747,
    0.404,
    0.067,
    0.133,
    0.330,
]
_EDMA_MAJOR = [0.165, 0.047, 0.083, 0.067, 0.100, 0.093, 0.053, 0.132, 0.052, 0.074, 0.069, 0.064]
_EDMA_MINOR = [0.172, 0.040, 0.076, 0.121, 0.056, 0.085, 0.050, 0.135, 0.075, 0.050, 0.092, 0.048]

MIN_TONALNESS = 0.10  # chroma flatter than this (noise, unpitched drums) gets no key
BASS_WEIGHT = 0.5  # the bass register (< 220 Hz) marks the tonic; harmonics there are weak
PROFILE_MIX = 0.75  # share of the EDMA profile in the Temperley/EDMA blend
HARMONIC_DECAY = 0.6
# Chord evidence (two shares, each 0..1) is added to the profiles' Pearson r at this weight.
CHORD_WEIGHT = 0.5
# Relatives whose chord evidence is this close (≈ one bar in twelve) are a tie the chords cannot break.
CHORD_TIE = 0.08
# The phrase-start cue breaks such a tie when most phrase starts sit on the relative's tonic triad.
PHRASE_MIN_SHARE = 0.5
PHRASE_BARS = 4  # bars per phrase; bars are 4 beats


def _profile(a: list[float], b: list[float], mix: float) -> npt.NDArray[np.float64]:
    pa = np.asarray(a) / np.sum(a)
    pb = np.asarray(b) / np.sum(b)
    return np.asarray((1 - mix) * pa + mix * pb)


# Pitch-class offsets of harmonics 1..6 above a note: octave, octave+fifth, 2 octaves, +third, +fifth.
_HARMONIC_OFFSETS = (0, 0, 7, 0, 4, 7)


def _templates(mix: float = PROFILE_MIX, decay: float = HARMONIC_DECAY) -> npt.NDArray[np.float64]:
    """(24, 12) templates ordered like ``ALL_KEYS`` (majors then minors), z-scored.

    Each scale degree's weight is spread over the pitch classes of its first six harmonics with
    weights decay^(h-1) (Gómez's HPCP templates): real notes put energy on their fifth and third, and
    plain templates then mistake a key for its dominant.
    """
    out = []
    for a, b in ((_TEMPERLEY_MAJOR, _EDMA_MAJOR), (_TEMPERLEY_MINOR, _EDMA_MINOR)):
        base = _profile(a, b, mix)
        spread = np.zeros(12)
        for h, offset in enumerate(_HARMONIC_OFFSETS):
            spread += np.roll(base, offset) * decay**h
        out.append(spread)
    rows = [np.roll(out[0], t) for t in range(12)] + [np.roll(out[1], t) for t in range(12)]
    arr = np.asarray(rows)
    arr = arr - arr.mean(axis=1, keepdims=True)
    return np.asarray(arr / arr.std(axis=1, keepdims=True))


TEMPLATES = _templates()


def chroma_summary(
    chroma: FloatArray, weights: FloatArray | None = None
) -> npt.NDArray[np.float64]:
    """Average of per-frame normalised, log-compressed chroma (frames with no energy are skipped)."""
    if len(chroma) == 0:
        return np.zeros(12)
    frames = chroma.astype(np.float64)
    peak = frames.max(axis=1, keepdims=True)
    voiced = peak[:, 0] > 1e-3 * max(float(peak.max()), 1e-12)
    if not voiced.any():
        return np.zeros(12)
    frames = np.log1p(20.0 * frames[voiced] / peak[voiced])
    w = np.ones(len(frames)) if weights is None else weights[voiced].astype(np.float64)
    return np.asarray((frames * w[:, None]).sum(axis=0) / max(float(w.sum()), 1e-12))


def tonalness(summary: npt.NDArray[np.float64]) -> float:
    """Coefficient of variation of the chroma summary (0 = flat)."""
    mean = float(summary.mean())
    return float(summary.std() / mean) if mean > 0 else 0.0


def key_scores(summary: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Pearson correlation of the summary with the 24 templates (``ALL_KEYS`` order)."""
    z = summary - summary.mean()
    std = z.std()
    if std == 0:
        return np.zeros(24)
    return np.asarray(TEMPLATES @ (z / std) / 12.0)


def combined_summary(
    chroma: FloatArray, weights: FloatArray | None = None
) -> npt.NDArray[np.float64]:
    """Bass + upper-register chroma summaries (each normalised to sum 1) for (frames, 24) chroma."""
    if chroma.ndim == 2 and chroma.shape[1] == 12:
        return chroma_summary(chroma, weights)
    parts = []
    for part in (chroma[:, 12:], chroma[:, :12]):
        summary = chroma_summary(part, weights)
        parts.append(summary / summary.sum() if summary.sum() > 0 else summary)
    return np.asarray(parts[0] + BASS_WEIGHT * parts[1])


def _tonic_triads() -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Each key's tonic (``ALL_KEYS`` order) and a (24, 12) mask of its tonic triad's pitch classes."""
    tonics = np.asarray([key.tonic for key in ALL_KEYS])
    mask = np.zeros((24, 12))
    for key in ALL_KEYS:
        third = 4 if key.mode == "major" else 3
        mask[key.index, [key.tonic, (key.tonic + third) % 12, (key.tonic + 7) % 12]] = 1.0
    return tonics, mask


_TONICS, _TRIAD_MASK = _tonic_triads()


def chord_fits(
    chroma: FloatArray,
    chroma_fps: float,
    starts: npt.NDArray[np.float64],
    ends: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:
    """How well each key's tonic triad explains the chord of each span [start, end) s: root in the bass
    plus the triad's share of the upper register. (spans, 24), ``ALL_KEYS`` order; spans past the end
    of the chroma or without energy in either register are left out.

    Chroma frame i covers [i, i + 2) hops: the span [t0, t1) is frames t0·fps - ½ .. t1·fps - 1½.
    """
    if chroma.ndim != 2 or chroma.shape[1] != 24 or len(starts) == 0:
        return np.zeros((0, 24))
    first = np.maximum(0.0, starts * chroma_fps - 0.5).astype(np.int64)
    last = np.maximum(first + 1.0, ends * chroma_fps - 1.5).astype(np.int64)
    inside = last <= len(chroma)
    first, last = first[inside], last[inside]
    if len(first) == 0:
        return np.zeros((0, 24))
    # One pass over the chroma for all spans: np.add.reduceat sums from each bound to the next, so with
    # the bounds (first, last) of every span interleaved every other sum is a span. A bound must be a
    # valid row, so spans that run to the very end are summed on their own.
    sums = np.empty((len(first), 24))
    inner = last < len(chroma)
    if inner.any():
        bounds = np.stack([first[inner], last[inner]], axis=1).ravel()
        sums[inner] = np.add.reduceat(chroma, bounds, axis=0, dtype=np.float64)[::2]
    for i in np.flatnonzero(~inner):
        sums[i] = chroma[first[i] :].sum(axis=0, dtype=np.float64)
    bass, upper = sums[:, :12], sums[:, 12:]
    bass_total, upper_total = bass.sum(axis=1, keepdims=True), upper.sum(axis=1, keepdims=True)
    voiced = (bass_total[:, 0] > 0) & (upper_total[:, 0] > 0)
    bass, upper = bass[voiced] / bass_total[voiced], upper[voiced] / upper_total[voiced]
    return np.asarray(bass[:, _TONICS] + upper @ _TRIAD_MASK.T)


def phrase_start_chords(
    chroma: FloatArray, chroma_fps: float, bpm: float
) -> npt.NDArray[np.float64]:
    """Share of phrase starts whose chord is each key's tonic triad (24 values, ``ALL_KEYS`` order).

    Phrases are PHRASE_BARS bars of 4 beats at ``bpm``, counted from the first chroma frame with
    tonal energy (the music's first bar). Only (frames, 24) chroma has the bass register needed.
    """
    out = np.zeros(24)
    if chroma.ndim != 2 or chroma.shape[1] != 24 or len(chroma) == 0 or bpm <= 0:
        return out
    energy = chroma.sum(axis=1)
    voiced = np.flatnonzero(energy > 0.1 * float(np.percentile(energy, 90)))
    if len(voiced) == 0:
        return out
    bar_s = 4 * 60.0 / bpm
    starts = np.arange(
        (voiced[0] + 0.5) / chroma_fps, len(chroma) / chroma_fps, PHRASE_BARS * bar_s
    )
    fits = chord_fits(chroma, chroma_fps, starts, starts + bar_s)
    if len(fits) == 0:
        return out
    return np.bincount(np.argmax(fits, axis=1), minlength=24) / len(fits)


def beat_times(tempo: TempoResult, duration_s: float) -> npt.NDArray[np.float64]:
    """Every beat of ``tempo`` within ``duration_s``: its explicit beats, else the grid through its downbeat."""
    if tempo.beats:
        return np.asarray(tempo.beats, dtype=np.float64)
    if not tempo.bpm or tempo.beat_offset_s is None:
        return np.zeros(0)
    return beat_grid(tempo.bpm, tempo.beat_offset_s, duration_s)[0]


def chord_evidence(
    chroma: FloatArray, chroma_fps: float, beats: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Per key (``ALL_KEYS`` order): share of beats whose chord root is its tonic + share of root changes
    from its dominant to its tonic (less those back to the dominant). Roots only: a decaying or busy chord often reads as the wrong quality,
    and the mode is the profiles' job. Zeros without (frames, 24) chroma or beats."""
    if len(beats) < 3:
        return np.zeros(24)
    roots = np.argmax(chord_fits(chroma, chroma_fps, beats[:-1], beats[1:]), axis=1) % 12
    if len(roots) == 0:
        return np.zeros(24)
    on_tonic = np.bincount(roots, minlength=12) / len(roots)
    before, after = roots[:-1], roots[1:]
    changed = before != after
    # The root falls a fifth (or rises a fourth): dominant → tonic. A vamp between two chords goes back
    # as often as forth and is no cadence, so the moves from the tonic back to its dominant count against.
    to_tonic = changed & ((before - after) % 12 == 7)
    to_dominant = changed & ((after - before) % 12 == 7)
    net = np.bincount(after[to_tonic], minlength=12) - np.bincount(
        before[to_dominant], minlength=12
    )
    cadences = np.maximum(net, 0) / max(1, int(changed.sum()))
    return np.tile(on_tonic + cadences, 2)


def _relative(key: Key) -> Key:
    return (
        Key((key.tonic + 9) % 12, "minor")
        if key.mode == "major"
        else Key((key.tonic + 3) % 12, "major")
    )


def estimate_key(chroma: FloatArray, weights: FloatArray | None = None, *,
                 chroma_fps: float | None = None,
                 tempo: TempoResult | None = None) -> tuple[Key | None, float]:  # fmt: skip
    """Best key and a 0..1 confidence; (None, 0) for atonal or silent audio.

    ``chroma`` is (frames, 24) from spectral.py (bass then upper register) or plain (frames, 12).
    With ``chroma_fps`` and the ``tempo`` (beat grid), the chords on the beats and, between relatives
    they cannot tell apart, the chords at phrase starts count too (see module docstring).
    """
    summary = combined_summary(chroma, weights)
    tonal = tonalness(summary)
    if tonal < MIN_TONALNESS:
        return None, 0.0
    scores = key_scores(summary)
    if chroma_fps and tempo is not None and tempo.bpm:
        beats = beat_times(tempo, len(chroma) / chroma_fps)
        evidence = chord_evidence(chroma, chroma_fps, beats)
        scores = scores + CHORD_WEIGHT * evidence
        best = ALL_KEYS[int(np.argmax(scores))]
        rel = _relative(best)
        if abs(evidence[best.index] - evidence[rel.index]) < CHORD_TIE:
            starts = phrase_start_chords(chroma, chroma_fps, tempo.bpm)
            if starts[rel.index] > starts[best.index] and starts[rel.index] >= PHRASE_MIN_SHARE:
                scores[[best.index, rel.index]] = scores[[rel.index, best.index]]
    order = np.argsort(-scores)
    best = ALL_KEYS[int(order[0])]
    relative_idx = _relative(best).index
    rival = next(int(i) for i in order[1:] if int(i) != relative_idx)
    margin = float(scores[order[0]] - scores[rival])
    confidence = float(np.clip(margin * 4.0, 0.0, 1.0) * np.clip(tonal / 0.3, 0.0, 1.0))
    return best, round(confidence, 3)
