"""The one place failures are shown: a one-line summary, expandable details, and a pointer
to the log. Never a raw traceback in the person's face."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from app.core.errors import ErrorKind, NidoError

_open_dialogs: list[QMessageBox] = []


def show_error(parent: QWidget | None, err: NidoError, title: str = "Nido") -> QMessageBox:
    """Show `err` without blocking the caller (the dialog is window-modal, not nested)."""
    box = QMessageBox(parent)
    box.setWindowTitle(title)
    icon = (
        QMessageBox.Icon.Information
        if err.kind is ErrorKind.CANCELLED
        else QMessageBox.Icon.Warning
    )
    box.setIcon(icon)
    box.setTextFormat(Qt.TextFormat.PlainText)  # names in messages are not markup
    box.setText(err.summary)
    if err.details:
        box.setDetailedText(err.details)
    box.setInformativeText("The details are also in Nido's log.")
    box.setStandardButtons(QMessageBox.StandardButton.Close)
    box.setObjectName("errorDialog")
    _open_dialogs.append(box)
    box.finished.connect(lambda _r, b=box: _open_dialogs.remove(b) if b in _open_dialogs else None)
    box.open()
    return box


def open_error_dialogs() -> list[QMessageBox]:
    """The error dialogs on screen now (tests look at them)."""
    return list(_open_dialogs)
