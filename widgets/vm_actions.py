"""The VM actions (Start, Shut down, Reboot, Force off, Pause, Resume, Save, Delete, Open)
as QActions for toolbars and menus, enabled only where they apply, with the confirmations
that protect the person's work. One instance serves the main window's selection; each VM
window has its own for its VM.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QMessageBox, QToolBar, QWidget

from app.core import vmops
from app.core.errors import NidoError
from app.core.inventory import VMInfo
from app.core.vmstate import Action, available_actions
from app.qt.bridge import ConnectionHub
from app.qt.jobs import Op
from app.qt.models import VMTreeModel, only_live_roles
from widgets.delete_dialog import DeleteDialog
from widgets.error_dialog import show_error
from widgets.icons import icon

log = logging.getLogger(__name__)

# (label, icon, shortcut, tooltip)
SPECS: dict[Action, tuple[str, str, str, str]] = {
    Action.OPEN: ("&Open", "open", "Ctrl+O", "Open the VM's window"),
    Action.START: ("&Start", "start", "Ctrl+R", "Start the VM, or restore its saved state"),
    Action.SHUTDOWN: ("Shut &Down", "shutdown", "Ctrl+T", "Ask the guest to shut down (ACPI)"),
    Action.REBOOT: ("Re&boot", "reboot", "Ctrl+Shift+R", "Ask the guest to restart (ACPI)"),
    Action.FORCE_OFF: (
        "&Force Off…",
        "force-off",
        "Ctrl+Shift+T",
        "Switch the VM off at once, like pulling the power cord",
    ),
    Action.PAUSE: ("&Pause", "pause", "Ctrl+P", "Freeze the VM where it is"),
    Action.RESUME: ("Res&ume", "resume", "Ctrl+Shift+P", "Let a paused VM run on"),
    Action.SAVE: (
        "Sa&ve State",
        "save",
        "Ctrl+S",
        "Save the VM's memory to disk and stop it; Start restores it",
    ),
    Action.DELETE: ("De&lete…", "delete", "Delete", "Delete the VM, and its disks if you choose"),
}

# How the actions are laid out in toolbars and menus; None is a separator.
ACTION_ORDER: tuple[Action | None, ...] = (
    Action.OPEN,
    None,
    Action.START,
    Action.SHUTDOWN,
    Action.REBOOT,
    Action.PAUSE,
    Action.RESUME,
    Action.SAVE,
    Action.FORCE_OFF,
    None,
    Action.DELETE,
)

# Words for the status bar while an action runs.
PROGRESS: dict[Action, str] = {
    Action.START: "Starting",
    Action.SHUTDOWN: "Asking to shut down",
    Action.REBOOT: "Asking to reboot",
    Action.FORCE_OFF: "Forcing off",
    Action.PAUSE: "Pausing",
    Action.RESUME: "Resuming",
    Action.SAVE: "Saving the state of",
    Action.DELETE: "Deleting",
}


class VMActions(QObject):
    """QActions bound to whichever VM `target()` names by its key (connection id, uuid).

    The VM's state is always read from the model, which follows libvirt's events, so the
    enabled actions match what the person sees."""

    openRequested = Signal(object)  # VMInfo
    status = Signal(str, int)  # message, timeout in ms (0 = until replaced)

    def __init__(
        self,
        hub: ConnectionHub,
        model: VMTreeModel,
        window: QWidget,
        target: Callable[[], tuple[str, str] | None],
    ) -> None:
        super().__init__(window)
        self.hub = hub
        self.model = model
        self.window = window
        self.target = target
        self._busy: set[tuple[str, str]] = set()
        self.actions: dict[Action, QAction] = {}
        for action, (label, icon_name, shortcut, tip) in SPECS.items():
            qa = QAction(icon(icon_name), label, window)
            qa.setShortcut(QKeySequence(shortcut))
            qa.setToolTip(
                f"{tip} ({QKeySequence(shortcut).toString(QKeySequence.SequenceFormat.NativeText)})"
            )
            qa.setStatusTip(tip)
            qa.setObjectName(f"action_{action.value}")
            qa.triggered.connect(lambda _checked=False, a=action: self.trigger(a))
            self.actions[action] = qa
        # Bound methods, not lambdas: Qt drops these connections when this object (and the
        # window it belongs to) is deleted, while the model lives on.
        model.dataChanged.connect(self._data_changed)
        model.rowsInserted.connect(self._rows_changed)
        model.rowsRemoved.connect(self._rows_changed)
        hub.connectionChanged.connect(self._connection_changed)
        self.update_enabled()

    def add_to(self, target: QMenu | QToolBar, skip: frozenset[Action] = frozenset()) -> None:
        """Put the actions into a menu or toolbar in the usual order."""
        separated = True
        for action in ACTION_ORDER:
            if action is None:
                if not separated:
                    target.addSeparator()
                    separated = True
            elif action not in skip:
                target.addAction(self.actions[action])
                separated = False

    def _data_changed(self, _top_left, _bottom_right, roles=()) -> None:
        if not only_live_roles(roles):
            self.update_enabled()

    def _rows_changed(self, *_args) -> None:
        self.update_enabled()

    def _connection_changed(self, conn_id: str) -> None:
        conn = self.hub.connection(conn_id)
        if conn is not None and conn.virconn is not None:
            return
        stuck = {key for key in self._busy if key[0] == conn_id}
        if stuck:
            # Their calls went to a connection that is gone; whether they happened is
            # shown by the VM's state once the connection is back.
            self._busy -= stuck
            self.status.emit("The connection was lost while an action was under way.", 8000)
            self.update_enabled()

    def update_enabled(self) -> None:
        vm = self._current()
        allowed = available_actions(vm.status) if vm is not None else frozenset()
        busy = vm is not None and vm.key in self._busy
        for action, qa in self.actions.items():
            enabled = action in allowed and (action is Action.OPEN or not busy)
            qa.setEnabled(enabled)

    def _current(self) -> VMInfo | None:
        key = self.target()
        return self.model.vm(*key) if key is not None else None

    # -- doing things ----------------------------------------------------------------------
    def trigger(self, action: Action) -> None:
        vm = self._current()
        if vm is None or action not in available_actions(vm.status):
            return
        if action is Action.OPEN:
            self.openRequested.emit(vm)
            return
        if vm.key in self._busy:
            return
        if action is Action.FORCE_OFF and not self._confirm_force_off(vm):
            return
        if action is Action.DELETE:
            self._delete(vm)
            return
        self._run(vm, action, vmops.run_action, vm.uuid, action)

    def _run(self, vm: VMInfo, action: Action, fn, *args) -> None:
        conn = self.hub.connection(vm.conn_id)
        virconn = conn.virconn if conn else None
        if conn is None or virconn is None:
            show_error(self.window, NidoError(f"{vm.display_name}'s host is not connected."))
            return
        self._busy.add(vm.key)
        self.update_enabled()
        self.status.emit(f"{PROGRESS[action]} “{vm.display_name}”…", 0)
        (
            Op(fn, virconn, *args, what=f"{vmops.VERBS[action]} “{vm.display_name}”")
            .success(lambda result, v=vm, a=action: self._done(v, a, result))
            .failure(lambda err, v=vm: self._failed(v, err))
            .owned_by(self)
            .run_on(conn.workers)
        )

    def _done(self, vm: VMInfo, action: Action, result) -> None:
        self._busy.discard(vm.key)
        self.update_enabled()
        self.status.emit(f"{PROGRESS[action]} “{vm.display_name}”: done.", 4000)
        if action is Action.DELETE and result:
            show_error(
                self.window,
                NidoError(
                    f"“{vm.display_name}” was deleted, but some disk images were not.",
                    "\n".join(result),
                ),
            )

    def _failed(self, vm: VMInfo, err: NidoError) -> None:
        self._busy.discard(vm.key)
        self.update_enabled()
        self.status.emit(err.summary, 8000)
        show_error(self.window, err)

    def _confirm_force_off(self, vm: VMInfo) -> bool:
        box = QMessageBox(self.window)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("Force Off")
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setText(f"Force off “{vm.display_name}”?")
        box.setInformativeText(
            "The guest stops at once, as if its power cord were pulled. Work that is not "
            "saved inside it is lost."
        )
        force = box.addButton("Force Off", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        return box.clickedButton() is force

    def _delete(self, vm: VMInfo) -> None:
        conn = self.hub.connection(vm.conn_id)
        virconn = conn.virconn if conn else None
        if conn is None or virconn is None:
            return
        self._busy.add(vm.key)
        self.update_enabled()
        (
            Op(
                vmops.deletable_disks,
                virconn,
                vm.uuid,
                what=f"look at the disks of “{vm.display_name}”",
            )
            .success(lambda disks, v=vm: self._ask_delete(v, disks))
            .failure(lambda err, v=vm: self._failed(v, err))
            .owned_by(self)
            .run_on(conn.workers)
        )

    def _ask_delete(self, vm: VMInfo, disks: list[vmops.DiskImage]) -> None:
        self._busy.discard(vm.key)
        dialog = DeleteDialog(vm, disks, self.window)
        if dialog.exec() != DeleteDialog.DialogCode.Accepted:
            self.update_enabled()
            return
        self._run(vm, Action.DELETE, vmops.delete_vm, vm.uuid, dialog.chosen_paths())
