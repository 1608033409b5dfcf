"""The one place failures are shown: a one-line summary, expandable details, and a pointer
to the log. Never a raw traceback in the person's face."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from app.core.errors import ErrorKind, NidoError

_unowned: set[QMessageBox] = set()


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
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    if parent is None:  # nothing else owns it: keep it alive until it is closed
        _unowned.add(box)
        box.finished.connect(lambda _result, b=box: _unowned.discard(b))
    box.open()
    return box
