"""Tags and audio properties of any supported file, read with mutagen into one typed record.

The container is chosen by content (``formats.sniff_file``), not by extension. Text goes through
``repair_text``: mis-declared encodings (UTF-8 bytes read as latin-1, the usual ID3v1 / Windows tagger
mojibake) are repaired when that is unambiguous and kept as-is otherwise; nothing here raises on odd tags.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, fields
from typing import Any, BinaryIO

from backend.catalog.formats import Format, sniff_stream

# Column widths of the tracks table; longer values are cut (the full text stays in the file).
_LIMITS = {"title": 1024, "artist": 1024, "album": 1024, "album_artist": 1024, "genre": 255,
           "date": 32, "key_tag": 32, "label": 255, "isrc": 32}  # fmt: skip
MAX_COMMENT = 8192
MAX_EXTRA_VALUE = 1024
MAX_EXTRA_KEYS = 64
_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LATIN1_HIGH = re.compile("[\x80-\xff]")


class TagReadError(ValueError):
    """The file could not be read as audio; the message says why in words a user understands."""


@dataclass
class TagRecord:
    """What the catalog stores about a file besides its path and fingerprint (the Track columns)."""

    format: str
    codec: str | None = None
    duration_s: float | None = None
    bitrate: int | None = None
    sample_rate: int | None = None
    bit_depth: int | None = None
    channels: int | None = None
    title: str | None = None
    artist: str | None = None
    album: str | None = None
    album_artist: str | None = None
    genre: str | None = None
    date: str | None = None
    year: int | None = None
    track_no: int | None = None
    disc_no: int | None = None
    bpm_tag: float | None = None
    key_tag: str | None = None
    comment: str | None = None
    label: str | None = None
    isrc: str | None = None
    compilation: bool = False
    has_cover: bool = False
    extra_tags: dict[str, Any] = field(default_factory=dict)

    def columns(self) -> dict[str, Any]:
        """The record as Track column values."""
        # Not dataclasses.asdict: its deep copy costs more than reading the tags of a small file.
        return {name: getattr(self, name) for name in _RECORD_FIELDS}


_RECORD_FIELDS = tuple(f.name for f in fields(TagRecord))


def repair_text(value: Any) -> str:
    """Text from a tag value, with mojibake repaired when that is certain; never raises."""
    if isinstance(value, bytes):
        for enc in ("utf-8", "cp1252", "latin-1"):
            try:
                value = value.decode(enc)
                break
            except UnicodeDecodeError:
                continue
    text = str(value)
    if text.isascii():  # the common case: nothing to repair, only control characters to drop
        return (text if text.isprintable() else _CONTROL.sub("", text)).strip()
    if _LATIN1_HIGH.search(text):
        # UTF-8 bytes that were decoded as latin-1/cp1252 ("CafÃ©"): re-decode if the round trip is clean.
        for enc in ("latin-1", "cp1252"):
            try:
                fixed = text.encode(enc).decode("utf-8")
            except (UnicodeEncodeError, UnicodeDecodeError):
                continue
            if fixed != text:
                text = fixed
                break
    text = _SURROGATE.sub("\ufffd", text)  # lone surrogates cannot be stored as UTF-8
    return _CONTROL.sub("", text).strip()


def _head(values: list[str] | None) -> str | None:
    """The first of a tag's texts (``_raw_tags`` has repaired them and dropped empty ones)."""
    return values[0] if values else None


def _all(values: Any) -> list[str]:
    if values is None:
        return []
    if not isinstance(values, list | tuple):
        values = [values]
    return [t for t in (repair_text(v) for v in values) if t]


def _number(text: str | None) -> int | None:
    """'3', '3/12', '03 of 12' → 3."""
    if not text:
        return None
    match = re.match(r"\s*(\d{1,6})", text)
    return int(match.group(1)) if match else None


def _float(text: str | None) -> float | None:
    if not text:
        return None
    match = re.match(r"\s*(\d{1,4}(?:[.,]\d+)?)", text)
    if not match:
        return None
    value = float(match.group(1).replace(",", "."))
    return value if 0 < value < 1000 else None


def _truthy(text: str | None) -> bool:
    return (text or "").strip().lower() in {"1", "true", "yes", "y"}


# Per format: our field → the native names to look at (first one present wins).
_ID3_MAP = {
    "title": ["TIT2"], "artist": ["TPE1"], "album": ["TALB"], "album_artist": ["TPE2"],
    "genre": ["TCON"], "date": ["TDRC", "TYER", "TDOR"], "track_no": ["TRCK"], "disc_no": ["TPOS"],
    "bpm": ["TBPM"], "key": ["TKEY"], "label": ["TPUB"], "isrc": ["TSRC"], "compilation": ["TCMP"],
}  # fmt: skip
_VORBIS_MAP = {
    "title": ["title"], "artist": ["artist"], "album": ["album"],
    "album_artist": ["albumartist", "album artist", "album_artist"], "genre": ["genre"],
    "date": ["date", "year", "originaldate"], "track_no": ["tracknumber", "track"],
    "disc_no": ["discnumber", "disc"], "bpm": ["bpm", "tempo"], "key": ["initialkey", "key"],
    "comment": ["comment", "description"], "label": ["label", "organization", "publisher"],
    "isrc": ["isrc"], "compilation": ["compilation"],
}  # fmt: skip
_MP4_MAP = {
    "title": ["\xa9nam"], "artist": ["\xa9ART"], "album": ["\xa9alb"], "album_artist": ["aART"],
    "genre": ["\xa9gen", "gnre"], "date": ["\xa9day"], "comment": ["\xa9cmt"],
    "key": ["----:com.apple.iTunes:initialkey", "----:com.apple.iTunes:KEY"],
    "label": ["----:com.apple.iTunes:LABEL", "----:com.apple.iTunes:publisher"],
    "isrc": ["----:com.apple.iTunes:ISRC"],
}  # fmt: skip
_ASF_MAP = {
    "title": ["Title"], "artist": ["Author", "WM/AlbumArtist"], "album": ["WM/AlbumTitle"],
    "album_artist": ["WM/AlbumArtist"], "genre": ["WM/Genre"], "date": ["WM/Year"],
    "track_no": ["WM/TrackNumber", "WM/Track"], "disc_no": ["WM/PartOfSet"],
    "bpm": ["WM/BeatsPerMinute"], "key": ["WM/InitialKey"], "comment": ["Description"],
    "label": ["WM/Publisher"], "isrc": ["WM/ISRC"], "compilation": ["WM/IsCompilation"],
}  # fmt: skip
_SKIP_EXTRA = {"APIC", "PRIV", "GEOB", "MCDI", "covr", "WM/Picture", "metadata_block_picture",
               "WM/EncodingSettings", "COMM"}  # fmt: skip


def read_tags(path: str, fmt: Format | None = None) -> TagRecord:
    """Read tags and properties of ``path``; raises TagReadError with a readable reason if not audio."""
    with open(path, "rb") as fh:
        return read_tags_stream(fh, fmt if fmt is not None else sniff_stream(fh))


def read_tags_stream(fh: BinaryIO, fmt: Format | None) -> TagRecord:
    """``read_tags`` on an open file (or a file read into memory) of container ``fmt``."""
    if fmt is None:
        raise TagReadError("not an audio file (unrecognised content)")
    try:
        audio = _open(fh, fmt)
    except TagReadError:
        raise
    except Exception as exc:  # mutagen raises many types on damaged files
        raise TagReadError(_reason(fmt, exc)) from None
    if audio is None or getattr(audio, "info", None) is None:
        raise TagReadError(f"not a readable {fmt} file")
    rec = TagRecord(format=fmt)
    _properties(rec, audio, fmt, fh.seek(0, os.SEEK_END))
    raw = _raw_tags(audio, fmt)
    _common_fields(rec, raw, fmt)
    rec.has_cover = _has_cover(audio, fmt)
    return rec


def _reason(fmt: str, exc: Exception) -> str:
    detail = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
    return f"damaged or truncated {fmt} file ({detail})"


_CLASSES: dict[str, Any] = {}


def mutagen_classes() -> dict[str, Any]:
    """mutagen's file classes, imported once per process (not per file)."""
    if not _CLASSES:
        from mutagen.aiff import AIFF
        from mutagen.asf import ASF
        from mutagen.flac import FLAC
        from mutagen.mp3 import MP3
        from mutagen.mp4 import MP4
        from mutagen.oggflac import OggFLAC
        from mutagen.oggopus import OggOpus
        from mutagen.oggspeex import OggSpeex
        from mutagen.oggtheora import OggTheora
        from mutagen.oggvorbis import OggVorbis
        from mutagen.wave import WAVE

        _CLASSES.update(mp3=MP3, flac=FLAC, opus=OggOpus, mp4=MP4, wav=WAVE, aiff=AIFF, asf=ASF)
        _CLASSES["ogg"] = (OggVorbis, OggFLAC, OggSpeex, OggTheora)
    return _CLASSES


def _open(fh: BinaryIO, fmt: Format) -> Any:
    classes = mutagen_classes()
    fh.seek(0)
    if fmt != "ogg":
        return classes[fmt](fh)
    for cls in classes["ogg"]:  # plain "ogg": try the codecs in turn
        try:
            fh.seek(0)
            return cls(fh)
        except Exception:
            continue
    raise TagReadError("Ogg file with an unsupported or damaged codec")


def _properties(rec: TagRecord, audio: Any, fmt: Format, size: int) -> None:
    info = audio.info
    rec.duration_s = float(info.length) if getattr(info, "length", None) else None
    bitrate = getattr(info, "bitrate", None)
    rec.bitrate = int(bitrate) if bitrate else None
    rec.sample_rate = int(getattr(info, "sample_rate", 0) or 0) or None
    rec.channels = int(getattr(info, "channels", 0) or 0) or None
    depth = getattr(info, "bits_per_sample", None)
    rec.bit_depth = int(depth) if depth else None
    name = type(audio).__name__
    codecs = {"MP3": "mp3", "FLAC": "flac", "OggVorbis": "vorbis", "OggOpus": "opus",
              "OggFLAC": "flac", "OggSpeex": "speex", "WAVE": "pcm", "AIFF": "pcm",
              "ASF": "wma"}  # fmt: skip
    codec = codecs.get(name)
    if fmt == "mp4":
        raw = str(getattr(info, "codec", "") or "")
        codec = "alac" if raw == "alac" else "aac" if raw.startswith("mp4a") else raw or None
    if fmt == "mp3":
        layer = getattr(info, "layer", 3)
        codec = {1: "mp1", 2: "mp2"}.get(layer, "mp3")
    rec.codec = codec
    if codec == "opus":
        rec.sample_rate = (
            48000  # Opus always decodes at 48 kHz (the header's rate is informational)
        )
    if not rec.bitrate and rec.duration_s:
        rec.bitrate = int(size * 8 / rec.duration_s)  # file average
    if codec in ("mp3", "mp2", "aac", "vorbis", "opus", "wma"):
        rec.bit_depth = None  # lossy codecs have no bit depth; mutagen sometimes reports 16


def _raw_tags(audio: Any, fmt: Format) -> dict[str, list[str]]:
    """Every text tag as name → list of texts (names kept as the format spells them)."""
    tags = audio.tags
    out: dict[str, list[str]] = {}
    if tags is None:
        return out
    if fmt in ("mp3", "wav", "aiff"):
        for frame in tags.values():
            fid = frame.FrameID
            if fid == "TXXX":
                out[f"TXXX:{repair_text(frame.desc)}"] = _all(list(frame.text))
            elif fid == "COMM":
                out.setdefault("COMM", []).extend(_all(list(frame.text)))
            elif fid.startswith("T") and hasattr(frame, "text"):
                out[fid] = _all([str(t) for t in frame.text])
            elif fid in ("WXXX", "WOAR", "WCOM"):
                out[fid] = _all([getattr(frame, "url", "")])
        return out
    if fmt == "mp4":
        for key, values in tags.items():
            if key in ("trkn", "disk"):
                out[key] = [str(v[0]) for v in values if v]
            elif key == "tmpo":
                out[key] = [str(v) for v in values]
            elif key == "cpil":
                out[key] = ["1" if values else "0"]
            elif key != "covr":
                vals = values if isinstance(values, list) else [values]
                out[key] = _all([bytes(v) if isinstance(v, bytes) else v for v in vals])
        return out
    if fmt == "asf":
        for key, values in tags.items():
            if key in _SKIP_EXTRA:
                continue
            out[key] = _all([getattr(v, "value", v) for v in values])
        return out
    for key, value in tags.items():  # Vorbis comments: case-insensitive names
        out.setdefault(key.lower(), []).extend(_all(value))
    return out


def _common_fields(rec: TagRecord, raw: dict[str, list[str]], fmt: Format) -> None:
    mapping = {"mp4": _MP4_MAP, "asf": _ASF_MAP}.get(fmt)
    if mapping is None:
        mapping = _ID3_MAP if fmt in ("mp3", "wav", "aiff") else _VORBIS_MAP
    used: set[str] = set()

    def get(name: str) -> list[str]:
        for native in mapping.get(name, []):
            if raw.get(native):
                used.add(native)
                return raw[native]
        return []

    artists = get("artist")
    if len(artists) > 1:
        rec.extra_tags["artists"] = artists[:32]
    rec.artist = "; ".join(artists) if artists else None
    for name in ("title", "album", "album_artist", "genre", "label", "isrc"):
        setattr(rec, name, _head(get(name)))
    rec.key_tag = _head(get("key"))
    rec.date = _head(get("date"))
    if rec.date:
        year = re.match(r"\s*(\d{4})", rec.date)
        rec.year = int(year.group(1)) if year else None
    if fmt == "mp4":
        rec.track_no = _number(_head(raw.get("trkn")))
        rec.disc_no = _number(_head(raw.get("disk")))
        rec.bpm_tag = _float(_head(raw.get("tmpo")))
        rec.compilation = _truthy(_head(raw.get("cpil")))
        used |= {"trkn", "disk", "tmpo", "cpil"}
    else:
        rec.track_no = _number(_head(get("track_no")))
        rec.disc_no = _number(_head(get("disc_no")))
        rec.bpm_tag = _float(_head(get("bpm")))
        rec.compilation = _truthy(_head(get("compilation")))
    comment = get("comment") or raw.get("COMM", [])
    used.add("COMM")
    rec.comment = comment[0][:MAX_COMMENT] if comment else None
    for name, limit in _LIMITS.items():
        value = getattr(rec, name)
        if isinstance(value, str) and len(value) > limit:
            setattr(rec, name, value[:limit])
    for key, values in raw.items():
        if key in used or key in _SKIP_EXTRA or not values or len(rec.extra_tags) >= MAX_EXTRA_KEYS:
            continue
        clean = [v[:MAX_EXTRA_VALUE] for v in values[:8]]
        name = key.removeprefix("----:com.apple.iTunes:")[:128]
        rec.extra_tags[name] = clean[0] if len(clean) == 1 else clean


def _has_cover(audio: Any, fmt: Format) -> bool:
    tags = audio.tags
    if fmt == "flac" and getattr(audio, "pictures", None):
        return True
    if tags is None:
        return False
    if fmt in ("mp3", "wav", "aiff"):
        return bool(tags.getall("APIC"))
    if fmt == "mp4":
        return bool(tags.get("covr"))
    if fmt == "asf":
        return bool(tags.get("WM/Picture"))
    # VComment iterates as (key, value) pairs, hence keys().
    return any(k.lower() == "metadata_block_picture" for k in tags.keys())  # noqa: SIM118
