"""``tracktion gui --screenshot DIR``: every main view plus the dialogs rendered to DIR/<name>.png."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QWidget

from tracktion_gui.asyncutil import idle, qt_turn

SETTLE_ROUNDS = 3


async def _settle() -> None:
    """Let pending loads finish and their repaints happen (paint may ask for more pages: repeat)."""
    for _ in range(SETTLE_ROUNDS):
        await qt_turn()
        await idle(timeout_s=15)
        await qt_turn()


def _save(widget: QWidget, path: Path) -> Path:
    pixmap = widget.grab()
    if not pixmap.save(str(path)):
        raise OSError(f"could not write {path}")
    return path


async def render_all(window: Any, out_dir: Path) -> int:
    """Render each registered view with the window around it, then settings and first run; returns 0."""
    from tracktion_gui.dialogs.first_run import FirstRunDialog
    from tracktion_gui.dialogs.settings import SettingsDialog

    out_dir.mkdir(parents=True, exist_ok=True)
    window.resize(1440, 880)
    window.show()
    await _settle()
    # A track selected, so the detail pane and part 2's views have something to show.
    if window.library.model.rowCount() and window.library.current_id() < 0:
        window.select_track(window.library.model.track_id(0))
    written = []
    for name in list(window.views):
        window.show_view(name)
        await _settle()
        window.grab()  # first paint requests the visible pages
        await _settle()
        written.append(_save(window, out_dir / f"{name}.png"))
    dialog = SettingsDialog(window.client, window)
    dialog.show()
    await _settle()
    written.append(_save(dialog, out_dir / "settings.png"))
    dialog.close()
    first = FirstRunDialog(window.client.settings, window)
    first.show()
    if window.client.settings.mode == "services":
        await first.check()
    await _settle()
    written.append(_save(first, out_dir / "first-run.png"))
    first.close()
    for path in written:
        print(path)
    return 0
