"""Waveform overview for the player and the coloured waveform: peaks + low/mid/high band levels.

Level 0 has one point per analysis hop (~43 per second); each further level merges 4 points
(max for peaks, RMS for bands), down to a few hundred points. Values are uint8: peaks scale linear
amplitude 0..1 to 0..255; bands are scaled by one per-file factor (stored) so their relative loudness
across time stays true. ``to_bytes()`` is a small header + zlib-compressed arrays.
"""

from __future__ import annotations

import json
import struct
import zlib
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

U8 = npt.NDArray[np.uint8]
FloatArray = npt.NDArray[np.float32]

_MAGIC = b"TKWF1"
_MIN_POINTS = 256


@dataclass(frozen=True)
class WaveformLevel:
    """One resolution: ``points_per_s`` points of peak/low/mid/high (uint8 each)."""

    points_per_s: float
    peak: U8
    low: U8
    mid: U8
    high: U8


@dataclass(frozen=True)
class Waveform:
    """All resolutions of a file's overview, finest first."""

    duration_s: float
    band_scale: float  # amplitude that maps to 255 in the band arrays
    levels: tuple[WaveformLevel, ...]

    def level_for(self, points: int) -> WaveformLevel:
        """Coarsest level that still has at least ``points`` points over the whole file."""
        for level in reversed(self.levels):
            if len(level.peak) >= points:
                return level
        return self.levels[0]

    def to_bytes(self) -> bytes:
        """Compact serialisation (see module docstring)."""
        header = {
            "duration_s": self.duration_s,
            "band_scale": self.band_scale,
            "levels": [[lv.points_per_s, len(lv.peak)] for lv in self.levels],
        }
        head = json.dumps(header, separators=(",", ":")).encode()
        body = b"".join(
            np.stack([lv.peak, lv.low, lv.mid, lv.high]).tobytes() for lv in self.levels
        )
        return _MAGIC + struct.pack("<I", len(head)) + head + zlib.compress(body, 6)

    @classmethod
    def from_bytes(cls, data: bytes) -> Waveform:
        """Inverse of :meth:`to_bytes`."""
        if not data.startswith(_MAGIC):
            raise ValueError("not a Tracktion waveform")
        (n,) = struct.unpack_from("<I", data, len(_MAGIC))
        start = len(_MAGIC) + 4
        header = json.loads(data[start : start + n])
        body = np.frombuffer(zlib.decompress(data[start + n :]), dtype=np.uint8)
        levels = []
        pos = 0
        for pps, count in header["levels"]:
            arr = body[pos : pos + 4 * count].reshape(4, count)
            pos += 4 * count
            levels.append(WaveformLevel(float(pps), arr[0].copy(), arr[1].copy(), arr[2].copy(),
                                        arr[3].copy()))  # fmt: skip
        return cls(float(header["duration_s"]), float(header["band_scale"]), tuple(levels))


def _u8(values: FloatArray, scale: float) -> U8:
    return np.clip(np.round(values / scale * 255.0), 0, 255).astype(np.uint8)


def _pool(values: FloatArray, factor: int, how: str) -> FloatArray:
    n = len(values) // factor * factor
    if n == 0:
        return values[:0]
    blocks = values[:n].reshape(-1, factor)
    if how == "max":
        return np.asarray(blocks.max(axis=1), dtype=np.float32)
    return np.asarray(np.sqrt((blocks.astype(np.float64) ** 2).mean(axis=1)), dtype=np.float32)


def build_waveform(peak: FloatArray, low: FloatArray, mid: FloatArray, high: FloatArray,
                   points_per_s: float, duration_s: float) -> Waveform:  # fmt: skip
    """Build every level from the hop-rate series computed during analysis."""
    n = min(len(peak), len(low), len(mid), len(high))
    peak, low, mid, high = peak[:n], low[:n], mid[:n], high[:n]
    stacked = np.concatenate([low, mid, high]) if n else np.zeros(1, dtype=np.float32)
    band_scale = float(max(np.percentile(stacked, 99.5), 1e-6))
    levels = []
    pps = points_per_s
    while True:
        levels.append(WaveformLevel(pps, _u8(peak, 1.0), _u8(low, band_scale), _u8(mid, band_scale),
                                    _u8(high, band_scale)))  # fmt: skip
        if len(peak) < 4 * _MIN_POINTS:
            break
        peak, low, mid, high = (_pool(peak, 4, "max"), _pool(low, 4, "rms"), _pool(mid, 4, "rms"),
                                _pool(high, 4, "rms"))  # fmt: skip
        pps /= 4.0
    return Waveform(round(duration_s, 3), band_scale, tuple(levels))
