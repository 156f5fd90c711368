"""Where each editable library field lives in each tag system (ID3, Vorbis comments, MP4 atoms, ASF).

Only the mapped frame of a field is read or replaced; every other frame is left as it is.
"""

from __future__ import annotations

from typing import Any

import mutagen.asf
import mutagen.id3
import mutagen.mp4

# mutagen is untyped: hold its constructors as Any so strict mypy checks our code, not theirs.
ASFUnicodeAttribute: Any = mutagen.asf.ASFUnicodeAttribute  # type: ignore[attr-defined]
COMM: Any = mutagen.id3.COMM
Frames: Any = mutagen.id3.Frames
MP4FreeForm: Any = mutagen.mp4.MP4FreeForm

EDITABLE_FIELDS: tuple[str, ...] = (
    "title",
    "artist",
    "album",
    "album_artist",
    "genre",
    "year",
    "track_no",
    "disc_no",
    "bpm_tag",
    "key_tag",
    "comment",
    "label",
    "isrc",
)
INT_FIELDS = frozenset({"year", "track_no", "disc_no"})

ID3_FRAMES = {
    "title": "TIT2",
    "artist": "TPE1",
    "album": "TALB",
    "album_artist": "TPE2",
    "genre": "TCON",
    "year": "TDRC",
    "track_no": "TRCK",
    "disc_no": "TPOS",
    "bpm_tag": "TBPM",
    "key_tag": "TKEY",
    "label": "TPUB",
    "isrc": "TSRC",
}
VORBIS_KEYS = {
    "title": "title",
    "artist": "artist",
    "album": "album",
    "album_artist": "albumartist",
    "genre": "genre",
    "year": "date",
    "track_no": "tracknumber",
    "disc_no": "discnumber",
    "bpm_tag": "bpm",
    "key_tag": "initialkey",
    "comment": "comment",
    "label": "label",
    "isrc": "isrc",
}
_FREEFORM = "----:com.apple.iTunes:"
MP4_KEYS = {
    "title": "\xa9nam",
    "artist": "\xa9ART",
    "album": "\xa9alb",
    "album_artist": "aART",
    "genre": "\xa9gen",
    "year": "\xa9day",
    "track_no": "trkn",
    "disc_no": "disk",
    "bpm_tag": "tmpo",
    "key_tag": _FREEFORM + "initialkey",
    "comment": "\xa9cmt",
    "label": _FREEFORM + "LABEL",
    "isrc": _FREEFORM + "ISRC",
}
ASF_KEYS = {
    "title": "Title",
    "artist": "Author",
    "album": "WM/AlbumTitle",
    "album_artist": "WM/AlbumArtist",
    "genre": "WM/Genre",
    "year": "WM/Year",
    "track_no": "WM/TrackNumber",
    "disc_no": "WM/PartOfSet",
    "bpm_tag": "WM/BeatsPerMinute",
    "key_tag": "WM/InitialKey",
    "comment": "Description",
    "label": "WM/Publisher",
    "isrc": "WM/ISRC",
}


def _typed(name: str, text: str | None) -> Any:
    """Text from a tag as the field's type (None when empty or unreadable)."""
    if text is None:
        return None
    text = str(text).strip()
    if not text:
        return None
    if name in INT_FIELDS:
        head = text.split("/")[0].split("-")[0].strip()
        try:
            return int(float(head))
        except ValueError:
            return None
    if name == "bpm_tag":
        try:
            return round(float(text.replace(",", ".")), 2)
        except ValueError:
            return None
    return text


def _fmt(name: str, value: Any) -> str:
    if name == "bpm_tag" and float(value).is_integer():
        return str(int(value))
    return str(value)


def get(fam: str, tags: Any, name: str) -> Any:
    """The field's value in ``tags`` of tag system ``fam``."""
    if tags is None:
        return None
    if fam == "id3":
        if name == "comment":
            frames = [f for f in tags.getall("COMM") if f.desc == ""] or tags.getall("COMM")
            return _typed(name, frames[0].text[0] if frames and frames[0].text else None)
        frame = tags.get(ID3_FRAMES[name])
        return _typed(name, str(frame.text[0]) if frame is not None and frame.text else None)
    if fam == "vorbis":
        values = tags.get(VORBIS_KEYS[name])
        if not values and name == "label":
            values = tags.get("organization")
        return _typed(name, values[0] if values else None)
    if fam == "mp4":
        values = tags.get(MP4_KEYS[name])
        if not values:
            return None
        first = values[0]
        if name in ("track_no", "disc_no"):
            return int(first[0]) or None
        if isinstance(first, bytes | MP4FreeForm):
            return _typed(name, bytes(first).decode("utf-8", "replace"))
        return _typed(name, str(first))
    if fam == "asf":
        values = tags.get(ASF_KEYS[name])
        return _typed(name, str(values[0].value) if values else None)
    raise ValueError(fam)


def put(fam: str, tags: Any, name: str, value: Any) -> None:
    """Set (or with None remove) the field in ``tags``, leaving every other frame alone."""
    if fam == "id3":
        _put_id3(tags, name, value)
    elif fam == "vorbis":
        key = VORBIS_KEYS[name]
        if value is None:
            if key in tags:
                del tags[key]
        else:
            tags[key] = [_fmt(name, value)]
    elif fam == "mp4":
        key = MP4_KEYS[name]
        if value is None:
            _remove(tags, key)
        elif name in ("track_no", "disc_no"):
            total = tags.get(key, [(0, 0)])[0][1]
            tags[key] = [(int(value), total)]
        elif name == "bpm_tag":
            tags[key] = [round(float(value))]
        elif key.startswith(_FREEFORM):
            tags[key] = [MP4FreeForm(_fmt(name, value).encode("utf-8"))]
        else:
            tags[key] = [_fmt(name, value)]
    elif fam == "asf":
        key = ASF_KEYS[name]
        if value is None:
            _remove(tags, key)
        else:
            tags[key] = [ASFUnicodeAttribute(_fmt(name, value))]
    else:
        raise ValueError(fam)


def _remove(tags: Any, key: str) -> None:
    # ASF tags are list-like (no dict.pop with a default); ``in`` + ``del`` works for every family.
    if key in tags:
        del tags[key]


def _put_id3(tags: Any, name: str, value: Any) -> None:
    if name == "comment":
        # Replace only the plain comment (empty description); other COMM frames (e.g. from DJ software) stay.
        for frame in [f for f in tags.getall("COMM") if f.desc == ""]:
            tags.delall(frame.HashKey)
        if value is not None:
            tags.add(COMM(encoding=3, lang="eng", desc="", text=[str(value)]))
        return
    frame_id = ID3_FRAMES[name]
    tags.delall(frame_id)
    if value is not None:
        tags.add(Frames[frame_id](encoding=3, text=[_fmt(name, value)]))


__all__ = ["EDITABLE_FIELDS", "INT_FIELDS", "get", "put"]
