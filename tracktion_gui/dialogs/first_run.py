"""First run: pick folders to watch or open the demo library; in services mode, check the servers first."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from backend.config import Settings
from tracktion_gui.asyncutil import spawn
from tracktion_gui.dialogs import connection

INTRO = (
    "<h2>Welcome to Tracktion</h2>"
    "<p>Pick the folders where your music lives. Tracktion watches them, reads the tags and "
    "analyses tempo, key and energy in the background — your files are only changed when you "
    "edit tags.</p>"
)


class FirstRunDialog(QDialog):
    """Result: ``folders`` (paths to watch) and/or ``demo`` (open the demo library)."""

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.setWindowTitle("Welcome to Tracktion")
        self.setObjectName("firstRunDialog")
        self.setMinimumSize(640, 460)
        self.folders: list[Path] = []
        self.demo = False
        intro = QLabel(INTRO, self)
        intro.setWordWrap(True)
        self.list = QListWidget(self)
        self.list.setObjectName("firstRunFolders")
        self.add_button = QPushButton("Add a music folder…", self)
        self.demo_button = QPushButton("Open the demo library", self)
        self.start_button = QPushButton("Start", self)
        self.start_button.setDefault(True)
        self.start_button.setEnabled(False)
        self.add_button.clicked.connect(self._pick)
        self.demo_button.clicked.connect(self._demo)
        self.start_button.clicked.connect(self.accept)
        self.mode_label = QLabel(self)
        self.mode_label.setObjectName("firstRunMode")
        self.mode_label.setWordWrap(True)
        self.mode_label.setTextFormat(Qt.TextFormat.RichText)
        self.check_button = QPushButton("Check again", self)
        self.check_button.clicked.connect(self.check)
        self.check_button.setVisible(settings.mode == "services")
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.demo_button)
        buttons.addStretch()
        buttons.addWidget(self.start_button)
        mode_row = QHBoxLayout()
        mode_row.addWidget(self.mode_label, 1)
        mode_row.addWidget(self.check_button)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(QLabel("Folders to watch:"))
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)
        layout.addLayout(mode_row)
        if settings.mode == "embedded":
            self.mode_label.setText(
                "Everything runs inside the app (embedded mode). For a server set-up, choose "
                "services mode in Settings."
            )
        else:
            self.mode_label.setText("Checking the servers of services mode…")

    def check(self) -> Any:
        return spawn(self._check(), "first-run-check")

    async def _check(self) -> None:
        services = await connection.check(self.settings)
        problems = connection.down(services)
        head = (
            "<b>Services mode: every server answers.</b><br>"
            if not problems
            else f"<b style='color:#e5534b'>Services mode: {', '.join(problems)} "
            f"{'is' if len(problems) == 1 else 'are'} down.</b> Start them (docker compose up) "
            "or switch to embedded mode in Settings.<br>"
        )
        self.mode_label.setText(head + connection.summary_html(services))

    def _pick(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Watch a music folder")
        if path:
            self.add_folder(Path(path))

    def add_folder(self, path: Path) -> None:
        if path not in self.folders:
            self.folders.append(path)
            self.list.addItem(str(path))
        self.start_button.setEnabled(True)

    def _demo(self) -> None:
        self.demo = True
        self.list.addItem("Demo library (generated tracks and a 20-minute mix)")
        self.start_button.setEnabled(True)
        self.demo_button.setEnabled(False)
