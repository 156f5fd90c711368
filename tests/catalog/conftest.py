"""Helpers for the catalog tests: small generated audio files of every format, and library shortcuts."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from backend.audio.encode import FORMATS, encode, tone
from backend.db.models import LibraryRoot, Track
from backend.services import Services

SR = 22050
ALL_FORMATS = tuple(FORMATS)  # mp3 flac ogg opus m4a alac aiff wav wma

MakeAudio = Callable[..., Path]


@pytest.fixture
def make_audio() -> MakeAudio:
    """Write a short tagged file: ``make_audio(path, fmt="mp3", seed=0, seconds=1.0, **tags)``."""

    def make(
        path: Path, fmt: str | None = None, seed: int = 0, seconds: float = 1.0, **tags: Any
    ) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        fmt = fmt or next(f for f, spec in FORMATS.items() if spec[0] == path.suffix.lower())
        tags.setdefault("title", f"Track {seed}")
        tags.setdefault("artist", "Tester")
        encode(path, tone(seconds, SR, 220.0 + 20 * seed, seed=seed), SR, fmt, tags)
        return path

    return make


def copy_with_new_audio(src: Path, dst: Path) -> Path:
    """A copy of ``src`` whose audio bytes differ (one byte in the middle of the file, in the audio)."""
    data = bytearray(src.read_bytes())
    pos = len(data) // 2
    data[pos] ^= 0x55
    dst.write_bytes(bytes(data))
    return dst


def age(*paths: Path, seconds: float = 60.0) -> None:
    """Make files look written ``seconds`` ago (past the settle window)."""
    for path in paths:
        st = path.stat()
        os.utime(path, (st.st_atime, st.st_mtime - seconds))


async def tracks(services: Services, **where: Any) -> list[Track]:
    async with services.db.read() as session:
        query = select(Track).order_by(Track.id)
        for name, value in where.items():
            query = query.where(getattr(Track, name) == value)
        return list((await session.execute(query)).scalars())


async def track_at(services: Services, rel_path: str) -> Track | None:
    found = await tracks(services, rel_path=rel_path)
    return found[0] if found else None


async def root_row(services: Services, path: Path) -> LibraryRoot:
    async with services.db.read() as session:
        row = (
            await session.execute(select(LibraryRoot).where(LibraryRoot.path == str(path)))
        ).scalar_one()
        return row
