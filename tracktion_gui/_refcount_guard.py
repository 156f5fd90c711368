"""Guard against a PySide6 6.12 refcount bug on Python 3.11 (imported first by ``tracktion_gui``).

PySide6 6.12's ``abi3`` wheels drop a reference to ``None``/``True``/``False`` on many calls (every
``Signal.emit()`` loses one ``True``; every void method such as ``setObjectName`` loses one ``None``),
as if these objects were immortal — which they are only from Python 3.12 on. On 3.11 the count reaches
zero after a few thousand calls and the process dies with "none_dealloc"/"bool_dealloc" (reproduced with
PySide6 alone: 200 ``emit()`` calls on a bare QObject). Until the project runs on Python ≥ 3.12 or a fixed
PySide6, we give these singletons an effectively infinite reference count, which is exactly what 3.12's
immortal objects are. Nothing else changes; the objects are never freed anyway.
"""

from __future__ import annotations

import ctypes
import sys

_MARGIN = 1 << 40


def install() -> bool:
    """Make the interpreter's singletons effectively immortal (no-op on Python ≥ 3.12)."""
    if sys.version_info >= (3, 12) or getattr(sys, "_tracktion_refcount_guard", False):
        return False
    for obj in (None, True, False, Ellipsis, NotImplemented, (), ""):
        ctypes.c_ssize_t.from_address(id(obj)).value += _MARGIN
    sys._tracktion_refcount_guard = True  # type: ignore[attr-defined]
    return True
