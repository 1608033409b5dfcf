"""Custom key combinations for the display's Send Key menu: a small dialog that records
one (the person presses it), and the conversion of the remembered text form back to the
keys the guest gets.

Combinations are kept in the settings as Qt's portable key-sequence text ("Ctrl+Alt+F5"),
so the file stays readable, and are turned into scancodes as a US keyboard types them
(:func:`widgets.display.keys.qt_combo`).
"""

from __future__ import annotations

from PySide6.QtCore import QKeyCombination, Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QKeySequenceEdit,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from widgets.display import keys

PORTABLE = QKeySequence.SequenceFormat.PortableText
NATIVE = QKeySequence.SequenceFormat.NativeText


def _key_int(combination: QKeyCombination) -> int:
    key = combination.key()
    return int(getattr(key, "value", key))


def to_keys(combination: QKeyCombination) -> list[tuple[int, int]]:
    """(keysym, scancode) of each key of ``combination``; ValueError if it cannot be sent."""
    return keys.qt_combo(_key_int(combination), combination.keyboardModifiers())


def parse(text: str) -> tuple[str, list[tuple[int, int]]]:
    """A remembered combination's menu label and keys; ValueError if it is not one."""
    sequence = QKeySequence.fromString(text, PORTABLE)
    if sequence.count() != 1:
        raise ValueError(f"not one key combination: {text!r}")
    return sequence.toString(NATIVE), to_keys(sequence[0])


class CustomKeyDialog(QDialog):
    """Records one key combination; :attr:`text` is it in portable form once accepted."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("customKeyDialog")
        self.setWindowTitle("Send a Key Combination")
        self.text = ""
        self.combination: list[tuple[int, int]] = []
        layout = QVBoxLayout(self)
        intro = QLabel("Press the keys to send to the guest, for example Ctrl+Alt+F5.", self)
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.edit = QKeySequenceEdit(self)
        self.edit.setObjectName("customKeyEdit")
        self.edit.setMaximumSequenceLength(1)
        self.edit.setClearButtonEnabled(True)
        self.edit.keySequenceChanged.connect(self._recorded)
        layout.addWidget(self.edit)
        self.note = QLabel(self)
        self.note.setObjectName("customKeyNote")
        self.note.setTextFormat(Qt.TextFormat.PlainText)
        self.note.setWordWrap(True)
        layout.addWidget(self.note)
        self.keep = QCheckBox("Add it to the Send Key menu", self)
        self.keep.setObjectName("customKeyKeep")
        self.keep.setChecked(True)
        layout.addWidget(self.keep)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.send_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.send_button.setText("Send")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(420)
        self._recorded(self.edit.keySequence())
        self.edit.setFocus()

    def _recorded(self, sequence: QKeySequence) -> None:
        self.text = ""
        self.combination = []
        if sequence.isEmpty():
            self._say("Nothing recorded yet.", faint=True)
        else:
            try:
                self.combination = to_keys(sequence[0])
            except ValueError as e:
                self._say(str(e), error=True)
            else:
                self.text = sequence.toString(PORTABLE)
                self._say(f"Sends {sequence.toString(NATIVE)}.")
        self.send_button.setEnabled(bool(self.combination))

    def _say(self, text: str, *, error: bool = False, faint: bool = False) -> None:
        self.note.setText(text)
        if error:
            self.note.setStyleSheet("color: #c0392b;")
        elif faint:
            self.note.setStyleSheet("color: palette(placeholder-text);")
        else:
            self.note.setStyleSheet("")
