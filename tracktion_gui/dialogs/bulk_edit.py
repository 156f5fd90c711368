"""Bulk edit: set tag fields on every selected track at once (one undoable batch)."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from tracktion_gui.models.columns import BY_NAME

FIELDS = (
    "artist",
    "title",
    "album",
    "album_artist",
    "genre",
    "label",
    "year",
    "comment",
    "key_tag",
)
MIXED = "(several values)"


class BulkEditDialog(QDialog):
    """Each field has a checkbox: only ticked fields are written; an empty ticked field clears it."""

    def __init__(
        self, count: int, rows: list[dict[str, Any]], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Edit {count} tracks")
        self.setObjectName("bulkEditDialog")
        grid = QGridLayout()
        self.boxes: dict[str, tuple[QCheckBox, QLineEdit]] = {}
        for row, name in enumerate(FIELDS):
            values = {r.get(name) for r in rows}
            edit = QLineEdit(self)
            if len(values) == 1:
                only = next(iter(values))
                edit.setText("" if only is None else str(only))
            else:
                edit.setPlaceholderText(MIXED)
            box = QCheckBox(BY_NAME[name].title, self)
            edit.textEdited.connect(lambda _t, b=box: b.setChecked(True))
            grid.addWidget(box, row, 0)
            grid.addWidget(edit, row, 1)
            self.boxes[name] = (box, edit)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"Write to the files of {count} selected tracks:"))
        layout.addLayout(grid)
        layout.addWidget(QLabel("Ticked fields are written; Ctrl+Z undoes the whole edit."))
        layout.addWidget(buttons)

    def changes(self) -> dict[str, Any]:
        return {
            name: (edit.text().strip() or None)
            for name, (box, edit) in self.boxes.items()
            if box.isChecked()
        }
