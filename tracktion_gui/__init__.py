"""Tracktion's desktop app (PySide6 on a qasync loop); the backend never imports this package."""

from tracktion_gui import _refcount_guard

_refcount_guard.install()
