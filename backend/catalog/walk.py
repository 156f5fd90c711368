"""Listing a library root: every candidate file with its size and mtime, one ``stat`` per file.

Symlinked folders are followed (DJs link crates from other drives) but each real folder is visited once,
so symlink loops end. Folders that cannot be listed are reported, so their tracks are not marked missing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from backend.catalog.formats import is_candidate
from backend.catalog.paths import to_db

Stat = tuple[int, float]  # size, mtime


@dataclass
class Listing:
    """What a walk found under a root (paths in their stored form)."""

    files: dict[str, Stat] = field(default_factory=dict)
    unreadable_dirs: list[str] = field(default_factory=list)  # stored rel paths ("" = the root)
    reasons: dict[str, str] = field(default_factory=dict)  # unreadable dir → why


def walk(root: str, start: str = "") -> Listing:
    """List candidate files under ``root`` (or only under ``start``, an OS-relative sub folder).

    The loop body runs once per file of the library (100k and more): it sticks to ``DirEntry``'s
    cached type and one ``stat`` per file, and builds relative paths by concatenation.
    """
    out = Listing()
    files = out.files
    seen: set[tuple[int, int]] = set()
    stack = [start.replace(os.sep, "/").rstrip("/")]  # relative paths use "/" (see paths)
    while stack:
        rel_dir = stack.pop()
        abs_dir = os.path.join(root, rel_dir) if rel_dir else root
        try:
            st = os.stat(abs_dir)
            if (st.st_dev, st.st_ino) in seen:
                continue  # symlink loop or the same folder linked twice
            seen.add((st.st_dev, st.st_ino))
            entries = list(os.scandir(abs_dir))
        except OSError as exc:
            out.unreadable_dirs.append(to_db(rel_dir))
            out.reasons[to_db(rel_dir)] = exc.strerror or str(exc)
            continue
        prefix = rel_dir + "/" if rel_dir else ""
        for entry in entries:
            name = entry.name
            try:
                if entry.is_dir():  # symlinked folders too (follow_symlinks is the default)
                    if name[0] != ".":
                        stack.append(prefix + name)
                    continue
                if not entry.is_file() or not is_candidate(name):
                    continue
                est = entry.stat()
            except OSError:
                continue  # vanished while listing, or a dangling link
            rel = prefix + name
            files[rel if rel.isascii() else to_db(rel)] = (est.st_size, est.st_mtime)
    return out


def stat_paths(root: str, stored: list[str]) -> tuple[dict[str, Stat], list[str], list[str]]:
    """Stat given stored paths: (files found, paths that are folders, paths that no longer exist)."""
    from backend.catalog.paths import from_db

    files: dict[str, Stat] = {}
    folders: list[str] = []
    gone: list[str] = []
    for path in stored:
        full = os.path.join(root, from_db(path))
        try:
            st = os.stat(full)
        except OSError:
            gone.append(path)
            continue
        if os.path.isdir(full):
            folders.append(path)
        elif is_candidate(os.path.basename(full)):
            files[path] = (st.st_size, st.st_mtime)
    return files, folders, gone
