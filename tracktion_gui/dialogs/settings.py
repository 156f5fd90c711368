"""Settings: mode and server URLs (with a connection test), key notation, mixes, tracklists, appearance."""

from __future__ import annotations

import dataclasses
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from backend.api.client import LibraryClient
from backend.config import ConfigError, Settings, settings_from_values
from tracktion_gui.asyncutil import spawn
from tracktion_gui.dialogs import connection

NOTATIONS = {"Camelot (8A)": "camelot", "Open Key (1m)": "openkey", "Standard (Am)": "standard"}
THEMES = {"Follow the system": "system", "Dark": "dark", "Light": "light"}


class SettingsDialog(QDialog):
    """Edits the settings file; ``applied`` fires after a successful save."""

    applied = Signal()

    def __init__(self, client: LibraryClient, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.client = client
        self.setWindowTitle("Settings")
        self.setObjectName("settingsDialog")
        self.setMinimumWidth(620)
        s = client.settings
        self.mode = QComboBox(self)
        self.mode.addItems(["embedded", "services"])
        self.mode.setCurrentText(s.mode)
        self.database_url = QLineEdit(s.services.database_url, self)
        self.amqp_url = QLineEdit(s.services.amqp_url, self)
        self.redis_url = QLineEdit(s.services.redis_url, self)
        self.neo4j_uri = QLineEdit(s.services.neo4j_uri, self)
        self.test_button = QPushButton("Test connection", self)
        self.test_result = QLabel(self)
        self.test_result.setObjectName("testResult")
        self.test_result.setWordWrap(True)
        self.test_button.clicked.connect(self.test_connection)
        self.mode.currentTextChanged.connect(self._mode_changed)

        self.notation = QComboBox(self)
        self.notation.addItems(list(NOTATIONS))
        self.notation.setCurrentText(_key_for(NOTATIONS, s.ui.key_notation))
        self.theme = QComboBox(self)
        self.theme.addItems(list(THEMES))
        self.theme.setCurrentText(_key_for(THEMES, s.ui.theme))
        self.mix_minutes = QDoubleSpinBox(self)
        self.mix_minutes.setRange(1, 600)
        self.mix_minutes.setDecimals(0)
        self.mix_minutes.setSuffix(" min")
        self.mix_minutes.setValue(s.library.mix_min_duration_s / 60)
        self.interval = QDoubleSpinBox(self)
        self.interval.setRange(1, 600)
        self.interval.setDecimals(1)
        self.interval.setSuffix(" s between requests")
        self.interval.setValue(s.tracklists.min_interval_s)
        self.cache_days = QDoubleSpinBox(self)
        self.cache_days.setRange(0, 365)
        self.cache_days.setDecimals(0)
        self.cache_days.setSuffix(" days")
        self.cache_days.setValue(s.tracklists.cache_days)
        self.error = QLabel(self)
        self.error.setStyleSheet("color: #e5534b;")
        self.error.setWordWrap(True)

        mode_box = QGroupBox("Where Tracktion runs", self)
        form = QFormLayout(mode_box)
        form.addRow("Mode", self.mode)
        form.addRow("PostgreSQL", self.database_url)
        form.addRow("RabbitMQ", self.amqp_url)
        form.addRow("Redis", self.redis_url)
        form.addRow("Neo4j", self.neo4j_uri)
        form.addRow(self.test_button, self.test_result)
        lib_box = QGroupBox("Library", self)
        lib = QFormLayout(lib_box)
        lib.addRow("Key notation", self.notation)
        lib.addRow("Treat as a mix from", self.mix_minutes)
        tl_box = QGroupBox("Tracklists (1001tracklists politeness)", self)
        tl = QFormLayout(tl_box)
        tl.addRow("Wait at least", self.interval)
        tl.addRow("Keep pages for", self.cache_days)
        look_box = QGroupBox("Appearance", self)
        look = QFormLayout(look_box)
        look.addRow("Theme", self.theme)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        for w in (mode_box, lib_box, tl_box, look_box, self.error, buttons):
            layout.addWidget(w)
        self._mode_changed(self.mode.currentText())

    def _mode_changed(self, mode: str) -> None:
        for w in (self.database_url, self.amqp_url, self.redis_url, self.neo4j_uri):
            w.setEnabled(mode == "services")

    def changes(self) -> dict[str, Any]:
        """The form as a settings-file fragment."""
        return {
            "mode": self.mode.currentText(),
            "services": {
                "database_url": self.database_url.text().strip(),
                "amqp_url": self.amqp_url.text().strip(),
                "redis_url": self.redis_url.text().strip(),
                "neo4j_uri": self.neo4j_uri.text().strip(),
            },
            "library": {"mix_min_duration_s": round(self.mix_minutes.value() * 60, 1)},
            "tracklists": {
                "min_interval_s": self.interval.value(),
                "cache_days": self.cache_days.value(),
            },
            "ui": {
                "key_notation": NOTATIONS[self.notation.currentText()],
                "theme": THEMES[self.theme.currentText()],
            },
        }

    def candidate(self) -> Settings:
        """Settings as they would be with this form's values (raises ConfigError)."""
        base = dataclasses.asdict(self.client.settings)
        base.pop("home")
        merged = base
        for key, value in self.changes().items():
            if isinstance(value, dict):
                merged[key] = {**merged.get(key, {}), **value}
            else:
                merged[key] = value
        return settings_from_values(self.client.settings.home, merged)

    def test_connection(self) -> Any:
        return spawn(self._test(), "settings-test")

    async def _test(self) -> None:
        try:
            settings = self.candidate()
        except ConfigError as exc:
            self.test_result.setText(f"<span style='color:#e5534b'>{exc}</span>")
            return
        self.test_result.setText("Checking…")
        self.test_button.setEnabled(False)
        try:
            services = await connection.check(settings)
        finally:
            self.test_button.setEnabled(True)
        self.test_result.setText(connection.summary_html(services))

    def save(self) -> None:
        previous_mode = self.client.settings.mode
        try:
            self.client.save_settings(self.changes())
        except ConfigError as exc:
            self.error.setText(str(exc))
            return
        if self.client.settings.mode != previous_mode:
            self.error.setText("")
            parent = self.parent()
            if parent is not None and hasattr(parent, "show_message"):
                parent.show_message("Mode changed: restart Tracktion to switch")
        self.applied.emit()
        self.accept()


def _key_for(mapping: dict[str, str], value: str) -> str:
    return next((k for k, v in mapping.items() if v == value), next(iter(mapping)))
