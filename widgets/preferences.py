"""The Preferences dialog: the choices Nido remembers that have no other place to be
changed back (what happens to running guests when Nido quits, thumbnails in the list).

It edits a copy and writes the person's choices into the settings only on OK, so Cancel
leaves everything as it was; the caller saves them (ConnectionHub.save).
"""

from __future__ import annotations

from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QGroupBox,
    QLabel,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from app.core.settings import Settings

#: settings.quit_embedded_guests values, with what the person reads.
QUIT_CHOICES = [
    ("ask", "Ask each time"),
    ("leave", "Leave them running (Nido finds them again at its next start)"),
    ("shutdown", "Ask them to shut down, and wait for them"),
]


class PreferencesDialog(QDialog):
    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("preferences")
        self.setWindowTitle("Preferences")
        self.settings = settings
        layout = QVBoxLayout(self)

        quit_box = QGroupBox("When Nido quits while guests run on “This computer”", self)
        quit_layout = QVBoxLayout(quit_box)
        self.quit_group = QButtonGroup(self)
        self.quit_buttons: dict[str, QRadioButton] = {}
        for value, label in QUIT_CHOICES:
            button = QRadioButton(label, quit_box)
            button.setObjectName(f"quit-{value}")
            self.quit_group.addButton(button)
            self.quit_buttons[value] = button
            quit_layout.addWidget(button)
        current = settings.quit_embedded_guests
        self.quit_buttons.get(current, self.quit_buttons["ask"]).setChecked(True)
        note = QLabel("Guests on other connections keep running: their daemon runs them.")
        note.setWordWrap(True)
        note.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        quit_layout.addWidget(note)
        layout.addWidget(quit_box)

        list_box = QGroupBox("VM list", self)
        list_layout = QVBoxLayout(list_box)
        self.thumbnails = QCheckBox("Show live thumbnails of running guests' screens", list_box)
        self.thumbnails.setChecked(settings.thumbnails)
        list_layout.addWidget(self.thumbnails)
        layout.addWidget(list_box)

        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def chosen_quit(self) -> str:
        return next(v for v, b in self.quit_buttons.items() if b.isChecked())

    def accept(self) -> None:
        self.settings.quit_embedded_guests = self.chosen_quit()
        self.settings.thumbnails = self.thumbnails.isChecked()
        super().accept()
