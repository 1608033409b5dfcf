"""Step 7: making the VM, off the GUI thread, with a progress bar and Cancel (which removes
everything made so far). On success the wizard closes and the VM's window opens."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QProgressBar, QVBoxLayout

from widgets.newvm.common import HINT_COLOUR
from widgets.newvm.wizard import NewVMWizard, Page


class CreatePage(Page):
    def __init__(self, nv: NewVMWizard) -> None:
        super().__init__(nv)
        self.setTitle("Creating the VM")
        self.setSubTitle("This takes a moment; longer when a disk image is copied or converted.")
        self.setFinalPage(True)
        layout = QVBoxLayout(self)
        self.status = QLabel("Starting…")
        self.status.setObjectName("createStatus")
        self.status.setWordWrap(True)
        self.bar = QProgressBar()
        self.bar.setObjectName("createProgress")
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(False)
        note = QLabel("Cancel stops and removes everything made so far.")
        note.setStyleSheet(f"color: {HINT_COLOUR};")
        layout.addStretch(1)
        layout.addWidget(self.status)
        layout.addWidget(self.bar)
        layout.addWidget(note)
        layout.addStretch(2)
        nv.createProgress.connect(self._progress)

    def isComplete(self) -> bool:
        return False  # the wizard closes itself once the VM is made

    def initializePage(self) -> None:
        self.status.setText(f"Creating “{self.nv.spec.name}”…")
        self.bar.setRange(0, 1000)
        self.bar.setValue(0)
        self.nv.start_create()

    def _progress(self, text: str, fraction: float) -> None:
        self.status.setText(text)
        if fraction < 0:
            self.bar.setRange(0, 0)  # busy: removing what was made
        else:
            self.bar.setRange(0, 1000)
            self.bar.setValue(round(fraction * 1000))
