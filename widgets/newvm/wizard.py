"""The New-VM wizard: one page per step over a plain `NewVMSpec` (app.core.newvm).

The wizard owns the spec and what the pages share: the host's facts, the OS catalogue,
the detection of the install image, the OS defaults and the latest validation. Every
blocking step runs off the GUI thread: libvirt calls (host facts, and each libvirt step
of creation) on the connection's workers, file and libosinfo work (detection, the
catalogue, qemu-img info, validation, which reads files and binds ports for a moment) on
the wizard's own pool. Creation itself runs on the wizard's pool too, so a disk conversion
that takes minutes never holds a daemon connection's only call lane. Results come back as
signals; a result for a spec that changed meanwhile is dropped.
"""

from __future__ import annotations

import copy
import dataclasses
import enum
import logging
from collections.abc import Callable, Iterable

import shiboken6
from PySide6.QtCore import QSize, QTimer, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QWidget, QWizard, QWizardPage

from app.core import newvm, osdb
from app.core.connection import Connection
from app.core.errors import ErrorKind, NidoError
from app.core.inventory import VMInfo
from app.core.newvm import Defaults, HostFacts, NewVMSpec, NICSpec, Problem
from app.core.workers import WorkerPool
from app.qt.jobs import Op, call_in_gui
from app.qt.models import VMTreeModel
from widgets.error_dialog import show_error
from widgets.folders import Folders
from widgets.icons import icon
from widgets.newvm.common import field_problems
from widgets.newvm.host_facts import host_facts

log = logging.getLogger(__name__)

CHECK_DELAY_MS = 120  # coalesce quick edits into one validation
VM_APPEARS_MS = 10_000  # how long to wait for a created VM to reach the list


class PageId(enum.IntEnum):
    SOURCE = 0
    OS = 1
    RESOURCES = 2
    NETWORK = 3
    FIRMWARE = 4
    SUMMARY = 5
    CREATE = 6


def _choose(what: object, db: osdb.OSData) -> NewVMSpec:
    """The OS fields for `what` (blocking: libosinfo), on a spec of their own."""
    return newvm.choose_os(NewVMSpec(), what, db)  # type: ignore[arg-type]


class Page(QWizardPage):
    """A page edits some of the spec's fields and is complete when none has an error."""

    fields: tuple[str, ...] = ()

    def __init__(self, nv: NewVMWizard) -> None:
        super().__init__()
        self.nv = nv
        nv.problemsChanged.connect(self._problems_changed)
        nv.hostChanged.connect(self._problems_changed)

    def problems(self, *fields: str) -> list[Problem]:
        return field_problems(self.nv.problems, *(fields or self.fields))

    def ready(self) -> bool:
        """Page-specific conditions beyond validation (work still running, say)."""
        return True

    def isComplete(self) -> bool:
        return self.nv.fields_ok(self.fields) and self.ready()

    def show_problems(self) -> None:
        """Put the current problems under the page's fields."""

    def _problems_changed(self) -> None:
        if self.nv.currentPage() is self:
            self.show_problems()
        self.completeChanged.emit()


class NewVMWizard(QWizard):
    """Create a VM on one connection. `on_created(vm)` runs once the new VM is listed."""

    problemsChanged = Signal()  # a validation finished
    hostChanged = Signal()  # the host's facts arrived (or failed)
    catalogueChanged = Signal()
    detectionChanged = Signal()  # detection started, finished or failed
    osChanged = Signal()  # the spec's OS and the defaults changed
    createProgress = Signal(str, float)
    createCommitted = Signal()  # past the point of no return: the VM is made and starting
    createTooLate = Signal()  # a cancel came after that point: the VM stays
    createFinished = Signal(bool)  # True: made and listed; False: failed or cancelled

    def __init__(
        self,
        conn: Connection,
        model: VMTreeModel | None = None,
        parent: QWidget | None = None,
        *,
        host: HostFacts | None = None,
        database: osdb.OSDatabaseClient | None = None,
        on_created: Callable[[VMInfo], None] | None = None,
        folders: Folders | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("newVMWizard")
        #: Where the Browse… dialogs start (remembered in the settings when given).
        self.folders = folders or Folders()
        self.setWindowTitle(f"New VM on {conn.spec.label}")
        self.setWindowIcon(icon("new-vm"))
        self.setWizardStyle(QWizard.WizardStyle.ClassicStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage, True)
        self.setOption(QWizard.WizardOption.HaveHelpButton, False)
        self.conn = conn
        self.model = model
        self.on_created = on_created
        # libosinfo runs in a helper process while the wizard is open (about 55 MiB);
        # releasing the lease when the wizard is done stops it.
        self.db = (database or osdb.database()).hold()
        lease = self.db
        self.destroyed.connect(lambda _obj=None: lease.release())  # backstop for done()
        self.spec = NewVMSpec()
        self.host: HostFacts | None = host
        self.host_error: NidoError | None = None
        self.defaults: Defaults | None = None
        self.touched: set[str] = set()  # fields the person set; defaults leave them be
        self.problems: list[Problem] = []
        self.revision = 0
        self.checked = -1
        self.catalogue: tuple[osdb.OSInfo, ...] | None = None
        self.catalogue_error: NidoError | None = None
        self.detecting = ""  # the path being detected, '' when idle
        self.detection_error: NidoError | None = None
        self.osdb_error: NidoError | None = None  # the OS database failed: Nido's guesses
        self.os_pending = 0
        self._os_token = 0
        self._detect_token = 0
        self.creating = False
        self.cancelling = False
        self.committed = False  # creation passed the point of no return
        self.too_late = False  # the person cancelled after it: the VM stays, unopened
        self.created_uuid = ""
        self._gate = newvm.CancelGate()
        self.io = WorkerPool("newvm", size=2)
        self.closed = False  # once done: no new work (results still on their way are dropped)

        self._check_timer = QTimer(self)
        self._check_timer.setSingleShot(True)
        self._check_timer.setInterval(CHECK_DELAY_MS)
        self._check_timer.timeout.connect(self._run_check)
        self._vm_timer = QTimer(self)
        self._vm_timer.setSingleShot(True)
        self._vm_timer.timeout.connect(self._vm_not_listed)

        from widgets.newvm.create_page import CreatePage
        from widgets.newvm.firmware_page import FirmwarePage
        from widgets.newvm.network_page import NetworkPage
        from widgets.newvm.os_page import OSPage
        from widgets.newvm.resources_page import ResourcesPage
        from widgets.newvm.source_page import SourcePage
        from widgets.newvm.summary_page import SummaryPage

        self.source_page = SourcePage(self)
        self.os_page = OSPage(self)
        self.resources_page = ResourcesPage(self)
        self.network_page = NetworkPage(self)
        self.firmware_page = FirmwarePage(self)
        self.summary_page = SummaryPage(self)
        self.create_page = CreatePage(self)
        for pid, page in (
            (PageId.SOURCE, self.source_page),
            (PageId.OS, self.os_page),
            (PageId.RESOURCES, self.resources_page),
            (PageId.NETWORK, self.network_page),
            (PageId.FIRMWARE, self.firmware_page),
            (PageId.SUMMARY, self.summary_page),
            (PageId.CREATE, self.create_page),
        ):
            self.setPage(pid, page)
        self.setStartId(PageId.SOURCE)
        self.resize(self.sizeHint().expandedTo(QSize(760, 600)))

        self.currentIdChanged.connect(self._buttons_for)
        if model is not None:
            model.rowsInserted.connect(self._look_for_vm)
            model.dataChanged.connect(self._look_for_vm)
        self.run_io(
            Op(self.db.catalogue, what="read the OS list")
            .success(self._got_catalogue)
            .failure(self._catalogue_failed)
        )
        if host is None:
            self._gather_host()
        else:
            QTimer.singleShot(0, self._host_ready)

    # -- the host --------------------------------------------------------------------------
    def _gather_host(self) -> None:
        virconn = self.conn.virconn
        if virconn is None:
            self._host_failed(NidoError(f"{self.conn.spec.label} is not connected."))
            return
        (
            Op(
                host_facts,
                virconn,
                self.conn.accelerator,
                what=f"look at what {self.conn.spec.label} offers",
            )
            .success(self._got_host)
            .failure(self._host_failed)
            .owned_by(self)
            .run_on(self.conn.workers)
        )

    def _got_host(self, host: HostFacts) -> None:
        self.host = host
        self._host_ready()

    def _host_ready(self) -> None:
        if self.spec.os_defaults is not None:
            self.apply_defaults()
        self.hostChanged.emit()
        self.revalidate()

    def _host_failed(self, err: NidoError) -> None:
        self.host_error = err
        self.hostChanged.emit()

    def effective_host(self) -> HostFacts | None:
        """The host's facts, with the names of VMs listed since they were gathered."""
        if self.host is None:
            return None
        if self.model is None:
            return self.host
        listed = {vm.name for vm in self.model.all_vms() if vm.conn_id == self.conn.spec.id}
        if listed <= self.host.existing_names:
            return self.host
        return dataclasses.replace(self.host, existing_names=self.host.existing_names | listed)

    # -- the OS catalogue and detection -----------------------------------------------------
    def _got_catalogue(self, catalogue: tuple[osdb.OSInfo, ...]) -> None:
        self.catalogue = catalogue
        self.catalogueChanged.emit()

    def _catalogue_failed(self, err: NidoError) -> None:
        self.catalogue_error = err
        self.catalogue = ()
        self.catalogueChanged.emit()

    def detect(self, path: str) -> None:
        """Identify the install image at `path` (off the GUI thread); then choose its OS."""
        self._detect_token += 1
        token = self._detect_token
        self.detecting = path
        self.detection_error = None
        self.osdb_error = None
        self.spec.detection = None
        self.detectionChanged.emit()
        self.run_io(
            Op(self.db.detect, path, what="look at the disc image")
            .success(lambda det, t=token: self._detected(t, det))
            .failure(lambda err, t=token: self._detect_failed(t, err))
        )

    def forget_detection(self) -> None:
        self._detect_token += 1
        self.detecting = ""
        self.detection_error = None
        self.spec.detection = None
        self.detectionChanged.emit()

    def _detected(self, token: int, det: osdb.Detection) -> None:
        if token != self._detect_token:
            return
        self.detecting = ""
        self.spec.detection = det
        self.detectionChanged.emit()
        self.choose_os(det)

    def _detect_failed(self, token: int, err: NidoError) -> None:
        if token != self._detect_token:
            return
        self.detecting = ""
        if isinstance(err, osdb.MediaError):
            self.detection_error = err  # the file cannot be installed from: blocks the page
        else:
            log.warning("detection failed: %s", err.summary)
            self.osdb_error = err
            self.choose_os(None)  # libosinfo is missing or broken: Nido's guesses
        self.detectionChanged.emit()

    def choose_os(self, what: osdb.OSInfo | osdb.Detection | None) -> None:
        """Set the spec's OS (off the GUI thread: libosinfo), then the defaults."""
        self._os_token += 1
        token = self._os_token
        self.os_pending += 1
        self.osChanged.emit()
        self.run_io(
            Op(_choose, what, self.db, what="read the OS's recommendations")
            .success(lambda chosen, t=token: self._os_chosen(t, chosen))
            .failure(lambda err, t=token: self._os_failed(t, err))
        )

    def _os_chosen(self, token: int, chosen: NewVMSpec) -> None:
        self.os_pending -= 1
        if token != self._os_token:
            return
        detection = self.spec.detection
        self.spec.os, self.spec.os_defaults = chosen.os, chosen.os_defaults
        self.spec.detection = chosen.detection or detection
        self.apply_defaults()
        self.osChanged.emit()
        self.revalidate()

    def _os_failed(self, token: int, err: NidoError) -> None:
        self.os_pending -= 1
        if token != self._os_token:
            return
        log.warning("no OS defaults: %s", err.summary)
        self.spec.os = None
        self.spec.os_defaults = osdb.derive_defaults(None)  # pure: family-level guesses
        self.apply_defaults()
        self.osChanged.emit()
        self.revalidate()

    @property
    def os_ready(self) -> bool:
        return self.os_pending == 0 and self.spec.os_defaults is not None

    # -- defaults -------------------------------------------------------------------------
    def apply_defaults(self) -> None:
        """The OS's recommendations clamped to the host, except where the person chose."""
        host = self.effective_host()
        if host is None or self.spec.os_defaults is None:
            return
        spec = self.spec
        d = newvm.defaults(spec, host)
        self.defaults = d
        if "name" not in self.touched:
            spec.name = d.name.value
        if "vcpus" not in self.touched:
            spec.vcpus = d.vcpus.value
        if "memory" not in self.touched:
            spec.memory_bytes = d.memory_bytes.value
        if "disk" not in self.touched:
            spec.disk_bytes = d.disk_bytes.value
        spec.machine = d.machine.value
        spec.disk_bus = d.disk_bus.value
        if "firmware" not in self.touched:
            spec.firmware = d.firmware.value
            spec.secure_boot = d.secure_boot.value
            spec.tpm = d.tpm.value
        if "nics" not in self.touched:
            spec.nics = []
            if d.nics is not None:
                source, name = d.nics.value
                spec.nics.append(NICSpec(source, name, d.nic_model.value))
        for nic in spec.nics or []:
            if not nic.model:
                nic.model = d.nic_model.value

    def touch(self, field: str) -> None:
        self.touched.add(field)
        self.revalidate()

    # -- validation -----------------------------------------------------------------------
    def revalidate(self) -> None:
        """Check the spec again soon (off the GUI thread); pages wait for the answer."""
        self.revision += 1
        self._check_timer.start()
        self.problemsChanged.emit()  # pages disable Next until the answer is in

    def _run_check(self) -> None:
        host = self.effective_host()
        if host is None:
            return  # checked once the host is known
        revision = self.revision
        self.run_io(
            Op(newvm.validate, copy.deepcopy(self.spec), host, what="check the new VM")
            .success(lambda found, r=revision: self._checked(r, found))
            .failure(lambda err, r=revision: self._check_failed(r, err))
        )

    def _checked(self, revision: int, found: list[Problem]) -> None:
        if revision != self.revision:
            return
        self.problems = found
        self.checked = revision
        self.problemsChanged.emit()

    def _check_failed(self, revision: int, err: NidoError) -> None:
        if revision != self.revision:
            return
        self.problems = [Problem("spec", err.summary)]
        self.checked = revision
        self.problemsChanged.emit()

    @property
    def settled(self) -> bool:
        """No check, detection or OS lookup is under way."""
        return (
            self.checked == self.revision
            and not self._check_timer.isActive()
            and not self.detecting
            and self.os_pending == 0
        )

    def fields_ok(self, fields: Iterable[str]) -> bool:
        if self.host is None or self.checked != self.revision:
            return False
        return not any(p.blocking for p in field_problems(self.problems, *fields))

    # -- creation ---------------------------------------------------------------------------
    def start_create(self) -> None:
        virconn = self.conn.virconn
        host = self.effective_host()
        if virconn is None or host is None:
            self._create_failed(NidoError(f"{self.conn.spec.label} is not connected."))
            return
        self.creating = True
        self.cancelling = self.committed = self.too_late = False
        self._set_cancel_button("Cancel", True)
        gate = self._gate = newvm.CancelGate()
        spec = copy.deepcopy(self.spec)
        conn = self.conn

        def progress(text: str, fraction: float) -> None:  # on the creating thread
            call_in_gui(lambda: self._progress(text, fraction))

        def commit() -> bool:  # on the creating thread
            ok = gate.commit()
            if ok:
                call_in_gui(lambda: self._committed(gate))
            return ok

        # The engine runs on the wizard's pool; only its libvirt steps take the
        # connection's lane, one at a time (qemu-img never does).
        self.run_io(
            Op(
                newvm.create,
                virconn,
                spec,
                host,
                progress=progress,
                cancelled=gate.cancelled,
                call=newvm.on_pool(lambda: conn.workers, conn.spec.label),
                commit=commit,
                what=f"create “{spec.name}”",
            )
            .success(self._created)
            .failure(self._create_failed)
        )

    def _progress(self, text: str, fraction: float) -> None:
        if shiboken6.isValid(self) and self.creating and not self.cancelling:
            self.createProgress.emit(text, fraction)

    def _committed(self, gate: newvm.CancelGate) -> None:
        if not shiboken6.isValid(self) or gate is not self._gate or not self.creating:
            return
        self.committed = True
        self._set_cancel_button("Cancel", False)
        self.createCommitted.emit()

    def cancel_create(self) -> None:
        if not self.creating or self.cancelling or self.too_late:
            return
        if not self._gate.cancel():
            # Past the point of no return (Escape, closing the window, or a click that
            # raced the commit): say so, keep the VM, and do not open it.
            self.too_late = True
            self._set_cancel_button("Cancel", False)
            self.createTooLate.emit()
            return
        self.cancelling = True
        self.createProgress.emit("Cancelling: removing what was made…", -1.0)

    def _set_cancel_button(self, text: str, enabled: bool) -> None:
        button = self.button(QWizard.WizardButton.CancelButton)
        self.setButtonText(QWizard.WizardButton.CancelButton, text)
        button.setEnabled(enabled)

    def _created(self, uuid: str) -> None:
        self.creating = False
        self.created_uuid = uuid
        if self.too_late:
            # The person asked to cancel once it could no longer be: the VM is made and
            # running. Say so on the page and let them close; its window stays shut.
            log.info("creation passed the point of no return before the cancel")
            self.createFinished.emit(True)
            self._set_cancel_button("Close", True)
            return
        self.createProgress.emit("Opening the VM…", 1.0)
        self._vm_timer.start(VM_APPEARS_MS)
        self._look_for_vm()

    def _look_for_vm(self, *_args: object) -> None:
        if not self.created_uuid or self.model is None or not self._vm_timer.isActive():
            if self.created_uuid and self.model is None:
                self._finish(None)
            return
        vm = self.model.vm(self.conn.spec.id, self.created_uuid)
        # The list hears "defined" before "started": open the window on the running VM.
        if vm is not None and (vm.status.active or not self.spec.start):
            self._finish(vm)

    def _vm_not_listed(self) -> None:
        if self.created_uuid and self.model is not None:
            log.warning("the new VM %s did not show as running in time", self.created_uuid)
            self._finish(self.model.vm(self.conn.spec.id, self.created_uuid))

    def _finish(self, vm: VMInfo | None) -> None:
        self._vm_timer.stop()
        uuid, self.created_uuid = self.created_uuid, ""
        if not uuid:
            return
        self.createFinished.emit(True)
        if vm is not None and self.on_created is not None:
            self.on_created(vm)
        self.accept()

    def _create_failed(self, err: NidoError) -> None:
        self.creating = False
        self.committed = False
        self._set_cancel_button("Cancel", True)
        self.createFinished.emit(False)
        if self.cancelling or self.too_late or err.kind is ErrorKind.CANCELLED:
            self.cancelling = self.too_late = False
            log.info("%s", err.summary)
            super().reject()
            return
        show_error(self, err, "New VM")
        if self.currentId() == PageId.CREATE:
            self.back()  # to the summary: fix what was wrong, or cancel

    def _buttons_for(self, page_id: int) -> None:
        """While creating, Cancel is the only button: there is nothing to finish by hand."""
        button = QWizard.WizardButton
        if page_id == PageId.CREATE:
            self.setButtonLayout([button.Stretch, button.CancelButton])
        else:
            self.setButtonLayout(
                [
                    button.Stretch,
                    button.BackButton,
                    button.NextButton,
                    button.CommitButton,
                    button.FinishButton,
                    button.CancelButton,
                ]
            )

    # -- closing ----------------------------------------------------------------------------
    def reject(self) -> None:
        if self.creating:
            self.cancel_create()  # closes once everything made is removed
            return
        super().reject()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.creating:
            event.ignore()
            self.cancel_create()
            return
        super().closeEvent(event)

    def run_io(self, op: Op) -> None:
        """Run file or libosinfo work on the wizard's own pool, unless it has closed."""
        if not self.closed:
            op.owned_by(self).run_on(self.io)

    def done(self, result: int) -> None:
        self.closed = True
        self._check_timer.stop()
        self._vm_timer.stop()
        self.io.close()
        self.db.release()  # the last holder: the OS database helper exits
        super().done(result)

    def sizeHint(self) -> QSize:
        return QSize(760, 600)
