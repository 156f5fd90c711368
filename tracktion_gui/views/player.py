"""Preview playback (QtMultimedia) and its small transport bar.

QMediaPlayer decodes and plays on its own threads, so playback stays smooth while analysis runs in the
worker process pool. The position is read from a ~30 fps timer while playing (not per sample), and seeking
updates the logical position at once so the playhead moves even before the backend has the media loaded.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QIcon, QKeySequence, QShortcut
from PySide6.QtMultimedia import QAudioOutput, QMediaPlayer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QStyle, QToolButton, QWidget

from tracktion_gui.views.waveform import fmt_time

POSITION_INTERVAL_MS = 33


class PreviewPlayer(QObject):
    """One track at a time: load, play/pause, seek, jump between cues."""

    position_changed = Signal(float)
    playing_changed = Signal(bool)
    error = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._player = QMediaPlayer(self)
        self._audio = QAudioOutput(self)
        self._audio.setVolume(0.8)
        self._player.setAudioOutput(self._audio)
        self._position = 0.0
        self.duration_s = 0.0
        self.path: Path | None = None
        self._timer = QTimer(self, interval=POSITION_INTERVAL_MS)
        self._timer.timeout.connect(self._tick)
        self._player.playbackStateChanged.connect(self._state_changed)
        self._player.errorOccurred.connect(lambda _e, text: self.error.emit(text))

    @property
    def playing(self) -> bool:
        return self._player.playbackState() == QMediaPlayer.PlaybackState.PlayingState

    def load(self, path: Path | None, duration_s: float = 0.0) -> None:
        """Load a file (stops what was playing); None unloads."""
        self._player.stop()
        self.path = path
        self.duration_s = duration_s
        self._player.setSource(QUrl.fromLocalFile(str(path)) if path is not None else QUrl())
        self._position = 0.0
        self.position_changed.emit(0.0)

    def position(self) -> float:
        return self._position

    def toggle(self) -> None:
        if self.playing:
            self.pause()
        else:
            self.play()

    def play(self) -> None:
        if self.path is None:
            return
        self._player.setPosition(int(self._position * 1000))
        self._player.play()

    def pause(self) -> None:
        self._player.pause()
        self._tick()

    def stop(self) -> None:
        self._player.stop()

    def seek(self, seconds: float) -> None:
        """Jump to ``seconds`` (clamped to the track); the position signal fires at once."""
        upper = self.duration_s if self.duration_s > 0 else max(seconds, 0.0)
        self._position = min(max(0.0, float(seconds)), upper)
        self._player.setPosition(int(self._position * 1000))
        self.position_changed.emit(self._position)

    def jump_cue(self, cues: Sequence[float], direction: int) -> float | None:
        """Seek to the next (direction > 0) or previous cue; returns the new position or None."""
        here = self._position
        if direction > 0:
            later = [c for c in sorted(cues) if c > here + 0.05]
            target = later[0] if later else None
        else:
            # Like DJ players: "previous" from just after a cue goes to the cue before it.
            earlier = [c for c in sorted(cues) if c < here - 0.5]
            target = earlier[-1] if earlier else (0.0 if cues else None)
        if target is not None:
            self.seek(target)
        return target

    def _tick(self) -> None:
        if self.playing:
            self._position = self._player.position() / 1000.0
        self.position_changed.emit(self._position)

    def _state_changed(self, _state: QMediaPlayer.PlaybackState) -> None:
        if self.playing:
            self._timer.start()
        else:
            self._timer.stop()
        self.playing_changed.emit(self.playing)


def _tool_button(icon: QIcon) -> QToolButton:
    button = QToolButton()
    button.setIcon(icon)
    return button


class PlayerBar(QWidget):
    """Previous cue / play-pause / next cue and the time; space toggles when the view has focus."""

    def __init__(self, player: PreviewPlayer, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.player = player
        self.cue_positions: list[float] = []
        style = self.style()
        self.prev_button = _tool_button(
            style.standardIcon(QStyle.StandardPixmap.SP_MediaSkipBackward)
        )
        self.play_button = _tool_button(style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay))
        self.next_button = _tool_button(
            style.standardIcon(QStyle.StandardPixmap.SP_MediaSkipForward)
        )
        self.prev_button.setToolTip("Previous cue")
        self.play_button.setToolTip("Play / pause (Space)")
        self.next_button.setToolTip("Next cue")
        self.time_label = QLabel("0:00 / 0:00")
        self.time_label.setMinimumWidth(130)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        for w in (self.prev_button, self.play_button, self.next_button, self.time_label):
            layout.addWidget(w)
        layout.addStretch(1)
        self.prev_button.clicked.connect(lambda: player.jump_cue(self.cue_positions, -1))
        self.next_button.clicked.connect(lambda: player.jump_cue(self.cue_positions, +1))
        self.play_button.clicked.connect(player.toggle)
        player.position_changed.connect(self._show_time)
        player.playing_changed.connect(self._show_state)

    def install_shortcuts(self, scope: QWidget) -> None:
        """Space = play/pause, Ctrl+Left/Right = cue jumps, active while focus is inside ``scope``."""
        for keys, slot in (
            (Qt.Key.Key_Space, self.player.toggle),
            ("Ctrl+Right", lambda: self.player.jump_cue(self.cue_positions, +1)),
            ("Ctrl+Left", lambda: self.player.jump_cue(self.cue_positions, -1)),
        ):
            shortcut = QShortcut(QKeySequence(keys), scope)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)

    def _show_time(self, seconds: float) -> None:
        self.time_label.setText(f"{fmt_time(seconds)} / {fmt_time(self.player.duration_s)}")

    def _show_state(self, playing: bool) -> None:
        icon = (
            QStyle.StandardPixmap.SP_MediaPause if playing else QStyle.StandardPixmap.SP_MediaPlay
        )
        self.play_button.setIcon(self.style().standardIcon(icon))
