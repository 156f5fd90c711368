"""Streamed short-time spectral analysis: one STFT per block feeding every frame-level descriptor.

The analysis runs at the file's native rate (no resampling: see decode.py). Frame rate is ~43-47 Hz
(hop 1024 at 44.1/48 kHz, scaled for other rates), window = 2 hops. Per frame we keep only small
summaries — onset strength in three bands, waveform band levels, a 24-band log spectrum folded
into one-second means, and a 12-bin chroma from a separate long window — so a 3-hour file needs a few
MB, never the spectrogram. The series grow in place in preallocated buffers (sized from the declared
duration, doubled if it was wrong): thousands of small per-block arrays interleaved with the large
per-block temporaries fragmented the heap, and resident memory grew twice as fast as the data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view
from scipy import fft as sfft

from backend.analysis.decode import BLOCK_SAMPLES, RollingBuffer

FloatArray = npt.NDArray[np.float32]

N_BANDS = 24  # log-spaced bands 40 Hz – 16 kHz for timbre + onset detection
LOW_HZ, HIGH_HZ = 200.0, 2500.0  # coloured waveform split: low < 200 Hz ≤ mid < 2.5 kHz ≤ high
CHROMA_MIN_HZ, CHROMA_MAX_HZ = 50.0, 2200.0
BASS_MAX_HZ = 220.0
SUMMARY_S = 1.0  # timbre summaries are kept per second


def hop_for_rate(sample_rate: int) -> int:
    """Power-of-two hop giving ~43 frames per second (1024 at 44.1/48 kHz)."""
    return int(2 ** round(math.log2(sample_rate / 43.0)))


def _band_matrix(edges_hz: npt.NDArray[np.float64], n_fft: int, sr: int) -> FloatArray:
    """Triangular filters between consecutive ``edges_hz`` (like mel filters, on a log axis)."""
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sr)
    bands = np.zeros((len(freqs), len(edges_hz) - 2), dtype=np.float32)
    for i in range(len(edges_hz) - 2):
        lo, mid, hi = edges_hz[i], edges_hz[i + 1], edges_hz[i + 2]
        up = (freqs - lo) / (mid - lo)
        down = (hi - freqs) / (hi - mid)
        bands[:, i] = np.maximum(0.0, np.minimum(up, down))
    # Narrow low bands may fall between bins: give each at least its nearest bin.
    for i in range(bands.shape[1]):
        if bands[:, i].sum() == 0:
            bands[int(np.argmin(np.abs(freqs - edges_hz[i + 1]))), i] = 1.0
    return bands


def _chroma_matrix(n_fft: int, sr: int) -> FloatArray:
    """Bins → 12 pitch classes (C = 0) × 2 registers (bass < BASS_MAX_HZ, then the rest).

    Each bin is cosine-weighted by its distance to the nearest semitone.
    """
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sr)
    out = np.zeros((len(freqs), 24), dtype=np.float32)
    ok = (freqs >= CHROMA_MIN_HZ) & (freqs <= CHROMA_MAX_HZ)
    midi = 69 + 12 * np.log2(freqs[ok] / 440.0)
    nearest = np.round(midi)
    weight = np.cos(np.pi * (midi - nearest)) ** 2  # 1 on the semitone, 0 between semitones
    # Bins at low frequencies are wide in semitones: the weighting above already discounts them.
    rows = np.nonzero(ok)[0]
    register = np.where(freqs[ok] < BASS_MAX_HZ, 0, 12)
    out[rows, nearest.astype(int) % 12 + register] = weight
    return out


class _Growing:
    """An append-only float32 array of rows (``width`` columns, or 1-D when None)."""

    def __init__(self, capacity: int, width: int | None = None) -> None:
        self.width = width
        self.data = np.empty((max(capacity, 16),) if width is None else (max(capacity, 16), width),
                             dtype=np.float32)  # fmt: skip
        self.n = 0

    def append(self, rows: npt.NDArray[np.floating]) -> None:
        end = self.n + len(rows)
        if end > len(self.data):
            grown = np.empty((max(end, 2 * len(self.data)), *self.data.shape[1:]), dtype=np.float32)
            grown[: self.n] = self.data[: self.n]
            self.data = grown
        self.data[self.n : end] = rows
        self.n = end

    def array(self) -> FloatArray:
        return self.data[: self.n]


@dataclass
class FrameSeries:
    """Everything the track-level estimators need, at frame rate ``fps`` (and 1 Hz for ``timbre``)."""

    fps: float
    onset: FloatArray  # full-band spectral flux
    onset_low: FloatArray  # flux below ~150 Hz (kicks)
    rms: FloatArray  # frame RMS (mono mix)
    low: FloatArray  # waveform band amplitudes
    mid: FloatArray
    high: FloatArray
    peak: FloatArray  # max |x| over each hop, across channels
    centroid: FloatArray  # spectral centroid, Hz
    timbre: FloatArray  # (seconds, N_BANDS) mean log band energy per second
    chroma: FloatArray  # (chroma frames, 24): bass pitch classes 0..11, upper register 12..23
    chroma_fps: float


class SpectralAnalyzer:
    """Feed (channels, n) blocks at ``sample_rate``; ``finish()`` returns a :class:`FrameSeries`."""

    def __init__(self, sample_rate: int, expected_s: float | None = None) -> None:
        sr = sample_rate
        self.sr = sr
        self.hop = hop_for_rate(sr)
        self.n_fft = 2 * self.hop
        self.window = np.hanning(self.n_fft).astype(np.float32)
        top = min(16000.0, 0.45 * sr)
        edges = np.geomspace(40.0, top, N_BANDS + 2)
        self.bands = _band_matrix(edges, self.n_fft, sr)
        centres = edges[1:-1]
        self.low_bands = centres < 150.0
        freqs = np.fft.rfftfreq(self.n_fft, 1.0 / sr).astype(np.float32)
        # One matrix product gives the 24 bands, low/mid/high, total power and the centroid numerator.
        extra = np.stack([freqs < LOW_HZ, (freqs >= LOW_HZ) & (freqs < HIGH_HZ), freqs >= HIGH_HZ,
                          np.ones_like(freqs), freqs], axis=1).astype(np.float32)  # fmt: skip
        self.matrix = np.ascontiguousarray(np.hstack([self.bands, extra]))
        # Long window for chroma: ~0.37 s at 44.1 kHz gives 2.7 Hz bins (a semitone at 50 Hz is 3 Hz).
        self.c_hop = 8 * self.hop
        self.c_fft = 16 * self.hop
        self.c_window = np.hanning(self.c_fft).astype(np.float32)
        self.c_matrix = _chroma_matrix(self.c_fft, sr)
        c_rows = np.nonzero(self.c_matrix.any(axis=1))[0]
        self.c_lo, self.c_hi = int(c_rows[0]), int(c_rows[-1]) + 1
        self.c_matrix = self.c_matrix[self.c_lo : self.c_hi]
        # Pending per-sample peaks (less than a hop) and mono samples not yet in a frame, in reused
        # buffers; _s_next / _c_next are where the next STFT / chroma frame starts in the mono window.
        self._peaks = RollingBuffer(2 * self.hop + BLOCK_SAMPLES)
        self._mono = RollingBuffer(self.c_fft + BLOCK_SAMPLES)
        self._s_next = self._c_next = 0
        self._scratch: dict[str, FloatArray] = {}
        self._prev_log: FloatArray | None = None
        self._per_s = max(1, round(sr / self.hop * SUMMARY_S))
        # A corrupt header may declare any duration: the buffers start at most 8 hours long (they grow).
        frames = int(min(expected_s or 600.0, 8 * 3600.0) * sr / self.hop) + 64
        self._parts = {k: _Growing(frames) for k in (
            "onset", "onset_low", "rms", "low", "mid", "high", "centroid", "peak")}  # fmt: skip
        self._parts["timbre"] = _Growing(frames // self._per_s + 4, N_BANDS)
        self._parts["chroma"] = _Growing(frames // 8 + 4, 24)
        self._frames_seen = 0
        self._lb_pending = np.zeros((0, N_BANDS), dtype=np.float32)

    def feed(
        self, block: FloatArray, *, final: bool = False, magnitude: FloatArray | None = None
    ) -> None:
        """Analyse a block; ``final`` pads the last partial frame with zeros."""
        mag = np.abs(block) if magnitude is None else magnitude
        n = block.shape[1]
        np.max(mag, axis=0, out=self._peaks.space(n))
        mono = self._mono.space(n)
        if block.shape[0] == 2:  # = mean(axis=0), bit for bit, without the slow axis-0 reduction
            np.add(block[0], block[1], out=mono)
            mono *= np.float32(0.5)
        else:
            np.mean(block, axis=0, dtype=np.float32, out=mono)
        self._feed_peaks(final)
        self._feed_spectra(final)

    def _feed_peaks(self, final: bool) -> None:
        data = self._peaks.data()
        whole = len(data) // self.hop * self.hop
        if whole:
            self._parts["peak"].append(data[:whole].reshape(-1, self.hop).max(axis=1))
        if final and len(data) > whole:
            self._parts["peak"].append(np.array([data[whole:].max()], dtype=np.float32))
            whole = len(data)
        self._peaks.drop(whole)

    @staticmethod
    def _frames(data: FloatArray, n: int, hop: int,
                final: bool) -> tuple[npt.NDArray[np.float32] | None, int]:  # fmt: skip
        """Frames of ``n`` samples every ``hop`` from the start of ``data``, and the samples consumed."""
        if final:
            pad = (-(len(data) - n) % hop) if len(data) > n else n - len(data)
            data = np.concatenate([data, np.zeros(pad, dtype=np.float32)])
        if len(data) < n:
            return None, 0
        count = (len(data) - n) // hop + 1
        return sliding_window_view(data, n)[::hop][:count], count * hop

    def _buffer(self, name: str, rows: int, width: int) -> FloatArray:
        """A (rows, width) scratch array reused from block to block."""
        buf = self._scratch.get(name)
        if buf is None or len(buf) < rows:
            buf = self._scratch[name] = np.empty((rows, width), dtype=np.float32)
        return buf[:rows]

    def _work(self, name: str, frames: npt.NDArray[np.float32], window: FloatArray) -> FloatArray:
        """``frames * window`` in a reused buffer."""
        return np.multiply(frames, window, out=self._buffer(name, len(frames), len(window)))

    def _feed_spectra(self, final: bool) -> None:
        data = self._mono.data()
        frames, used = self._frames(data[self._s_next :], self.n_fft, self.hop, final)
        if frames is not None:
            self._feed_stft(frames)
        self._s_next += used
        frames, used = self._frames(data[self._c_next :], self.c_fft, self.c_hop, final)
        if frames is not None:
            self._feed_chroma(frames)
        self._c_next += used
        consumed = min(self._s_next, self._c_next, len(data))
        self._mono.drop(consumed)
        self._s_next -= consumed
        self._c_next -= consumed

    def _feed_stft(self, frames: npt.NDArray[np.float32]) -> None:
        spec = sfft.rfft(self._work("stft", frames, self.window), axis=1, overwrite_x=True)
        # |X|² = re² + im², squared in place on the interleaved floats (no strided temporaries).
        parts = spec.view(np.float32)
        np.square(parts, out=parts)
        power = np.add(parts[:, 0::2], parts[:, 1::2],
                       out=self._buffer("power", *spec.shape))  # fmt: skip
        # Amplitude scale: a full-scale sine reads ~0.707 (its RMS).
        norm = np.float32(2.0 / ((self.window**2).sum() * self.n_fft))
        sums = power @ self.matrix
        band_e = sums[:, :N_BANDS]
        low, mid, high, total, weighted = (sums[:, N_BANDS + i] for i in range(5))
        log_b = np.log1p(band_e * np.float32(1e3))
        prev = self._prev_log if self._prev_log is not None else log_b[:1]
        diff = np.diff(np.vstack([prev, log_b]), axis=0)
        np.maximum(diff, 0.0, out=diff)
        self._prev_log = log_b[-1:]
        p = self._parts
        p["onset"].append(diff.sum(axis=1))
        p["onset_low"].append(diff[:, self.low_bands].sum(axis=1))
        p["rms"].append(np.sqrt(total * norm))
        p["low"].append(np.sqrt(low * norm))
        p["mid"].append(np.sqrt(mid * norm))
        p["high"].append(np.sqrt(high * norm))
        p["centroid"].append(weighted / np.maximum(total, np.float32(1e-12)))
        # Fold the log spectrum into one-second means as we go: per-frame rows of a 3-hour file
        # would cost ~45 MB.
        logbands = np.log10(band_e * norm + np.float32(1e-10))
        if len(self._lb_pending):
            logbands = np.vstack([self._lb_pending, logbands])
        whole = len(logbands) // self._per_s * self._per_s
        if whole:
            p["timbre"].append(logbands[:whole].reshape(-1, self._per_s, N_BANDS).mean(axis=1))
        self._lb_pending = logbands[whole:]
        self._frames_seen += len(frames)

    def _feed_chroma(self, frames: npt.NDArray[np.float32]) -> None:
        spec = sfft.rfft(self._work("chroma", frames, self.c_window), axis=1, overwrite_x=True)
        self._parts["chroma"].append(np.abs(spec[:, self.c_lo : self.c_hi]) @ self.c_matrix)

    def finish(self) -> FrameSeries:
        """Flush the last partial frames and return the series."""
        self.feed(np.zeros((1, 0), dtype=np.float32), final=True)

        if len(self._lb_pending):  # the last partial second still counts
            self._parts["timbre"].append(self._lb_pending.mean(axis=0, keepdims=True))
            self._lb_pending = self._lb_pending[:0]

        def cat(name: str) -> FloatArray:
            return self._parts[name].array()

        return FrameSeries(
            fps=self.sr / self.hop, onset=cat("onset"), onset_low=cat("onset_low"), rms=cat("rms"),
            low=cat("low"), mid=cat("mid"), high=cat("high"), peak=cat("peak"),
            centroid=cat("centroid"), timbre=cat("timbre"), chroma=cat("chroma"),
            chroma_fps=self.sr / self.c_hop,
        )  # fmt: skip
