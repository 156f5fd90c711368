"""Streamed decoding of any catalogued audio format with PyAV (bundled ffmpeg, no system ffmpeg).

Frames are converted straight from the decoder's planes (no ffmpeg filter graph: PyAV's resampler costs
more than the decoding itself) and gathered into blocks of ``block_samples`` per channel at the file's
native rate, at most two channels (more are folded to mono). Only one block is alive at a time, so a
3-hour file costs the same memory as a 3-minute one. Every loop is bounded (by packets, decoded seconds
and consecutive errors) so a corrupt file can never hang a worker.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import av
import numpy as np
import numpy.typing as npt

Block = npt.NDArray[np.float32]  # shape (channels, n), float32 in [-1, 1]

BLOCK_SAMPLES = 131072  # per channel: ~3 s at 44.1 kHz
MAX_SECONDS = 8 * 3600.0  # longer than any DJ mix; guards against runaway streams
_MAX_PACKETS = 60_000_000
_MAX_CONSECUTIVE_ERRORS = 200
_EXACT_DURATION_CODECS = ("pcm_", "flac", "alac", "wavpack", "ape", "tta")
_INT_SCALE = {"u8": 128.0, "s16": 32768.0, "s32": 2147483648.0, "s64": 9.223372036854776e18}


class DecodeError(Exception):
    """The file cannot be decoded; ``reason`` says why in words a user understands."""

    def __init__(self, reason: str, path: str | os.PathLike[str] | None = None) -> None:
        self.reason = reason
        self.path = str(path) if path is not None else None
        super().__init__(f"{reason}: {self.path}" if self.path else reason)


@dataclass(frozen=True)
class StreamInfo:
    """What the container says about the audio stream (before decoding)."""

    sample_rate: int
    channels: int  # channels delivered by the decoder (1 or 2)
    source_channels: int
    duration_s: float | None  # declared duration, if the container knows it
    codec: str
    container: str
    exact_duration: bool  # True when the declared duration is exact (PCM, FLAC, ALAC...)


class RollingBuffer:
    """The newest samples of a stream (shape ``(*rows, n)``) in one reused buffer: history, then new.

    The meters append each block behind what they still need of the previous ones. A ``concatenate``
    per block and meter instead costs a fresh array each time, and mapping its pages in costs more
    than copying the samples.
    """

    def __init__(self, capacity: int, rows: tuple[int, ...] = ()) -> None:
        self.buf = np.empty((*rows, capacity), dtype=np.float32)
        self.n = 0

    def space(self, count: int) -> npt.NDArray[np.float32]:
        """A view for the next ``count`` samples, which the caller writes; grows the buffer if needed."""
        if self.n + count > self.buf.shape[-1]:
            grown = np.empty((*self.buf.shape[:-1], max(self.n + count, 2 * self.buf.shape[-1])),
                             dtype=np.float32)  # fmt: skip
            grown[..., : self.n] = self.buf[..., : self.n]
            self.buf = grown
        self.n += count
        return self.buf[..., self.n - count : self.n]

    def push(self, samples: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """Append ``samples`` and return everything held."""
        self.space(samples.shape[-1])[...] = samples
        return self.data()

    def data(self) -> npt.NDArray[np.float32]:
        return self.buf[..., : self.n]

    def drop(self, count: int) -> None:
        """Forget the oldest ``count`` samples."""
        count = max(0, min(count, self.n))
        rest = self.n - count
        self.buf[..., :rest] = self.buf[..., count : self.n].copy()
        self.n = rest


def _declared_duration(container: Any, stream: Any) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return float(container.duration) / 1_000_000.0
    return None


def _missing_pcm_bytes(path: Path, size: int) -> int:
    """Bytes a WAV/AIFF header promises beyond the end of the file (ffmpeg silently plays what is there).

    Streaming writers put 0 or 0xFFFFFFFF in the size field when they cannot seek back: not truncation.
    """
    try:
        with open(path, "rb") as fh:
            head = fh.read(1 << 16)
    except OSError:
        return 0
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        tag, order = b"data", "<"
    elif head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        tag, order = b"SSND", ">"
    else:
        return 0
    pos = 12
    while pos + 8 <= len(head):
        chunk, (length,) = head[pos : pos + 4], struct.unpack(order + "I", head[pos + 4 : pos + 8])
        if chunk == tag:
            if length in (0, 0xFFFFFFFF):
                return 0
            return max(0, pos + 8 + int(length) - size)
        pos += 8 + length + (length & 1)
    return 0


def _frame_planes(frame: Any, channels: int) -> list[npt.NDArray[np.float32]]:
    """Decoded frame → one float32 array per channel, without PyAV's filter-graph resampler.

    The common decoder outputs (planar float from mp3/aac/vorbis/opus/wma) are views on the frame's
    buffers; one Python-level step per frame matters when an mp3 has 14k frames per 6 minutes.
    """
    fmt = frame.format.name
    n = frame.samples
    if fmt == "fltp":
        return [np.frombuffer(p, np.float32, n) for p in frame.planes[:channels]]
    base = fmt.rstrip("p")
    raw = frame.to_ndarray()
    if not fmt.endswith("p"):
        raw = raw.reshape(n, -1).T
    raw = raw[:channels]
    if base in ("dbl", "flt"):
        data = raw.astype(np.float32, copy=False)
    elif base == "u8":
        data = (raw.astype(np.float32) - np.float32(128.0)) / np.float32(128.0)
    else:
        data = raw.astype(np.float32) / np.float32(_INT_SCALE[base])
    return list(data)


class AudioStream:
    """Context manager yielding blocks of native-rate float32 audio; see module docstring."""

    def __init__(self, path: str | os.PathLike[str], *, block_samples: int = BLOCK_SAMPLES,
                 max_seconds: float = MAX_SECONDS) -> None:  # fmt: skip
        self.path = Path(path)
        self.block_samples = block_samples
        self.max_seconds = max_seconds
        self.decoded_samples = 0
        self.bad_packets = 0
        self._container: Any = None
        self._stream: Any = None
        self._size = 0
        self._pos = 0
        self.info = self._open()

    def _open(self) -> StreamInfo:
        try:
            self._size = self.path.stat().st_size
        except FileNotFoundError:
            raise DecodeError("file not found", self.path) from None
        except OSError as exc:
            raise DecodeError(f"cannot read file ({exc.strerror})", self.path) from None
        if self._size == 0:
            raise DecodeError("file is empty (0 bytes)", self.path)
        try:
            self._container = av.open(str(self.path), metadata_errors="ignore")
        except av.error.InvalidDataError:
            raise DecodeError(
                "not a recognised audio file (unknown or corrupt data)", self.path
            ) from None
        except (av.error.FFmpegError, OSError) as exc:
            raise DecodeError(f"cannot open audio ({exc})", self.path) from None
        if not self._container.streams.audio:
            self._container.close()
            raise DecodeError("no audio stream in file", self.path)
        stream = self._container.streams.audio[0]
        self._stream = stream
        ctx = stream.codec_context
        source_channels = int(ctx.channels or 0)
        rate = int(ctx.sample_rate or stream.rate or 0)
        if rate <= 0 or source_channels <= 0:
            self._container.close()
            raise DecodeError(
                "audio stream has no sample rate or channels (corrupt header)", self.path
            )
        codec = str(ctx.name)
        return StreamInfo(
            sample_rate=rate,
            channels=2 if source_channels == 2 else 1,
            source_channels=source_channels,
            duration_s=_declared_duration(self._container, stream),
            codec=codec,
            container=str(self._container.format.name),
            exact_duration=codec.startswith(_EXACT_DURATION_CODECS),
        )

    @property
    def decoded_s(self) -> float:
        """Seconds decoded so far."""
        return self.decoded_samples / self.info.sample_rate

    def fraction_done(self) -> float:
        """Progress in 0..1: decoded time over declared duration, else byte position over size."""
        if self.info.duration_s:
            return min(1.0, self.decoded_s / self.info.duration_s)
        return min(1.0, self._pos / self._size) if self._size else 0.0

    def _frames(self) -> Iterator[Any]:
        consecutive_errors = 0
        for count, packet in enumerate(self._container.demux(self._stream)):
            if count > _MAX_PACKETS:
                raise DecodeError("too many packets (runaway stream)", self.path)
            if packet.pos is not None and packet.pos > 0:
                self._pos = packet.pos
            try:
                frames = packet.decode()
            except av.error.FFmpegError:
                # A damaged packet: skip it like players do, unless the damage never ends.
                self.bad_packets += 1
                consecutive_errors += 1
                if consecutive_errors > _MAX_CONSECUTIVE_ERRORS:
                    raise DecodeError(
                        "corrupt audio data (undecodable packets)", self.path
                    ) from None
                continue
            consecutive_errors = 0
            yield from frames

    def blocks(self) -> Iterator[Block]:
        """Yield (channels, ≤ block_samples) float32 blocks until the end of the stream.

        Each frame is copied once, straight into a fresh block buffer (a new one per block: consumers
        may keep views of the previous block).
        """
        info = self.info
        folded = info.source_channels > 2
        take = info.source_channels if folded else info.channels
        size = self.block_samples
        buf = np.empty((take, size), dtype=np.float32)
        pos = 0
        limit = int(self.max_seconds * info.sample_rate)
        try:
            for frame in self._frames():
                if frame.sample_rate != info.sample_rate:
                    self.bad_packets += 1  # a stray frame at another rate (broken rips): drop it
                    continue
                planes = _frame_planes(frame, take)
                if len(planes) != take:
                    self.bad_packets += 1  # channel layout changed mid-stream: drop the frame
                    continue
                n = len(planes[0])
                if pos + n > buf.shape[1]:
                    if pos:
                        yield self._fold(buf[:, :pos], folded)
                    buf, pos = np.empty((take, max(size, n)), dtype=np.float32), 0
                for row, plane in zip(buf, planes, strict=True):
                    row[pos : pos + n] = plane
                pos += n
                self.decoded_samples += n
                if self.decoded_samples > limit:
                    raise DecodeError(f"longer than {self.max_seconds / 3600:.0f} hours", self.path)
        except av.error.FFmpegError as exc:
            raise DecodeError(f"decoding failed ({exc})", self.path) from None
        if pos:
            yield self._fold(buf[:, :pos], folded)
        self._check_complete()

    @staticmethod
    def _fold(block: Block, folded: bool) -> Block:
        # Surround is folded to mono: channel weights of BS.1770 matter little for DJ material.
        return block.mean(axis=0, keepdims=True, dtype=np.float32) if folded else block

    def _check_complete(self) -> None:
        info = self.info
        if self.decoded_samples == 0:
            raise DecodeError("no decodable audio (truncated or corrupt file)", self.path)
        missing = _missing_pcm_bytes(self.path, self._size)
        if missing > 0:
            raise DecodeError(f"truncated file: {missing} bytes of audio data missing", self.path)
        declared = info.duration_s
        if (
            info.exact_duration
            and declared
            and self.decoded_s < declared - max(0.5, 0.02 * declared)
        ):
            raise DecodeError(
                f"truncated file: decoded {self.decoded_s:.1f} s of {declared:.1f} s", self.path
            )

    def close(self) -> None:
        """Release the decoder."""
        if self._container is not None:
            self._container.close()
            self._container = None

    def __enter__(self) -> AudioStream:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:  # fmt: skip
        self.close()


def decode_all(
    path: str | os.PathLike[str], *, on_block: Callable[[Block], None] | None = None
) -> float:
    """Decode a whole file block by block (the decode-only floor in benchmarks); returns seconds decoded."""
    with AudioStream(path) as stream:
        for block in stream.blocks():
            if on_block is not None:
                on_block(block)
        return stream.decoded_s
