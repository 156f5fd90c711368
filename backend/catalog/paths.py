"""File names as stored in the database, relative to their library root.

Paths are kept relative so a library survives a moved drive (only the root row changes). Names that are not
valid UTF-8 (possible on Linux) cannot be stored as text as they are; they are stored as ``/`` followed by
the percent-encoded bytes. A relative path never starts with ``/``, so the two forms cannot be confused and
every file name round-trips exactly.
"""

from __future__ import annotations

import os
from urllib.parse import quote_from_bytes, unquote_to_bytes

ENCODED_PREFIX = "/"


def to_db(rel: str) -> str:
    """The stored form of a relative path as the OS gave it (``os.fsdecode`` form, '/' separators)."""
    rel = rel.replace(os.sep, "/") if os.sep != "/" else rel
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:  # surrogate escapes: the name is not UTF-8 on disk
        return ENCODED_PREFIX + quote_from_bytes(os.fsencode(rel), safe="/")
    return rel


def from_db(stored: str) -> str:
    """The relative path to hand to the OS for a stored path."""
    if stored.startswith(ENCODED_PREFIX):
        return os.fsdecode(unquote_to_bytes(stored[len(ENCODED_PREFIX) :]))
    return stored


def display(stored: str) -> str:
    """A printable version of a stored path (undecodable bytes shown as U+FFFD)."""
    if stored.startswith(ENCODED_PREFIX):
        return unquote_to_bytes(stored[len(ENCODED_PREFIX) :]).decode("utf-8", "replace")
    return stored


def absolute(root: str, stored: str) -> str:
    """The absolute OS path of a stored path under ``root``."""
    return os.path.join(root, from_db(stored))
