"""Quitting while guests run on the embedded connection.

Those guests are QEMU processes that Nido started itself, with no daemon behind them. They
keep running when Nido exits, and libvirt's embedded driver finds them again at the next
start (it reconnects to each QEMU from the state under its root directory). The person
chooses: leave them running, shut them down now, or not quit after all.
"""

from __future__ import annotations

import enum
import time

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QCheckBox, QMessageBox, QProgressDialog, QWidget

from app.core import uris, vmops
from app.core.inventory import VMInfo
from app.core.vmstate import Action
from app.qt.bridge import ConnectionHub
from app.qt.jobs import Op
from app.qt.models import VMTreeModel

SHUTDOWN_WAIT_S = 90


class Choice(enum.Enum):
    LEAVE = "leave"
    SHUTDOWN = "shutdown"
    CANCEL = "cancel"


def running_embedded_guests(hub: ConnectionHub, model: VMTreeModel) -> list[VMInfo]:
    embedded = {c.spec.id for c in hub.connections() if uris.is_embed_uri(c.uri or "")}
    return [vm for vm in model.all_vms() if vm.conn_id in embedded and vm.status.active]


def ask(parent: QWidget, guests: list[VMInfo]) -> tuple[Choice, bool]:
    """The question, and whether to remember the answer."""
    box = QMessageBox(parent)
    box.setObjectName("quitQuestion")
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Quit Nido")
    names = ", ".join(f"“{vm.display_name}”" for vm in guests[:4])
    if len(guests) > 4:
        names += f" and {len(guests) - 4} more"
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setText(
        f"{len(guests)} guest{'s are' if len(guests) > 1 else ' is'} still running: {names}."
    )
    box.setInformativeText(
        "Guests left running keep working after Nido closes, and Nido finds them again "
        "when it next starts. Or Nido can ask them to shut down now."
    )
    leave = box.addButton("Leave Running", QMessageBox.ButtonRole.AcceptRole)
    leave.setObjectName("leaveRunning")
    shut = box.addButton("Shut Down Guests", QMessageBox.ButtonRole.DestructiveRole)
    shut.setObjectName("shutDownGuests")
    box.addButton(QMessageBox.StandardButton.Cancel)
    remember = QCheckBox("Do not ask again")
    box.setCheckBox(remember)
    box.setDefaultButton(leave)
    box.exec()
    clicked = box.clickedButton()
    if clicked is leave:
        return Choice.LEAVE, remember.isChecked()
    if clicked is shut:
        return Choice.SHUTDOWN, remember.isChecked()
    return Choice.CANCEL, False


class GuestShutdown(QObject):
    """Asks each guest to shut down (ACPI), shows progress, and reports when all are off,
    or when the person gives up waiting."""

    finished = Signal(bool)  # True: all off; False: cancelled or timed out

    def __init__(
        self, hub: ConnectionHub, model: VMTreeModel, guests: list[VMInfo], parent: QWidget
    ) -> None:
        super().__init__(parent)
        self.hub = hub
        self.model = model
        self.keys = [vm.key for vm in guests]
        self.parent_widget = parent
        self.progress = QProgressDialog(
            "Asking the guests to shut down…", "Stop Waiting", 0, len(guests), parent
        )
        self.progress.setObjectName("shutdownProgress")
        self.progress.setWindowTitle("Quit Nido")
        self.progress.setMinimumDuration(0)
        self.progress.canceled.connect(lambda: self._finish(False))
        self._timer = QTimer(self)
        self._timer.setInterval(250)
        self._timer.timeout.connect(self._check)
        self._deadline = 0.0
        self._done = False

    def start(self) -> None:
        for conn_id, uuid in self.keys:
            conn = self.hub.connection(conn_id)
            if conn is None or conn.virconn is None:
                continue
            Op(
                vmops.run_action, conn.virconn, uuid, Action.SHUTDOWN, what="shut down a guest"
            ).failure(
                lambda _err: None  # already off, or no ACPI: the wait below covers it
            ).owned_by(self).run_on(conn.workers)
        self._deadline = time.monotonic() + SHUTDOWN_WAIT_S
        self.progress.show()
        self._timer.start()

    def remaining(self) -> list[VMInfo]:
        out = []
        for key in self.keys:
            vm = self.model.vm(*key)
            if vm is not None and vm.status.active:
                out.append(vm)
        return out

    def _check(self) -> None:
        left = self.remaining()
        self.progress.setValue(len(self.keys) - len(left))
        self.progress.setLabelText(
            "Waiting for " + ", ".join(f"“{vm.display_name}”" for vm in left[:3]) + " to shut down…"
            if left
            else "All guests are off."
        )
        if not left:
            self._finish(True)
        elif time.monotonic() > self._deadline:
            self._finish(False)

    def _finish(self, ok: bool) -> None:
        if self._done:
            return
        self._done = True
        self._timer.stop()
        self.progress.canceled.disconnect()
        self.progress.close()
        self.finished.emit(ok)
