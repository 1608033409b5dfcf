"""Step 7: making the VM, off the GUI thread, with a progress bar and Cancel (which removes
everything made so far). Once the VM is defined and starting, creation is past the point
of no return: Cancel goes grey and the page says so; a cancel that comes too late (Escape,
closing the window) is told plainly, and the VM stays. On success the wizard closes and
the VM's window opens."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QProgressBar, QVBoxLayout

from widgets.newvm.common import HINT_COLOUR
from widgets.newvm.wizard import NewVMWizard, Page

CANCEL_NOTE = "Cancel stops and removes everything made so far."


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
        self.note = QLabel(CANCEL_NOTE)
        self.note.setObjectName("createNote")
        self.note.setWordWrap(True)
        self.note.setStyleSheet(f"color: {HINT_COLOUR};")
        layout.addStretch(1)
        layout.addWidget(self.status)
        layout.addWidget(self.bar)
        layout.addWidget(self.note)
        layout.addStretch(2)
        nv.createProgress.connect(self._progress)
        nv.createCommitted.connect(self._committed)
        nv.createTooLate.connect(self._too_late)
        nv.createFinished.connect(self._finished)

    def isComplete(self) -> bool:
        return False  # the wizard closes itself once the VM is made

    def initializePage(self) -> None:
        self.status.setText(f"Creating “{self.nv.spec.name}”…")
        self.note.setText(CANCEL_NOTE)
        self.bar.setRange(0, 1000)
        self.bar.setValue(0)
        self.nv.start_create()

    def _made(self) -> str:
        """What exists now, in words: 'created and is starting' or 'created'."""
        return "was created and is starting" if self.nv.spec.start else "was created"

    def _progress(self, text: str, fraction: float) -> None:
        self.status.setText(text)
        if fraction < 0:
            self.bar.setRange(0, 0)  # busy: removing what was made
        else:
            self.bar.setRange(0, 1000)
            self.bar.setValue(round(fraction * 1000))

    def _committed(self) -> None:
        self.note.setText(
            f"“{self.nv.spec.name}” {self._made()}: it can no longer be cancelled. "
            "Shut it down or delete it from the VM list if you do not want it."
        )

    def _too_late(self) -> None:
        self.note.setText(
            f"Too late to cancel: “{self.nv.spec.name}” {self._made()}. It stays in the "
            "VM list; shut it down or delete it there if you do not want it."
        )

    def _finished(self, made: bool) -> None:
        if made and self.nv.too_late:
            done = "was created and started" if self.nv.spec.start else "was created"
            self.status.setText(f"“{self.nv.spec.name}” {done}.")
            self.bar.setRange(0, 1000)
            self.bar.setValue(1000)
