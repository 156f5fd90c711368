"""Identity of a file's audio: a BLAKE2b hash of the audio payload only, streamed in blocks.

Tag blocks are left out (ID3v2/ID3v1/APE/Lyrics3 around MP3 and FLAC, FLAC metadata blocks, everything but
``mdat`` in MP4, everything but ``fmt``/``data`` (``COMM``/``SSND``) in WAV/AIFF, the ASF header object, and
the comment header packet of an Ogg stream), so editing tags keeps the fingerprint and any change to the
audio changes it. The fingerprint is what lets a moved or re-tagged file stay the same track.
"""

from __future__ import annotations

import hashlib
import io
import os
import struct
from collections.abc import Iterator
from typing import BinaryIO

from backend.catalog.formats import ASF_HEADER_GUID, Format, id3v2_size, sniff_stream

CHUNK = 1 << 20
DIGEST_SIZE = 16  # 32 hex characters; collisions are not a concern at library sizes
Range = tuple[int, int]


class FingerprintError(ValueError):
    """The file has no audio payload to identify it by (empty, or only tags)."""


def fingerprint_file(path: str, fmt: Format | None = None) -> str:
    """The hex fingerprint of ``path``'s audio payload; ``fmt`` skips sniffing when already known."""
    with open(path, "rb") as fh:
        return fingerprint_stream(fh, fmt if fmt is not None else sniff_stream(fh))


def fingerprint_stream(fh: BinaryIO, fmt: Format | None) -> str:
    """``fingerprint_file`` on an open file (or a file read into memory) of container ``fmt``."""
    size = fh.seek(0, os.SEEK_END)
    if size == 0:
        raise FingerprintError("empty file (0 bytes)")
    h = hashlib.blake2b(digest_size=DIGEST_SIZE)
    if fmt in ("ogg", "opus"):
        hashed = _hash_ogg(fh, h)
    else:
        hashed = 0
        for start, end in _payload_ranges(fh, size, fmt):
            hashed += _hash_range(fh, h, start, end)
    if hashed == 0:
        raise FingerprintError("no audio data (the file holds only tags or headers)")
    return h.hexdigest()


def _hash_range(fh: BinaryIO, h: hashlib.blake2b, start: int, end: int) -> int:
    if isinstance(fh, io.BytesIO):  # a file read into memory: hash it in place, without a copy
        with fh.getbuffer() as view, view[start:end] as part:
            h.update(part)
            return len(part)
    fh.seek(start)
    remaining = end - start
    done = 0
    while remaining > 0:
        block = fh.read(min(CHUNK, remaining))
        if not block:
            break  # truncated file: hash what is there
        h.update(block)
        remaining -= len(block)
        done += len(block)
    return done


def _payload_ranges(fh: BinaryIO, size: int, fmt: Format | None) -> list[Range]:
    if fmt == "mp4":
        return list(_mp4_ranges(fh, size))
    if fmt == "wav":
        return list(_iff_ranges(fh, size, 12, "<", {b"fmt ", b"data", b"ds64"}))
    if fmt == "aiff":
        return list(_iff_ranges(fh, size, 12, ">", {b"COMM", b"SSND"}))
    if fmt == "asf":
        return _asf_ranges(fh, size)
    start = _skip_leading_id3(fh, size)
    if fmt == "flac":
        start = _skip_flac_metadata(fh, size, start)
    return [(start, _strip_trailing_tags(fh, start, size))]


def _skip_leading_id3(fh: BinaryIO, size: int) -> int:
    """Offset after any ID3v2 tags at the start (some files carry several)."""
    pos = 0
    while pos < size:
        fh.seek(pos)
        tag = id3v2_size(fh.read(10))
        if not tag:
            break
        pos += tag
    return min(pos, size)


def _skip_flac_metadata(fh: BinaryIO, size: int, start: int) -> int:
    fh.seek(start)
    if fh.read(4) != b"fLaC":
        return start
    pos = start + 4
    while pos + 4 <= size:
        fh.seek(pos)
        header = fh.read(4)
        last = header[0] & 0x80
        pos += 4 + int.from_bytes(header[1:4], "big")
        if last:
            break
    return min(pos, size)


def _strip_trailing_tags(fh: BinaryIO, start: int, end: int) -> int:
    """End of the audio once ID3v1 (and its extended block), APEv2, Lyrics3v2 and ID3v2 footers are cut."""
    while end - start >= 10:
        fh.seek(max(start, end - 128))
        tail = fh.read(end - max(start, end - 128))
        if len(tail) == 128 and tail[:3] == b"TAG":
            end -= 128
            fh.seek(max(start, end - 227))
            if end - 227 >= start and fh.read(4) == b"TAG+":
                end -= 227
            continue
        if tail[-32:-24] == b"APETAGEX":
            tag_size, flags = struct.unpack("<I4xI", tail[-20:-8])
            has_header = flags & 0x80000000
            end -= tag_size + (32 if has_header else 0)
            continue
        if tail[-9:] == b"LYRICS200" and tail[-15:-9].isdigit():
            end -= int(tail[-15:-9]) + 15
            continue
        if tail[-10:-7] == b"3DI":
            footer = tail[-10:]
            end -= id3v2_size(b"ID3" + footer[3:])
            continue
        break
    return max(start, end)


def _mp4_ranges(fh: BinaryIO, size: int) -> Iterator[Range]:
    """The payload of every top-level ``mdat`` box (``moov`` with its ``udta``/``ilst`` tags is skipped)."""
    pos = 0
    while pos + 8 <= size:
        fh.seek(pos)
        header = fh.read(16)
        box_size, kind = struct.unpack(">I4s", header[:8])
        body = pos + 8
        if box_size == 1 and len(header) == 16:
            box_size = struct.unpack(">Q", header[8:16])[0]
            body = pos + 16
        elif box_size == 0:
            box_size = size - pos
        if box_size < 8:
            break  # corrupt box: stop rather than loop forever
        if kind == b"mdat":
            yield body, min(pos + box_size, size)
        pos += box_size


def _iff_ranges(
    fh: BinaryIO, size: int, first: int, endian: str, keep: set[bytes]
) -> Iterator[Range]:
    """Chunk bodies named in ``keep`` of a RIFF (little-endian) or FORM/AIFF (big-endian) file."""
    pos = first
    fmt = endian + "4sI"
    while pos + 8 <= size:
        fh.seek(pos)
        kind, length = struct.unpack(fmt, fh.read(8))
        end = min(pos + 8 + length, size)
        if kind in keep:
            yield pos + 8, end
        if length == 0xFFFFFFFF:  # streamed WAV with unknown data size: data runs to the end
            break
        pos += 8 + length + (length & 1)  # chunks are padded to an even length


def _asf_ranges(fh: BinaryIO, size: int) -> list[Range]:
    """Everything after the ASF header object (which holds all the metadata)."""
    fh.seek(0)
    header = fh.read(24)
    if header[:16] != ASF_HEADER_GUID:
        return [(0, size)]
    (length,) = struct.unpack("<Q", header[16:24])
    return [(min(length, size), size)]


def _hash_ogg(fh: BinaryIO, h: hashlib.blake2b) -> int:
    """Hash the packet data of every logical stream, except packet 1 (the Vorbis/Opus comment header).

    Page headers are left out too: tag writers renumber pages and repack the header packets, which would
    otherwise change the hash without any change to the audio.
    """
    fh.seek(0)
    packet_index: dict[int, int] = {}
    hashed = 0
    while True:
        header = fh.read(27)
        if len(header) < 27 or header[:4] != b"OggS":
            break  # end of file, or a truncated/corrupt page: hash what came before
        serial = struct.unpack("<I", header[14:18])[0]
        lacing = fh.read(header[26])
        body = fh.read(sum(lacing))
        index = packet_index.get(serial, 0)
        if index >= 2:
            # Past the header packets: whole page bodies are packet data we keep.
            h.update(body)
            hashed += len(body)
            packet_index[serial] = index + sum(1 for v in lacing if v < 255)
            continue
        offset = 0
        for value in lacing:
            segment = body[offset : offset + value]
            offset += value
            if index != 1:
                h.update(segment)
                hashed += len(segment)
            if value < 255:
                index += 1
        packet_index[serial] = index
    return hashed
