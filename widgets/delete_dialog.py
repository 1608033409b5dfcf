"""Confirming a VM's deletion, with the choice to delete its disk images too.

Images another VM also uses are listed but cannot be chosen; install discs are never
listed at all (app.core.vmops decides which images qualify).
"""

from __future__ import annotations

import html

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from app.core.inventory import VMInfo
from app.core.vmops import DiskImage


class DeleteDialog(QDialog):
    def __init__(self, vm: VMInfo, disks: list[DiskImage], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("deleteDialog")
        self.setWindowTitle("Delete VM")
        self.setMinimumWidth(460)
        layout = QVBoxLayout(self)
        title = QLabel(f"<b>Delete “{html.escape(vm.display_name)}”?</b>")
        layout.addWidget(title)
        running = " It is running and will be switched off first." if vm.status.active else ""
        text = QLabel(
            "The VM's definition, saved state, snapshots' records and firmware variables "
            f"are removed. This cannot be undone.{running}"
        )
        text.setWordWrap(True)
        layout.addWidget(text)
        self.disk_boxes: list[tuple[QCheckBox, DiskImage]] = []
        if disks:
            layout.addWidget(QLabel("Also delete these disk images:"))
        for disk in disks:
            label = f"{disk.path}  ({disk.target})" if disk.target else disk.path
            label = label.replace("&", "&&")  # a literal & in a path, not a shortcut key
            box = QCheckBox(label)
            if disk.deletable:
                box.setChecked(True)
            else:
                box.setEnabled(False)
                box.setToolTip("Also used by " + ", ".join(disk.shared_with))
                box.setText(f"{label} — also used by {', '.join(disk.shared_with)}")
            layout.addWidget(box)
            self.disk_boxes.append((box, disk))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.delete_button = buttons.addButton(
            "Delete", QDialogButtonBox.ButtonRole.DestructiveRole
        )
        self.delete_button.setObjectName("confirmDelete")
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setDefault(True)
        self.delete_button.clicked.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        for box, _disk in self.disk_boxes:
            box.toggled.connect(self._name_button)
        self._name_button()

    def _name_button(self) -> None:
        """The button says exactly what it will delete."""
        n = len(self.chosen_paths())
        images = f" and {n} disk image{'s' if n != 1 else ''}" if n else ""
        self.delete_button.setText(f"Delete VM{images}")

    def chosen_paths(self) -> list[str]:
        return [disk.path for box, disk in self.disk_boxes if box.isChecked() and box.isEnabled()]
