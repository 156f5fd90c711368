"""Key estimation: chroma summary correlated with 24 key templates.

Chroma frames (12 pitch classes, 50 Hz–2.2 kHz, from a ~0.37 s window) are normalised per frame,
log-compressed and averaged, so a sustained loud pad does not outweigh the bass and melody. The summary
is correlated (Pearson) with a major and a minor template rotated to all 12 tonics. The templates
blend Temperley's corpus profiles (25 %) with the EDMA profiles tuned on electronic dance music (75 %,
Faraldo et al.), spread over each note's harmonics (see _templates). The bass register (< 220 Hz) is
summarised separately and added at half weight: bass lines sit on chord roots and mark the tonic.

Relative keys (C minor / Eb major) share every pitch class, and a looped progression such as
i–VI–III–VII is the same cycle of chords as the relative major's I–V–vi–IV: pitch statistics cannot tell
them apart. What does is where the loop starts. The tonic chord sits at phrase starts — the first bar of
the music and every fourth bar after it — so the chord heard there (best of 24 triads: root in the bass,
triad above) is counted, and the share of phrase starts on each key's tonic triad adds PHRASE_WEIGHT to
that key's score when choosing between the best key and its relative. The weight is small on purpose:
it settles near-ties, and a track whose phrases do not start at the start of the music falls back to
the profiles (see docs/analysis.md for what it costs when the phrase grid is wrong).

Confidence = margin between the best and the second-best key that is not its relative (relative
major/minor share all pitch classes and are the usual hard pair) scaled into 0..1, times a tonalness
factor that is ~0 for flat chroma (noise, drums only).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from backend.analysis.keys import ALL_KEYS, Key

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
PHRASE_WEIGHT = (
    0.2  # score bonus for a key whose tonic triad starts every phrase (scores are Pearson r)
)
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


def _triad_fit(
    bass: npt.NDArray[np.float64], upper: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """How well each key's tonic triad (``ALL_KEYS`` order) explains one chord: root in the bass plus
    the triad's share of the upper register (both inputs normalised to sum 1)."""
    fit = np.zeros(24)
    for key in ALL_KEYS:
        third = 4 if key.mode == "major" else 3
        notes = [key.tonic, (key.tonic + third) % 12, (key.tonic + 7) % 12]
        fit[key.index] = bass[key.tonic] + upper[notes].sum()
    return fit


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
    # Chroma frame i covers [i, i + 2) hops: the bar [t, t + bar) is frames t·fps - ½ .. (t + bar)·fps - 1½.
    start = (voiced[0] + 0.5) / chroma_fps
    count = 0
    t = start
    while (t + bar_s) * chroma_fps - 1.5 <= len(chroma):
        a = int(max(0.0, t * chroma_fps - 0.5))
        b = int(max(a + 1.0, (t + bar_s) * chroma_fps - 1.5))
        seg = chroma[a:b].astype(np.float64)
        bass, upper = seg[:, :12].sum(axis=0), seg[:, 12:].sum(axis=0)
        if bass.sum() > 0 and upper.sum() > 0:
            out[int(np.argmax(_triad_fit(bass / bass.sum(), upper / upper.sum())))] += 1
            count += 1
        t += PHRASE_BARS * bar_s
    return out / count if count else out


def _relative(key: Key) -> Key:
    return (
        Key((key.tonic + 9) % 12, "minor")
        if key.mode == "major"
        else Key((key.tonic + 3) % 12, "major")
    )


def estimate_key(chroma: FloatArray, weights: FloatArray | None = None, *,
                 chroma_fps: float | None = None,
                 bpm: float | None = None) -> tuple[Key | None, float]:  # fmt: skip
    """Best key and a 0..1 confidence; (None, 0) for atonal or silent audio.

    ``chroma`` is (frames, 24) from spectral.py (bass then upper register) or plain (frames, 12).
    With ``chroma_fps`` and the tempo (``bpm``), the choice between the best key and its relative
    also weighs the chords at phrase starts (see module docstring).
    """
    summary = combined_summary(chroma, weights)
    tonal = tonalness(summary)
    if tonal < MIN_TONALNESS:
        return None, 0.0
    scores = key_scores(summary)
    order = np.argsort(-scores)
    best = ALL_KEYS[int(order[0])]
    if chroma_fps and bpm:
        starts = phrase_start_chords(chroma, chroma_fps, bpm)
        rel = _relative(best)
        if scores[rel.index] + PHRASE_WEIGHT * starts[rel.index] > (
            scores[best.index] + PHRASE_WEIGHT * starts[best.index]
        ):
            scores = scores.copy()
            scores[[best.index, rel.index]] = scores[[rel.index, best.index]]
            order = np.argsort(-scores)
            best = rel
    relative_idx = _relative(best).index
    rival = next(int(i) for i in order[1:] if int(i) != relative_idx)
    margin = float(scores[order[0]] - scores[rival])
    confidence = float(np.clip(margin * 4.0, 0.0, 1.0) * np.clip(tonal / 0.3, 0.0, 1.0))
    return best, round(confidence, 3)
