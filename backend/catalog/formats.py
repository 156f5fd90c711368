"""Which audio container a file is, decided from its first bytes (never from its extension).

The extension only decides whether a file is worth opening during a walk (see ``is_candidate``); what it
*is* comes from ``sniff``. A FLAC file named ``.mp3`` is a FLAC file; a text file named ``.mp3`` is an error.
"""

from __future__ import annotations

import os
from typing import BinaryIO, Literal

Format = Literal["mp3", "flac", "ogg", "opus", "mp4", "wav", "aiff", "asf"]

AUDIO_EXTENSIONS = frozenset(
    {
        ".mp3", ".mp2", ".flac", ".ogg", ".oga", ".opus", ".m4a", ".mp4", ".m4b", ".aac",
        ".alac", ".aif", ".aiff", ".aifc", ".wav", ".wave", ".wma", ".asf",
    }
)  # fmt: skip
# Files that commonly live next to music and are never audio: not even opened.
NON_AUDIO_EXTENSIONS = frozenset(
    {
        ".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp", ".tif", ".tiff", ".txt", ".nfo", ".cue",
        ".log", ".m3u", ".m3u8", ".pls", ".pdf", ".sfv", ".md5", ".ffp", ".db", ".ini", ".xml",
        ".json", ".html", ".htm", ".url", ".lnk", ".asd", ".reapeaks", ".pkf", ".accurip", ".zip",
        ".rar", ".7z", ".gz", ".exe", ".doc", ".docx", ".rtf", ".md", ".nki", ".als", ".ds_store",
    }
)  # fmt: skip
# Partial downloads and editor/copy temporaries: the finished file will arrive under its real name.
TEMP_SUFFIXES = (".part", ".crdownload", ".tmp", ".temp", ".download", "~", ".partial")

ASF_HEADER_GUID = bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c")
SNIFF_BYTES = 64


def is_candidate(name: str) -> bool:
    """Whether a walk should consider this file at all (hidden, temporary and known non-audio are skipped).

    Files with an unknown or no extension are candidates too, so audio saved under an odd name is found.
    """
    if name[:1] == ".":
        return False
    lower = name.lower()
    if lower.endswith(TEMP_SUFFIXES):
        return False
    dot = lower.rfind(".")  # what os.path.splitext finds, for a name not starting with "."
    return dot < 0 or lower[dot:] not in NON_AUDIO_EXTENSIONS


def has_audio_extension(name: str) -> bool:
    return _suffix(name) in AUDIO_EXTENSIONS


def _suffix(name: str) -> str:
    """The lower-case extension (``os.path``: a walk asks for every file, pathlib costs 3× more)."""
    return os.path.splitext(name)[1].lower()


def id3v2_size(head: bytes) -> int:
    """Total size of an ID3v2 tag at the start of ``head`` (0 if none); header + body + footer."""
    if len(head) < 10 or head[:3] != b"ID3" or head[3] == 0xFF or head[4] == 0xFF:
        return 0
    raw = head[6:10]
    if any(b & 0x80 for b in raw):
        return 0
    size = (raw[0] << 21) | (raw[1] << 14) | (raw[2] << 7) | raw[3]
    footer = 10 if head[5] & 0x10 else 0
    return 10 + size + footer


def mpeg_frame_length(header: bytes) -> int:
    """Length in bytes of the MPEG audio frame starting with ``header`` (4 bytes), 0 if not a frame."""
    if len(header) < 4 or header[0] != 0xFF or (header[1] & 0xE0) != 0xE0:
        return 0
    version = (header[1] >> 3) & 0x03  # 0: 2.5, 2: 2, 3: 1
    layer = (header[1] >> 1) & 0x03  # 1: III, 2: II, 3: I
    bitrate_idx = header[2] >> 4
    rate_idx = (header[2] >> 2) & 0x03
    padding = (header[2] >> 1) & 0x01
    if version == 1 or layer == 0 or bitrate_idx in (0, 15) or rate_idx == 3:
        return 0
    rates = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}
    sample_rate = rates[version][rate_idx]
    if layer == 3:  # layer I
        table = (0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448)
        if version != 3:
            table = (0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256)
        return (12 * table[bitrate_idx] * 1000 // sample_rate + padding) * 4
    if version == 3:
        table = (
            (0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384)  # layer II
            if layer == 2
            else (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)  # layer III
        )
        coeff = 144
    else:
        table = (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)
        coeff = 72 if layer == 1 else 144
    return coeff * table[bitrate_idx] * 1000 // sample_rate + padding


def sniff(head: bytes) -> Format | None:
    """The container of a file from its first bytes (at least ``SNIFF_BYTES`` when the file has them).

    For MP3 without an ID3 tag, two consecutive valid frame headers are required, so random bytes that
    happen to start with a sync word are not taken for audio. ``sniff_file`` handles tags longer than
    ``head``.
    """
    if head[:4] == b"fLaC":
        return "flac"
    if head[:4] == b"OggS":
        # The first packet names the codec: "\x01vorbis", "OpusHead", "\x7fFLAC", ...
        body = head[28:]
        if body.startswith(b"OpusHead"):
            return "opus"
        return "ogg"
    if head[4:8] == b"ftyp":
        return "mp4"
    if head[:4] in (b"RIFF", b"RF64") and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return "aiff"
    if head[:16] == ASF_HEADER_GUID:
        return "asf"
    length = mpeg_frame_length(head[:4])
    if length and len(head) >= length + 4 and mpeg_frame_length(head[length : length + 4]):
        return "mp3"
    return None


def sniff_file(path: str) -> Format | None:
    """``sniff`` on a file, looking past a leading ID3v2 tag (which MP3, and sometimes FLAC, carry)."""
    with open(path, "rb") as fh:
        return sniff_stream(fh)


def sniff_stream(fh: BinaryIO) -> Format | None:
    """``sniff_file`` on an open file (read from its start)."""
    fh.seek(0)
    head = fh.read(SNIFF_BYTES)
    skip = id3v2_size(head)
    if skip:
        fh.seek(skip)
        after = fh.read(4096)
        # Some encoders pad between the tag and the first frame.
        stripped = after.lstrip(b"\x00")
        found = sniff(stripped)
        if found is not None:
            return found
        # An ID3 tag followed by MPEG frames we cannot validate twice (short file): trust the tag.
        return "mp3" if mpeg_frame_length(stripped[:4]) else None
    if len(head) < SNIFF_BYTES and mpeg_frame_length(head[:4]):
        return None  # too short to hold two frames: not worth calling audio
    if mpeg_frame_length(head[:4]) and sniff(head) is None:
        fh.seek(0)
        head = fh.read(4096)
    return sniff(head)
