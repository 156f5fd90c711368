"""The search box's small query language, compiled to a SQLAlchemy WHERE clause.

Grammar (tokens separated by spaces; "double quotes" keep spaces; a leading ``-`` negates a token):

- free text: every word must appear in the title, artist, album, genre, label or path;
- ``field:value``: text fields match a substring (``artist:daft``), numeric fields an exact value;
- ranges on numeric fields: ``bpm:120-128``, ``energy:>6``, ``year:<=1999``;
- ``key:8A`` (any notation: ``key:Am``, ``key:1m``) and ``key:~8A`` (harmonically compatible keys);
- ``is:mix``, ``is:missing``, ``is:duplicate``, ``is:pending``, ``has:error``, ``has:cover``.

A mistake never raises: :func:`compile_query` returns the clause for the valid parts plus readable errors,
so the app can filter as you type and show what it did not understand.
"""

from __future__ import annotations

import contextvars
import re
import shlex
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, not_, or_, select, true

from backend.analysis import keys
from backend.db.models import Track

TEXT_FIELDS: dict[str, Any] = {
    "title": Track.title,
    "artist": Track.artist,
    "album": Track.album,
    "albumartist": Track.album_artist,
    "genre": Track.genre,
    "label": Track.label,
    "comment": Track.comment,
    "path": Track.rel_path,
    "format": Track.format,
    "codec": Track.codec,
    "isrc": Track.isrc,
    "status": Track.status,
}
NUMERIC_FIELDS: dict[str, Any] = {
    "bpm": Track.bpm,
    "energy": Track.energy,
    "year": Track.year,
    "lufs": Track.loudness_lufs,
    "loudness": Track.loudness_lufs,
    "duration": Track.duration_s,
    "bitrate": Track.bitrate,
    "samplerate": Track.sample_rate,
    "track": Track.track_no,
    "disc": Track.disc_no,
    "id": Track.id,
    "root": Track.root_id,
}
FREE_TEXT_COLUMNS = (
    Track.title,
    Track.artist,
    Track.album,
    Track.genre,
    Track.label,
    Track.rel_path,
)
IS_VALUES = ("mix", "missing", "duplicate", "pending", "error", "ok")
HAS_VALUES = ("error", "cover", "key", "bpm")

_DIALECT: contextvars.ContextVar[str] = contextvars.ContextVar("query_dialect", default="")
_RANGE_RE = re.compile(r"^(-?\d+(?:\.\d+)?)\s*(?:-|\.\.)\s*(-?\d+(?:\.\d+)?)$")
_CMP_RE = re.compile(r"^(>=|<=|>|<|=)?\s*(-?\d+(?:\.\d+)?)$")


@dataclass
class CompiledQuery:
    """The WHERE clause of the valid parts, and one readable message per part that was not understood."""

    where: ColumnElement[bool]
    errors: list[str] = field(default_factory=list)
    terms: int = 0
    # With ``words_apart``: free-text words (and negated ones) left out of ``where`` for the caller.
    words: list[str] = field(default_factory=list)
    negated_words: list[str] = field(default_factory=list)
    # Each valid term's token and clause (``where`` is their AND): the app caches a term's matches, so
    # typing a second term queries only that one. "genre:" (an error while typing) is not a part.
    parts: list[tuple[str, ColumnElement[bool]]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _tokens(text: str) -> tuple[list[str], list[str]]:
    try:
        return shlex.split(text, posix=True), []
    except ValueError:
        # An unclosed quote while typing: use what we have and say so.
        return text.replace('"', " ").split(), ["unclosed quote"]


def _like(column: Any, value: str) -> ColumnElement[bool]:
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    # NULL → "": otherwise NOT (NULL LIKE …) is NULL and "-term" would also hide tracks without the field.
    column = func.coalesce(column, "")
    if _DIALECT.get() == "sqlite":
        # SQLite's LIKE already ignores ASCII case; lower() on both sides only costs time.
        return column.like(f"%{escaped}%", escape="\\")  # type: ignore[no-any-return]
    return column.ilike(f"%{escaped}%", escape="\\")  # type: ignore[no-any-return]


def _duplicate_clause() -> ColumnElement[bool]:
    dupes = (
        select(Track.fingerprint)
        .where(Track.fingerprint.is_not(None), Track.status != "missing")
        .group_by(Track.fingerprint)
        .having(func.count() > 1)
    )
    return and_(Track.fingerprint.in_(dupes), Track.status != "missing")


def _numeric(name: str, column: Any, value: str) -> ColumnElement[bool]:
    value = value.strip()
    match = _RANGE_RE.match(value)
    if match:
        low, high = sorted((float(match.group(1)), float(match.group(2))))
        return and_(column >= low, column <= high)
    match = _CMP_RE.match(value)
    if not match:
        raise ValueError(
            f"{name}: {value!r} is not a number or range (try {name}:120-128 or {name}:>6)"
        )
    op, number = match.group(1) or "=", float(match.group(2))
    if op == "=" and name == "bpm":
        # A BPM typed as a whole number means that tempo, not that exact float.
        return and_(column >= number - 0.5, column < number + 0.5)
    return {  # type: ignore[no-any-return]
        "=": column == number,
        ">": column > number,
        ">=": column >= number,
        "<": column < number,
        "<=": column <= number,
    }[op]


def _key(value: str) -> ColumnElement[bool]:
    compatible = value.startswith("~")
    text = value[1:] if compatible else value
    try:
        code = keys.parse_key(text).camelot
    except keys.KeyParseError:
        raise ValueError(f"key: {text!r} is not a key (try 8A, Am or 1m)") from None
    if compatible:
        return Track.camelot.in_(keys.compatible_codes(code))
    return Track.camelot == code


def _flag(kind: str, value: str) -> ColumnElement[bool]:
    if kind == "is":
        if value == "mix":
            return Track.is_mix.is_(True)
        if value == "duplicate":
            return _duplicate_clause()
        if value in ("missing", "pending", "error", "ok"):
            return Track.status == value
        raise ValueError(
            f"is:{value} is unknown; use one of {', '.join('is:' + v for v in IS_VALUES)}"
        )
    if value == "error":
        return or_(Track.status == "error", Track.last_error.is_not(None))
    if value == "cover":
        return Track.has_cover.is_(True)
    if value == "key":
        return Track.camelot.is_not(None)
    if value == "bpm":
        return Track.bpm.is_not(None)
    raise ValueError(
        f"has:{value} is unknown; use one of {', '.join('has:' + v for v in HAS_VALUES)}"
    )


def _term(token: str) -> ColumnElement[bool]:
    name, sep, value = token.partition(":")
    if not sep or not name:
        return and_(*[or_(*[_like(c, token) for c in FREE_TEXT_COLUMNS])])
    name = name.lower()
    if not value:
        raise ValueError(f"{name}: needs a value")
    if name in ("is", "has"):
        return _flag(name, value.lower())
    if name == "key":
        return _key(value)
    if name in NUMERIC_FIELDS:
        return _numeric(name, NUMERIC_FIELDS[name], value)
    if name in TEXT_FIELDS:
        return _like(TEXT_FIELDS[name], value)
    known = sorted([*TEXT_FIELDS, *NUMERIC_FIELDS, "key", "is", "has"])
    raise ValueError(f"unknown field {name!r}; known: {', '.join(known)}")


def compile_query(text: str, dialect: str = "", *, words_apart: bool = False) -> CompiledQuery:
    """Compile the search box's text for ``dialect`` (sqlite/postgresql); never raises.

    ``words_apart``: free-text words are returned in ``words``/``negated_words`` instead of being
    compiled (the app matches them in memory, see :mod:`backend.library.search`).
    """
    token = _DIALECT.set(dialect)
    try:
        return _compile(text, words_apart)
    finally:
        _DIALECT.reset(token)


def _compile(text: str, words_apart: bool) -> CompiledQuery:
    tokens, errors = _tokens(text.strip())
    words: list[str] = []
    negated_words: list[str] = []
    parts: list[tuple[str, ColumnElement[bool]]] = []
    for token in tokens:
        negate = token.startswith("-") and len(token) > 1 and not token[1:2].isdigit()
        body = token[1:] if negate else token
        if words_apart and ":" not in body:
            (negated_words if negate else words).append(body)
            continue
        try:
            clause = _term(body)
        except ValueError as exc:
            errors.append(str(exc))
            continue
        parts.append((token, not_(clause) if negate else clause))
    where: ColumnElement[bool] = and_(*[c for _t, c in parts]) if parts else true()
    return CompiledQuery(
        where=where,
        errors=errors,
        terms=len(parts),
        words=words,
        negated_words=negated_words,
        parts=parts,
    )


def never() -> ColumnElement[bool]:
    """A clause matching nothing (for an empty selection)."""
    return false()
