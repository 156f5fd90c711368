"""Write a numpy signal to any format Tracktion reads (PyAV), then tag it (mutagen).

Used by the demo library, by every area's tests and by the benchmarks, so files are generated on the fly
instead of committed. Supported ``fmt`` values: mp3, flac, ogg (Vorbis), opus, m4a (AAC), alac (ALAC in
.m4a), aiff, wav, wma. Tags use one vocabulary for all formats (see ``write_tags``).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

FORMATS: dict[str, tuple[str, str, str, str]] = {
    # fmt: (extension, container, codec, sample format the codec takes)
    "mp3": (".mp3", "mp3", "libmp3lame", "fltp"),
    "flac": (".flac", "flac", "flac", "s16"),
    "ogg": (".ogg", "ogg", "vorbis", "fltp"),
    "opus": (".opus", "ogg", "libopus", "flt"),
    "m4a": (".m4a", "mp4", "aac", "fltp"),
    "alac": (".m4a", "mp4", "alac", "s16p"),
    "aiff": (".aiff", "aiff", "pcm_s16be", "s16"),
    "wav": (".wav", "wav", "pcm_s16le", "s16"),
    "wma": (".wma", "asf", "wmav2", "fltp"),
}
BLOCK = 1 << 16


def extension(fmt: str) -> str:
    """The usual file extension of an encode format (``alac`` → ``.m4a``)."""
    return FORMATS[fmt][0]


def encode(
    path: str | Path,
    signal: npt.NDArray[np.floating[Any]] | Iterable[npt.NDArray[np.floating[Any]]],
    sr: int,
    fmt: str | None = None,
    tags: Mapping[str, Any] | None = None,
    *,
    bitrate: int | None = None,
    id3_version: int = 4,
    id3v1: bool = False,
) -> Path:
    """Encode ``signal`` (mono ``(n,)`` or ``(channels, n)`` float in [-1, 1], or an iterable of such blocks
    for long files) to ``path`` and write ``tags``. ``fmt`` defaults to the one named by the extension.
    """
    import av  # local import: only needed when writing

    path = Path(path)
    fmt = fmt or _fmt_from_extension(path)
    _ext, container_fmt, codec, sample_fmt = FORMATS[fmt]
    blocks = [signal] if isinstance(signal, np.ndarray) else signal
    first = True
    rate = 48000 if codec == "libopus" else sr  # Opus only runs at 48 kHz; the resampler converts
    with av.open(str(path), "w", format=container_fmt) as container:
        stream: Any = None
        resampler: Any = None
        layout = "mono"
        pts = 0
        for block in blocks:
            data = np.atleast_2d(np.asarray(block, dtype=np.float32))
            if codec == "vorbis" and data.shape[0] == 1:
                data = np.repeat(data, 2, axis=0)  # ffmpeg's Vorbis encoder only does stereo
            if first:
                layout = "stereo" if data.shape[0] == 2 else "mono"
                stream = container.add_stream(codec, rate=rate, layout=layout)
                if bitrate or codec == "wmav2":  # wmav2 refuses to open without a bit rate
                    stream.bit_rate = bitrate or 64000
                if codec == "vorbis":  # ffmpeg's native Vorbis encoder is flagged experimental
                    stream.codec_context.options = {"strict": "experimental"}
                resampler = av.AudioResampler(format=sample_fmt, layout=layout, rate=rate)
                first = False
            for start in range(0, data.shape[1], BLOCK):
                chunk = np.ascontiguousarray(np.clip(data[:, start : start + BLOCK], -1.0, 1.0))
                frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=layout)
                frame.sample_rate = sr
                frame.pts = pts
                pts += chunk.shape[1]
                for out in resampler.resample(frame):
                    container.mux(stream.encode(out))
        if stream is None:
            raise ValueError("no samples to encode")
        for out in resampler.resample(None):
            container.mux(stream.encode(out))
        container.mux(stream.encode(None))
    if tags:
        write_tags(path, tags, id3_version=id3_version, id3v1=id3v1)
    return path


def _fmt_from_extension(path: Path) -> str:
    suffix = path.suffix.lower()
    for name, (ext, *_rest) in FORMATS.items():
        if ext == suffix:
            return name
    raise ValueError(
        f"no encoder for extension {suffix!r}; pass fmt= (one of {', '.join(FORMATS)})"
    )


# ---- tags ----------------------------------------------------------------------------------------------

_ID3 = {
    "title": "TIT2", "artist": "TPE1", "album": "TALB", "album_artist": "TPE2", "genre": "TCON",
    "date": "TDRC", "track_no": "TRCK", "disc_no": "TPOS", "bpm": "TBPM", "key": "TKEY",
    "label": "TPUB", "isrc": "TSRC", "compilation": "TCMP",
}  # fmt: skip
_VORBIS = {
    "title": "TITLE", "artist": "ARTIST", "album": "ALBUM", "album_artist": "ALBUMARTIST",
    "genre": "GENRE", "date": "DATE", "track_no": "TRACKNUMBER", "disc_no": "DISCNUMBER",
    "bpm": "BPM", "key": "INITIALKEY", "comment": "COMMENT", "label": "LABEL", "isrc": "ISRC",
    "compilation": "COMPILATION",
}  # fmt: skip
_MP4 = {
    "title": "\xa9nam", "artist": "\xa9ART", "album": "\xa9alb", "album_artist": "aART",
    "genre": "\xa9gen", "date": "\xa9day", "comment": "\xa9cmt",
    "key": "----:com.apple.iTunes:initialkey", "label": "----:com.apple.iTunes:LABEL",
    "isrc": "----:com.apple.iTunes:ISRC",
}  # fmt: skip
_ASF = {
    "title": "Title", "artist": "Author", "album": "WM/AlbumTitle", "album_artist": "WM/AlbumArtist",
    "genre": "WM/Genre", "date": "WM/Year", "track_no": "WM/TrackNumber", "disc_no": "WM/PartOfSet",
    "bpm": "WM/BeatsPerMinute", "key": "WM/InitialKey", "comment": "Description",
    "label": "WM/Publisher", "isrc": "WM/ISRC", "compilation": "WM/IsCompilation",
}  # fmt: skip


def _texts(value: Any) -> list[str]:
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    if isinstance(value, bool):
        return ["1" if value else "0"]
    return [str(value)]


def write_tags(
    path: str | Path, tags: Mapping[str, Any], *, id3_version: int = 4, id3v1: bool = False
) -> None:
    """Write tags with one vocabulary for every format.

    Keys: title, artist (str or list), album, album_artist, genre, date, track_no, disc_no, bpm, key,
    comment, label, isrc, compilation (bool), cover (JPEG/PNG bytes), extra (dict of format-native
    names → text, for oddities the tests need). MP3/WAV/AIFF get ID3 (``id3_version`` 3 or 4; ``id3v1``
    adds an ID3v1 block to MP3).
    """
    flac, mp4, asf = _mod("mutagen.flac"), _mod("mutagen.mp4"), _mod("mutagen.asf")
    oggopus, oggvorbis = _mod("mutagen.oggopus"), _mod("mutagen.oggvorbis")
    FLAC, Picture = flac.FLAC, flac.Picture
    MP4, MP4Cover, MP4FreeForm = mp4.MP4, mp4.MP4Cover, mp4.MP4FreeForm
    ASF, OggOpus, OggVorbis = asf.ASF, oggopus.OggOpus, oggvorbis.OggVorbis

    from backend.catalog.formats import sniff_file

    path = str(path)
    kind = sniff_file(path)
    if kind in ("mp3", "wav", "aiff"):
        _write_id3(path, kind, tags, id3_version, id3v1)
        return
    audio: Any = {"flac": FLAC, "ogg": OggVorbis, "opus": OggOpus, "mp4": MP4, "asf": ASF}.get(
        kind or ""
    )
    if audio is None:
        raise ValueError(f"{path}: cannot write tags to this file (format {kind})")
    f: Any = audio(path)
    if f.tags is None:
        f.add_tags()
    cover = tags.get("cover")
    if kind in ("flac", "ogg", "opus"):
        for name, value in tags.items():
            if name in _VORBIS:
                f.tags[_VORBIS[name]] = _texts(value)
        if cover:
            pic = Picture()
            pic.type, pic.mime, pic.data = 3, _mime(cover), cover
            if kind == "flac":
                f.add_picture(pic)
            else:
                import base64

                f.tags["METADATA_BLOCK_PICTURE"] = [base64.b64encode(pic.write()).decode()]
    elif kind == "mp4":
        for name, value in tags.items():
            if name in _MP4:
                atom = _MP4[name]
                if atom.startswith("----"):
                    f.tags[atom] = [MP4FreeForm(t.encode()) for t in _texts(value)]
                else:
                    f.tags[atom] = _texts(value)
        if "track_no" in tags:
            f.tags["trkn"] = [(int(tags["track_no"]), 0)]
        if "disc_no" in tags:
            f.tags["disk"] = [(int(tags["disc_no"]), 0)]
        if "bpm" in tags:
            f.tags["tmpo"] = [round(float(tags["bpm"]))]
        if "compilation" in tags:
            f.tags["cpil"] = bool(tags["compilation"])
        if cover:
            fmt = MP4Cover.FORMAT_PNG if _mime(cover) == "image/png" else MP4Cover.FORMAT_JPEG
            f.tags["covr"] = [MP4Cover(cover, imageformat=fmt)]
    else:  # asf
        ASFByteArrayAttribute = asf.ASFByteArrayAttribute
        for name, value in tags.items():
            if name in _ASF:
                f.tags[_ASF[name]] = _texts(value)
        if cover:
            import struct

            mime = _mime(cover).encode("utf-16-le") + b"\0\0"
            blob = struct.pack("<BI", 3, len(cover)) + mime + b"\0\0" + cover
            f.tags["WM/Picture"] = [ASFByteArrayAttribute(blob)]
    for name, value in (tags.get("extra") or {}).items():
        if kind == "mp4" and not name.startswith("----"):
            f.tags[f"----:com.apple.iTunes:{name}"] = [
                MP4FreeForm(t.encode()) for t in _texts(value)
            ]
        else:
            f.tags[name] = _texts(value)
    f.save()


def _write_id3(path: str, kind: str, tags: Mapping[str, Any], version: int, id3v1: bool) -> None:
    id3 = _mod("mutagen.id3")
    f: Any = {"mp3": _mod("mutagen.mp3").MP3, "wav": _mod("mutagen.wave").WAVE,
              "aiff": _mod("mutagen.aiff").AIFF}[kind](path)  # fmt: skip
    if f.tags is None:
        f.add_tags()
    enc = id3.Encoding.UTF16 if version == 3 else id3.Encoding.UTF8
    for name, value in tags.items():
        frame_id = _ID3.get(name)
        if frame_id is None:
            continue
        texts = _texts(value)
        if frame_id == "TDRC" and version == 3:
            f.tags.add(id3.TYER(encoding=enc, text=[texts[0][:4]]))
            continue
        f.tags.add(getattr(id3, frame_id)(encoding=enc, text=texts))
    if "comment" in tags:
        f.tags.add(id3.COMM(encoding=enc, lang="eng", desc="", text=_texts(tags["comment"])))
    if tags.get("cover"):
        cover = tags["cover"]
        f.tags.add(id3.APIC(encoding=enc, mime=_mime(cover), type=3, desc="", data=cover))
    for name, value in (tags.get("extra") or {}).items():
        f.tags.add(id3.TXXX(encoding=enc, desc=name, text=_texts(value)))
    kwargs: dict[str, Any] = {"v2_version": version}
    if kind == "mp3":
        kwargs["v1"] = 2 if id3v1 else 0
    f.save(**kwargs)


def _mod(name: str) -> Any:
    """A mutagen module, untyped on purpose: mutagen's classes are only partly annotated."""
    return importlib.import_module(name)


def _mime(data: bytes) -> str:
    return "image/png" if data[:8] == b"\x89PNG\r\n\x1a\n" else "image/jpeg"


def tone(
    seconds: float, sr: int = 22050, freq: float = 440.0, seed: int = 0
) -> npt.NDArray[np.float32]:
    """A short test signal: a sine with a little seeded noise, so each seed gives different audio."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr), dtype=np.float32) / sr
    sig = 0.4 * np.sin(2 * np.pi * freq * t) + 0.05 * rng.standard_normal(t.shape[0])
    return sig.astype(np.float32)
