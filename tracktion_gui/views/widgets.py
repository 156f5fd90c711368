"""Small shared widgets: a progress-bar delegate for table cells."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import (
    QApplication,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionProgressBar,
    QStyleOptionViewItem,
)

PROGRESS_ROLE = Qt.ItemDataRole.UserRole + 3


class ProgressDelegate(QStyledItemDelegate):
    """Paints a progress bar from the cell's PROGRESS_ROLE (0..1, or None for plain text)."""

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        value = index.data(PROGRESS_ROLE)
        if value is None:
            super().paint(painter, option, index)
            return
        bar = QStyleOptionProgressBar()
        bar.rect = option.rect.adjusted(2, 4, -2, -4)
        bar.minimum = 0
        bar.maximum = 100
        bar.progress = round(float(value) * 100)
        bar.text = f"{bar.progress}%"
        bar.textVisible = True
        style = QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter)
