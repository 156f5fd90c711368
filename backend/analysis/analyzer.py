"""analyze_file: decode once, stream every block through all meters, then summarise.

One pass over the audio: each decoded block goes to the spectral analyser (onsets, bands, chroma,
waveform), the loudness meter and the peak meter; nothing keeps the samples. The track-level
estimators then work on the small frame-rate series. Cancellation is checked between blocks, so a
cancel takes effect within ~3 s of audio (milliseconds of work).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Protocol

import numpy as np

from backend.analysis import segments
from backend.analysis.decode import BLOCK_SAMPLES, AudioStream, RollingBuffer
from backend.analysis.features import (
    descriptors,
    energy_rating,
    feature_vector,
    silence_bounds,
)
from backend.analysis.loudness import (
    LoudnessMeter,
    PeakMeter,
    replaygain_db,
    short_term_lufs,
    to_db,
)
from backend.analysis.result import AnalysisResult
from backend.analysis.spectral import FrameSeries, SpectralAnalyzer
from backend.analysis.tempo import TempoResult, estimate_tempo
from backend.analysis.tonal import estimate_key
from backend.analysis.waveform import Waveform, build_waveform

LONG_RECORDING_S = 20 * 60.0  # the catalog flags files at least this long as mixes
MIN_TONAL_S = 3.0  # shorter audible audio gets no tempo/key


class CancelToken(Protocol):
    """Anything with ``is_set()`` (threading.Event, multiprocessing Event proxies)."""

    def is_set(self) -> bool: ...


class AnalysisCancelled(Exception):
    """Raised inside analyze_file when the cancel token is set."""


def _accents(series: FrameSeries) -> np.ndarray:
    """Harmonic change per onset frame (chroma flux, upsampled): chords change on downbeats."""
    chroma = series.chroma
    n = len(series.onset)
    if len(chroma) < 2 or n == 0:
        return np.zeros(n, dtype=np.float32)
    norm = chroma / np.maximum(chroma.max(axis=1, keepdims=True), 1e-9)
    flux = np.concatenate([[0.0], np.abs(np.diff(norm, axis=0)).sum(axis=1)])
    times = (np.arange(n) + 1) / series.fps
    # Chroma frame i spans two chroma hops from i·hop: a change at T shows first at i ≈ T/hop - 1.5.
    idx = np.clip((times * series.chroma_fps - 1.5).round().astype(int), 0, len(flux) - 1)
    values = flux[idx]
    std = values.std()
    return np.asarray(values / std if std > 0 else values, dtype=np.float32)


def analyze_file(path: str | os.PathLike[str], *, is_long: bool | None = None,
                 progress: Callable[[float], None] | None = None,
                 cancel: CancelToken | None = None) -> tuple[AnalysisResult, Waveform]:  # fmt: skip
    """Analyse one audio file (see result.AnalysisResult); raises DecodeError or AnalysisCancelled."""
    warnings: list[str] = []
    with AudioStream(path) as stream:
        info = stream.info
        if is_long is None:
            is_long = (info.duration_s or 0.0) >= LONG_RECORDING_S
        spectral = SpectralAnalyzer(info.sample_rate, info.duration_s)
        loudness = LoudnessMeter(info.sample_rate, info.channels)
        peaks = PeakMeter()
        magnitudes = RollingBuffer(BLOCK_SAMPLES, (info.channels,))  # |block|, one reused buffer
        reported = -1.0
        for block in stream.blocks():
            if cancel is not None and cancel.is_set():
                raise AnalysisCancelled(str(path))
            magnitude = np.abs(block, out=magnitudes.space(block.shape[-1]))
            spectral.feed(block, magnitude=magnitude)
            loudness.feed(block)
            peaks.feed(block, magnitude)
            magnitudes.drop(block.shape[-1])
            if progress is not None:
                done = 0.9 * stream.fraction_done()
                if done - reported >= 0.01:
                    reported = done
                    progress(done)
        if stream.bad_packets:
            warnings.append(f"{stream.bad_packets} damaged packets skipped")
        duration = stream.decoded_s
    if cancel is not None and cancel.is_set():
        raise AnalysisCancelled(str(path))
    series = spectral.finish()
    hop_s = 1.0 / series.fps
    power = loudness.segment_power()
    lufs = loudness.integrated()
    bounds = silence_bounds(series.peak, hop_s, duration)
    audible_s = 0.0 if bounds is None else bounds[1] - bounds[0]
    if bounds is None:
        warnings.append("silent")
    tempo = TempoResult(None, 0.0)
    key, key_conf = None, 0.0
    if audible_s >= MIN_TONAL_S and lufs is not None:
        tempo = estimate_tempo(series.onset, series.onset_low, series.fps, accents=_accents(series))
        key, key_conf = estimate_key(series.chroma, chroma_fps=series.chroma_fps, tempo=tempo)
    desc = descriptors(series, lufs, tempo.bpm)
    energy = energy_rating(desc) if lufs is not None else None
    features = feature_vector(series, desc, energy=energy, bpm_confidence=tempo.confidence,
                              key=key, key_confidence=key_conf,
                              short_term_lufs=short_term_lufs(power))  # fmt: skip
    timeline = transitions = None
    if is_long:
        if progress is not None:
            progress(0.93)
        timeline = segments.timeline(series, power, duration)
        transitions = segments.transitions(series)
    result = AnalysisResult(
        duration_s=round(duration, 3), sample_rate=info.sample_rate, channels=info.source_channels,
        codec=info.codec, bpm=tempo.bpm, bpm_confidence=tempo.confidence,
        bpm_alternative=tempo.alternative, beat_offset_s=tempo.beat_offset_s, beats=tempo.beats,
        key=key.name if key else None, camelot=key.camelot if key else None,
        open_key=key.open_key if key else None, key_confidence=key_conf, energy=energy,
        loudness_lufs=None if lufs is None else round(lufs, 2),
        true_peak_db=to_db(peaks.true_peak), sample_peak=round(peaks.sample_peak, 5),
        replaygain_db=replaygain_db(lufs),
        silence_start_s=bounds[0] if bounds else 0.0, silence_end_s=bounds[1] if bounds else 0.0,
        features=features, timeline=timeline, transitions=transitions, warnings=warnings,
    )  # fmt: skip
    waveform = build_waveform(
        series.peak, series.low, series.mid, series.high, series.fps, duration
    )
    if progress is not None:
        progress(1.0)
    return result, waveform
