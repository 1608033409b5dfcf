"""Quitting while guests run on the embedded connection.

Those guests are QEMU processes that Nido started itself, with no daemon behind them. They
keep running when Nido exits, and libvirt's embedded driver finds them again at the next
start (it reconnects to each QEMU from the state under its root directory). The person
chooses: leave them running, shut them down now, or not quit after all.
"""

from __future__ import annotations

import enum
import math
import time

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QCheckBox, QMessageBox, QProgressBar, QProgressDialog, QWidget

from app.core import uris, vmops
from app.core.inventory import VMInfo
from app.core.vmstate import Action
from app.qt.bridge import ConnectionHub
from app.qt.jobs import Op
from app.qt.models import VMTreeModel
from widgets.wording import quoted_names

SHUTDOWN_WAIT_S = 90
#: A forced power-off takes QEMU a moment; past this, something is wrong with the host.
FORCE_OFF_WAIT_S = 20


class Choice(enum.Enum):
    LEAVE = "leave"
    SHUTDOWN = "shutdown"
    CANCEL = "cancel"


def running_embedded_guests(hub: ConnectionHub, model: VMTreeModel) -> list[VMInfo]:
    embedded = {c.spec.id for c in hub.connections() if uris.is_embed_uri(c.uri or "")}
    return [vm for vm in model.all_vms() if vm.conn_id in embedded and vm.status.active]


def guest_names(guests: list[VMInfo], most: int) -> str:
    """“a”, “b” and 2 more: at most ``most`` names."""
    return quoted_names([vm.display_name for vm in guests], most)


class Stragglers(enum.Enum):
    """What to do with guests that did not shut down when asked."""

    LEAVE = "leave"
    FORCE_OFF = "force_off"
    CANCEL = "cancel"


def ask_about_stragglers(parent: QWidget, guests: list[VMInfo]) -> Stragglers:
    """Guests did not stop within the wait: leave them running, pull their plug, or stay."""
    box = QMessageBox(parent)
    box.setObjectName("stragglersQuestion")
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("Quit Nido")
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setText(f"{guest_names(guests, 4)} did not shut down.")
    one = len(guests) == 1
    it, guest, has = ("it", "The guest", "it has") if one else ("them", "A guest", "they have")
    box.setInformativeText(
        f"{guest} may be busy, or ignore the shutdown request (an install disc's menu does). "
        f"Leave {it} running, or force {it} off: that is like pulling the plug, and what "
        f"{has} not saved is lost."
    )
    leave = box.addButton("Leave Running and Quit", QMessageBox.ButtonRole.AcceptRole)
    force = box.addButton("Force Off and Quit", QMessageBox.ButtonRole.DestructiveRole)
    force.setObjectName("forceOffGuests")
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(leave)
    box.exec()
    clicked = box.clickedButton()
    if clicked is leave:
        return Stragglers.LEAVE
    if clicked is force:
        return Stragglers.FORCE_OFF
    return Stragglers.CANCEL


def ask(parent: QWidget, guests: list[VMInfo]) -> tuple[Choice, bool]:
    """The question, and whether to remember the answer."""
    box = QMessageBox(parent)
    box.setObjectName("quitQuestion")
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Quit Nido")
    names = guest_names(guests, 4)
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
        self,
        hub: ConnectionHub,
        model: VMTreeModel,
        guests: list[VMInfo],
        parent: QWidget,
        action: Action = Action.SHUTDOWN,
    ) -> None:
        super().__init__(parent)
        self.hub = hub
        self.model = model
        self.keys = [vm.key for vm in guests]
        self.parent_widget = parent
        self.action = action
        self._verb = "shut down" if action is Action.SHUTDOWN else "turn off"
        self._wait_s = SHUTDOWN_WAIT_S if action is Action.SHUTDOWN else FORCE_OFF_WAIT_S
        self.progress = QProgressDialog(
            f"Asking the guests to {self._verb}…", "Stop Waiting", 0, len(guests), parent
        )
        bar = QProgressBar()
        bar.setFormat("%v of %m off")  # a count of guests, not a percentage of anything
        self.progress.setBar(bar)
        self.progress.setRange(0, len(guests))  # the new bar came with 0 to 100
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
                vmops.run_action, conn.virconn, uuid, self.action, what=f"{self._verb} a guest"
            ).failure(
                lambda _err: None  # already off, or no ACPI: the wait below covers it
            ).owned_by(self).run_on(conn.workers)
        self._deadline = time.monotonic() + self._wait_s
        self.progress.setValue(0)
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
        if left:
            wait = max(0, math.ceil(self._deadline - time.monotonic()))
            text = (
                f"Waiting for {guest_names(left, 3)} to {self._verb}…\n"
                f"Nido stops waiting in {wait} s."
            )
        else:
            text = "All guests are off."
        self.progress.setLabelText(text)
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
