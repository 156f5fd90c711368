"""The one safe way Tracktion writes tags into audio files.

Steps (each one is why the file can never be left half-written or silently clobbered):
1. the file's (size, mtime) must still be what the library read — otherwise someone else changed it and we
   report a :class:`TagConflict` instead of overwriting their change;
2. copy it next to the original and write the new values into the copy with mutagen, touching only the
   frames/atoms/comments of the edited fields (everything else — cover art, cues, other tags — stays);
3. re-read the copy and verify every edited value;
4. check the original once more, then atomically replace it with the copy (``os.replace``).
The caller records the returned old values in the edit journal and registers the new (size, mtime) as our
own write so the watcher does not treat it as an outside change.

Blocking file I/O: call from an executor, never on the event loop.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mutagen
from mutagen._vorbis import VComment
from mutagen.asf import ASF
from mutagen.id3 import ID3
from mutagen.mp4 import MP4

from backend.library import tagmaps

EDITABLE_FIELDS = tagmaps.EDITABLE_FIELDS
# mtime is compared with a slack of 1 µs: enough for the float round trip through the database (a float
# holds today's epoch seconds to ~0.25 µs), small enough to see a change made a millisecond after our read.
MTIME_SLACK_S = 1e-6


class TagWriteError(RuntimeError):
    """The tags could not be written (unsupported file, verification failed, I/O error)."""


class TagConflict(TagWriteError):
    """The file changed on disk since the library read it; nothing was written."""

    def __init__(self, path: Path, expected: tuple[int, float], found: tuple[int, float]) -> None:
        super().__init__(
            f"{path.name} was changed by another program since Tracktion read it "
            f"(size {expected[0]} → {found[0]}); rescan it, then edit again"
        )
        self.path = path
        self.expected = expected
        self.found = found


@dataclass(frozen=True)
class WriteResult:
    """What a write did: the previous values of the edited fields and the file's new identity."""

    path: Path
    old: dict[str, Any]
    new: dict[str, Any]
    size: int
    mtime: float


def stat_identity(path: Path) -> tuple[int, float]:
    st = path.stat()
    return st.st_size, st.st_mtime


def _check_unchanged(path: Path, expected: tuple[int, float] | None) -> None:
    if expected is None:
        return
    try:
        found = stat_identity(path)
    except FileNotFoundError:
        raise TagWriteError(f"{path} no longer exists") from None
    if found[0] != expected[0] or abs(found[1] - expected[1]) > MTIME_SLACK_S:
        raise TagConflict(path, expected, found)


def _open(path: Path) -> Any:
    try:
        audio = mutagen.File(path)  # detects the format by content, not by the extension
    except mutagen.MutagenError as exc:
        raise TagWriteError(f"{path.name}: cannot read tags ({exc})") from exc
    if audio is None:
        raise TagWriteError(f"{path.name}: not an audio format Tracktion can tag")
    if audio.tags is None:
        with contextlib.suppress(mutagen.MutagenError, TypeError):
            audio.add_tags()
    return audio


def family(audio: Any) -> str:
    """Which tag system a mutagen file object uses: id3, vorbis, mp4 or asf."""
    if isinstance(audio, MP4):
        return "mp4"
    if isinstance(audio, ASF):
        return "asf"
    if isinstance(audio.tags, ID3):
        return "id3"
    if isinstance(audio.tags, VComment):  # FLAC, Ogg Vorbis, Opus, Speex: Vorbis comments
        return "vorbis"
    raise TagWriteError(f"{type(audio).__name__}: tag system not supported")


def read_fields(path: Path, names: list[str] | None = None) -> dict[str, Any]:
    """The editable fields as the file has them now (None when absent)."""
    audio = _open(path)
    fam = family(audio)
    return {name: tagmaps.get(fam, audio.tags, name) for name in (names or EDITABLE_FIELDS)}


def _normalise(name: str, value: Any) -> Any:
    """The value as the file can store it (so verification compares like with like)."""
    if value is None or value == "":
        return None
    if name in tagmaps.INT_FIELDS:
        return int(float(value))
    if name == "bpm_tag":
        return round(float(value), 2)
    return str(value)


def write_tags(
    path: Path,
    changes: Mapping[str, Any],
    expected: tuple[int, float] | None = None,
    before_replace: Callable[[Path, int, float], None] | None = None,
) -> WriteResult:
    """Write ``changes`` (field → value, None clears) into ``path`` safely (see the module docstring).

    ``before_replace(path, size, mtime)`` is called just before the swap with the identity the file will
    have, so the watcher can be told it is our own write before it can see it.
    """
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise TagWriteError(f"not editable: {', '.join(sorted(unknown))}")
    path = Path(path)
    new = {name: _normalise(name, value) for name, value in changes.items()}
    _check_unchanged(path, expected)
    before = stat_identity(path)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=".tracktion-tmp", dir=path.parent
    )
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        shutil.copy2(path, tmp)
        audio = _open(tmp)
        fam = family(audio)
        old = {name: tagmaps.get(fam, audio.tags, name) for name in new}
        for name, value in new.items():
            tagmaps.put(fam, audio.tags, name, value)
        try:
            audio.save()
        except (mutagen.MutagenError, OSError, ValueError) as exc:
            raise TagWriteError(f"{path.name}: writing tags failed ({exc})") from exc
        check = _open(tmp)
        for name, value in new.items():
            got = tagmaps.get(fam, check.tags, name)
            if got != value:
                raise TagWriteError(
                    f"{path.name}: {name} reads back as {got!r}, not {value!r}; file left unchanged"
                )
        # Last look before the swap: a change while we worked is still a conflict.
        _check_unchanged(path, before)
        if before_replace is not None:
            size, mtime = stat_identity(tmp)
            before_replace(path, size, mtime)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    size, mtime = stat_identity(path)
    return WriteResult(path=path, old=old, new=new, size=size, mtime=mtime)


__all__ = [
    "EDITABLE_FIELDS",
    "TagConflict",
    "TagWriteError",
    "WriteResult",
    "read_fields",
    "stat_identity",
    "write_tags",
]
