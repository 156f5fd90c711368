"""Dark and light palettes (following the system unless the user picked one) and the Camelot colours."""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

# The Camelot wheel's conventional colours (Mixed In Key): 1 … 12, A = minor (darker), B = major.
_WHEEL = [
    "#5ef0c8",
    "#8ff07a",
    "#c8ea5e",
    "#f0d25e",
    "#f4a35e",
    "#f47a73",
    "#f06fa0",
    "#d475e0",
    "#a683f0",
    "#7e9df5",
    "#5ec3f0",
    "#5ee4e4",
]


def camelot_color(code: str | None, dark: bool = False) -> QColor | None:
    """The wheel colour of a Camelot code ("8A"), or None when it is not one.

    On a dark theme the colours are deepened so light text stays readable on them.
    """
    if not code or len(code) < 2 or code[-1] not in "AB" or not code[:-1].isdigit():
        return None
    number = int(code[:-1])
    if not 1 <= number <= 12:
        return None
    color = QColor(_WHEEL[number - 1])
    if code[-1] == "A":
        color = color.darker(125)
    return color.darker(170) if dark else color


def camelot_text_color(dark: bool) -> QColor:
    """Text on a Camelot cell: near-white on the deepened dark-theme colours, near-black otherwise."""
    return QColor("#f2f2f2") if dark else QColor("#111111")


def system_is_dark() -> bool:
    hints = QGuiApplication.styleHints()
    return bool(hints.colorScheme() == Qt.ColorScheme.Dark)


def resolve(theme: str, system_dark: bool | None = None) -> str:
    """ "system" → "dark" or "light" from the platform (or from ``system_dark`` when known)."""
    if theme in ("dark", "light"):
        return theme
    dark = system_is_dark() if system_dark is None else system_dark
    return "dark" if dark else "light"


class ThemeFollower(QObject):
    """Keeps the app's palette in step with the user's choice and, for "system", the platform.

    ``changed(effective)`` tells views that cache colours (the library's Camelot cells) to redo them.
    """

    changed = Signal(str)

    def __init__(self, app: QApplication) -> None:
        super().__init__(app)
        self.app = app
        self.choice = "system"
        self.effective = ""
        app.styleHints().colorSchemeChanged.connect(self._system_changed)

    def apply(self, choice: str, system_dark: bool | None = None) -> str:
        self.choice = choice
        effective = resolve(choice, system_dark)
        self.app.setStyle("Fusion")
        self.app.setPalette(dark_palette() if effective == "dark" else light_palette())
        self.app.setProperty("tracktion_theme", effective)
        if effective != self.effective:
            self.effective = effective
            self.changed.emit(effective)
        return effective

    def _system_changed(self, scheme: Qt.ColorScheme) -> None:
        # The signal carries the new scheme; colorScheme() may lag behind it on some platforms.
        if self.choice == "system":
            self.apply("system", scheme == Qt.ColorScheme.Dark)


def follower(app: QApplication | None = None) -> ThemeFollower:
    """The application's one :class:`ThemeFollower` (made on first use)."""
    app = app or QApplication.instance()  # type: ignore[assignment]
    assert isinstance(app, QApplication), "a QApplication must exist"
    existing = app.findChild(ThemeFollower)
    return existing if existing is not None else ThemeFollower(app)


def is_dark() -> bool:
    """Whether the theme in effect is dark."""
    app = QApplication.instance()
    return app is not None and app.property("tracktion_theme") == "dark"


def apply(app: QApplication, theme: str) -> str:
    """Apply the Fusion style with a dark or light palette; returns the theme in effect.

    With "system" the app keeps following the platform's dark/light preference while it runs.
    """
    return follower(app).apply(theme)


def dark_palette() -> QPalette:
    p = QPalette()
    base, window, text = QColor("#1e1f22"), QColor("#2b2d31"), QColor("#e6e6e6")
    accent = QColor("#4f8ff7")
    p.setColor(QPalette.ColorRole.Window, window)
    p.setColor(QPalette.ColorRole.WindowText, text)
    p.setColor(QPalette.ColorRole.Base, base)
    p.setColor(QPalette.ColorRole.AlternateBase, QColor("#25262a"))
    p.setColor(QPalette.ColorRole.ToolTipBase, window)
    p.setColor(QPalette.ColorRole.ToolTipText, text)
    p.setColor(QPalette.ColorRole.Text, text)
    p.setColor(QPalette.ColorRole.Button, QColor("#34363c"))
    p.setColor(QPalette.ColorRole.ButtonText, text)
    p.setColor(QPalette.ColorRole.BrightText, QColor("#ff6b6b"))
    p.setColor(QPalette.ColorRole.Highlight, accent)
    p.setColor(QPalette.ColorRole.HighlightedText, QColor("#ffffff"))
    p.setColor(QPalette.ColorRole.Link, accent)
    p.setColor(QPalette.ColorRole.PlaceholderText, QColor("#8a8d93"))
    p.setColor(QPalette.ColorRole.Mid, QColor("#3b3d43"))
    for role in (
        QPalette.ColorRole.Text,
        QPalette.ColorRole.WindowText,
        QPalette.ColorRole.ButtonText,
    ):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor("#6d7077"))
    return p


def light_palette() -> QPalette:
    p = QPalette()
    accent = QColor("#2f6fde")
    p.setColor(QPalette.ColorRole.Window, QColor("#f3f3f5"))
    p.setColor(QPalette.ColorRole.WindowText, QColor("#1d1d1f"))
    p.setColor(QPalette.ColorRole.Base, QColor("#ffffff"))
    p.setColor(QPalette.ColorRole.AlternateBase, QColor("#f6f7f9"))
    p.setColor(QPalette.ColorRole.Text, QColor("#1d1d1f"))
    p.setColor(QPalette.ColorRole.Button, QColor("#e9e9ec"))
    p.setColor(QPalette.ColorRole.ButtonText, QColor("#1d1d1f"))
    p.setColor(QPalette.ColorRole.Highlight, accent)
    p.setColor(QPalette.ColorRole.HighlightedText, QColor("#ffffff"))
    p.setColor(QPalette.ColorRole.Link, accent)
    p.setColor(QPalette.ColorRole.PlaceholderText, QColor("#8a8a8e"))
    return p


ERROR_COLOR = QColor("#e5534b")
WARNING_COLOR = QColor("#d29922")
OK_COLOR = QColor("#3fb950")
MUTED_COLOR = QColor("#8a8d93")
