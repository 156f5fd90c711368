"""EBU R128 / ITU-R BS.1770-4 integrated loudness, sample and true peak, ReplayGain 2 — streamed.

K-weighting is the BS.1770 pre-filter (high shelf) followed by the RLB high-pass, re-derived for the
file's own sample rate from the analogue parameters (as pyloudnorm does after Brecht De Man) so no
resampling is needed. Per channel the K-weighted squares are summed into 100 ms segments; gating blocks
(400 ms, 75 % overlap) are sums of four consecutive segments. Channel weights are 1.0 (mono/stereo).
True peak: 4× oversampling (48-tap polyphase FIR) evaluated only next to local maxima of |x| that
could beat the running true peak — intersample overs happen between large samples — so the cost is a
small fraction of full oversampling.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from scipy import signal

from backend.analysis.decode import BLOCK_SAMPLES, RollingBuffer

FloatArray = npt.NDArray[np.float32]

REFERENCE_LUFS = -18.0  # ReplayGain 2 reference level
ABSOLUTE_GATE_LUFS = -70.0
RELATIVE_GATE_LU = -10.0
# Added before K-weighting (see LoudnessMeter.feed): below the float32 resolution of any |x| > 1e-12.
DENORMAL_GUARD = np.float32(1e-20)


def k_weighting_sos(sample_rate: int) -> npt.NDArray[np.float64]:
    """Second-order sections of the K-weighting filter at ``sample_rate`` (exact at 48 kHz)."""
    fs = float(sample_rate)
    # Stage 1: high shelf (+4 dB above ~1.7 kHz), modelling the head (libebur128's derivation).
    f0, gain_db, q = 1681.974450955533, 3.999843853973347, 0.7071752369554196
    k = math.tan(math.pi * f0 / fs)
    vh = 10 ** (gain_db / 20.0)
    vb = vh**0.4996667741545416
    a0 = 1 + k / q + k * k
    shelf = [(vh + vb * k / q + k * k) / a0, 2 * (k * k - vh) / a0, (vh - vb * k / q + k * k) / a0,
             1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0]  # fmt: skip
    # Stage 2: RLB high-pass at ~38 Hz.
    f0, q = 38.13547087602444, 0.5003270373238773
    k = math.tan(math.pi * f0 / fs)
    a0 = 1 + k / q + k * k
    highpass = [1.0, -2.0, 1.0, 1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0]
    return np.array([shelf, highpass], dtype=np.float64)


class LoudnessMeter:
    """Feed (channels, n) blocks; read integrated loudness and the 100 ms power series."""

    def __init__(self, sample_rate: int, channels: int) -> None:
        self.sample_rate = sample_rate
        # float32 filtering is 3× faster than float64 and exact enough (segment sums are float64).
        self.sos = k_weighting_sos(sample_rate).astype(np.float32)
        self.zi = np.zeros((self.sos.shape[0], channels, 2), dtype=np.float32)
        self.segment = max(1, round(sample_rate * 0.1))
        # K-weighted squares not yet in a full segment, then the new block's.
        self._power = RollingBuffer(self.segment + BLOCK_SAMPLES)
        self._segments: list[npt.NDArray[np.float64]] = []
        self._input: FloatArray | None = None

    def feed(self, block: FloatArray) -> None:
        """Add a block of samples."""
        # In digital silence the shelf filter rings down into subnormal floats, which the CPU handles
        # many times slower (a FLAC with 2 % zero samples filtered 40 % slower). A DC offset far below
        # any real sample keeps the filter state normal; the RLB high-pass removes it again.
        if self._input is None or self._input.shape[-1] < block.shape[-1]:
            self._input = np.empty(block.shape, dtype=np.float32)
        guarded = np.add(block, DENORMAL_GUARD, out=self._input[..., : block.shape[-1]])
        weighted, self.zi = signal.sosfilt(self.sos, guarded, axis=-1, zi=self.zi)
        # Σ channels of squares, per sample, written behind the previous block's carry.
        np.einsum("ij,ij->j", weighted, weighted, out=self._power.space(block.shape[-1]))
        power = self._power.data()
        whole = len(power) // self.segment * self.segment
        if whole:
            self._segments.append(
                power[:whole].reshape(-1, self.segment).sum(axis=1, dtype=np.float64)
            )
        self._power.drop(whole)

    def segment_power(self) -> npt.NDArray[np.float64]:
        """Mean K-weighted power (Σ channels) of each complete 100 ms segment."""
        if not self._segments:
            return np.zeros(0)
        return np.concatenate(self._segments) / self.segment

    def integrated(self) -> float | None:
        """Gated integrated loudness in LUFS, or None for silence / audio shorter than 400 ms."""
        return integrated_loudness(self.segment_power())


def _lufs(power: npt.NDArray[np.float64] | float) -> npt.NDArray[np.float64]:
    return np.asarray(-0.691 + 10 * np.log10(np.maximum(power, 1e-20)))


def integrated_loudness(segment_power: npt.NDArray[np.float64]) -> float | None:
    """BS.1770-4 gating over 100 ms segment powers (see :class:`LoudnessMeter`)."""
    if len(segment_power) < 4:
        return None
    blocks = np.convolve(segment_power, np.ones(4) / 4.0, mode="valid")  # 400 ms, 75 % overlap
    gated = blocks[_lufs(blocks) > ABSOLUTE_GATE_LUFS]
    if gated.size == 0:
        return None
    relative = float(_lufs(gated.mean())) + RELATIVE_GATE_LU
    gated = gated[_lufs(gated) > relative]
    return float(_lufs(gated.mean())) if gated.size else None


def short_term_lufs(segment_power: npt.NDArray[np.float64], seconds: float = 3.0) -> FloatArray:
    """Loudness of sliding windows of ``seconds`` (one value per 100 ms segment; EBU short-term = 3 s)."""
    width = max(1, round(seconds * 10))
    if len(segment_power) == 0:
        return np.zeros(0, dtype=np.float32)
    smoothed = np.convolve(segment_power, np.ones(width) / width, mode="same")
    return _lufs(smoothed).astype(np.float32)


def replaygain_db(loudness_lufs: float | None) -> float | None:
    """ReplayGain 2 track gain: reference -18 LUFS minus the integrated loudness."""
    return None if loudness_lufs is None else round(REFERENCE_LUFS - loudness_lufs, 2)


def _true_peak_filter() -> npt.NDArray[np.float64]:
    # 4 phases × 12 taps; phase 0 reproduces the samples, phases 1..3 are the in-between points.
    taps = signal.firwin(48, 0.9 / 4, window=("kaiser", 8.0)) * 4
    return np.asarray(taps.reshape(12, 4).T[:, ::-1], dtype=np.float64)


class PeakMeter:
    """Sample peak and 4× oversampled true peak over streamed blocks (linear amplitude)."""

    _PHASES = _true_peak_filter()
    _HALF = 6

    def __init__(self) -> None:
        self.sample_peak = 0.0
        self.true_peak = 0.0
        self._tail: FloatArray | None = None  # the previous block's last 2·_HALF samples

    def feed(self, block: FloatArray, magnitude: FloatArray | None = None) -> None:
        """Add a (channels, n) block (``magnitude`` = its ``np.abs``, when the caller has it)."""
        mag = np.abs(block) if magnitude is None else magnitude
        block_peak = float(mag.max()) if mag.size else 0.0
        self.sample_peak = max(self.sample_peak, block_peak)
        h = self._HALF
        tail = self._tail
        peak = max(block_peak, float(np.abs(tail).max()) if tail is not None and tail.size else 0.0)
        if peak * 2.0 > self.true_peak:
            # Overs exceed the neighbouring samples by at most a few dB in practice: only samples above
            # half the best peak so far (that are local maxima) are candidates.
            threshold = np.float32(0.5 * max(self.true_peak, peak))
            if tail is not None:
                # The tail's last h samples and the block's first h lacked neighbours on one side:
                # they are searched in a small joined piece, the rest of the block in place.
                edge = np.concatenate([tail, block[..., : 2 * h]], axis=-1)
                self._search(edge, np.abs(edge), threshold, h, min(3 * h, edge.shape[-1] - h))
            self._search(block, mag, threshold, h, block.shape[-1] - h)
            self.true_peak = max(self.true_peak, self.sample_peak)
        joined = block if tail is None else np.concatenate([tail, block[..., -2 * h :]], axis=-1)
        self._tail = joined[..., -2 * h :].copy()

    def _search(self, data: FloatArray, mag: FloatArray, threshold: np.float32, lo: int,
                hi: int) -> None:  # fmt: skip
        """Raise true_peak from candidates data[..., lo:hi] (each needs _HALF samples either side)."""
        h = self._HALF
        for channel, a in zip(data, mag, strict=True):
            idx = np.flatnonzero(a[lo:hi] >= threshold) + lo
            if idx.size == 0:
                continue
            idx = idx[(a[idx] >= a[idx - 1]) & (a[idx] >= a[idx + 1])]
            if idx.size == 0:
                continue
            best = 0.0
            for start in (idx - h, idx - h + 1):  # between samples i-1..i and i..i+1
                windows = channel[start[:, None] + np.arange(12)].astype(np.float64)
                best = max(best, float(np.abs(windows @ self._PHASES.T).max()))
            self.true_peak = max(self.true_peak, best)


def to_db(amplitude: float) -> float | None:
    """Linear amplitude → dBFS (None for digital silence)."""
    return None if amplitude <= 0 else round(20 * math.log10(amplitude), 2)
