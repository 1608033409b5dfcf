"""Step 6: the VM's name, and every choice in plain words before anything is made.
"Customize before install" shows the domain XML, read-only until the hardware editor
exists."""

from __future__ import annotations

import copy
import os

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWizard,
)

from app.core import newvm
from app.core.errors import NidoError
from app.core.newvm import Firmware, HostFacts, NewVMSpec, NICSource, SourceKind
from app.qt.jobs import Op
from widgets.newvm.common import HINT_COLOUR, FieldMessage, plural, size_text
from widgets.newvm.network_page import source_words
from widgets.newvm.wizard import NewVMWizard, Page

NAME_DELAY_MS = 150


def _forward_words(nic: newvm.NICSpec) -> str:
    fwds = [
        f"{f.host_address}:{f.host_port} → guest port {f.guest_port} ({f.proto.upper()})"
        for f in nic.port_forwards
    ]
    return "; forwards " + ", ".join(fwds) if fwds else ""


def summary_rows(spec: NewVMSpec, host: HostFacts, storage: list[str]) -> list[tuple[str, str]]:
    """Every choice in plain words: (what, the choice)."""
    rows: list[tuple[str, str]] = []
    if spec.source is SourceKind.ISO:
        rows.append(
            (
                "Installs from",
                f"{os.path.basename(spec.iso_path)}, as a CD-ROM the VM starts from first; "
                "then it starts from its disk.",
            )
        )
    else:
        how = (
            "used where it is"
            if spec.import_mode is newvm.ImportMode.IN_PLACE
            else "copied into Nido's storage"
        )
        rows.append(("Uses the disk", f"{os.path.basename(spec.image_path)}, {how}."))
    os_text = spec.os.name if spec.os is not None else "Unknown: Nido's guesses for the settings"
    rows.append(("Operating system", os_text + "."))
    rows.append(
        (
            "Processors and memory",
            f"{plural(spec.vcpus, 'vCPU')} and {size_text(spec.memory_bytes)} of memory.",
        )
    )
    rows.append(("Disk", " ".join(storage) if storage else "…"))
    nics = spec.nics or []
    if not nics:
        net = "None: the VM is offline."
    else:
        parts = []
        for nic in nics:
            where = source_words(nic.source, nic.name)
            if nic.source is NICSource.USER:
                where = "user-mode NAT"
            parts.append(f"{where} ({nic.model or 'default model'}){_forward_words(nic)}")
        net = f"{plural(len(nics), 'card')}: " + "; ".join(parts) + "."
    rows.append(("Network", net))
    fw = "UEFI" if spec.firmware is Firmware.UEFI else "BIOS"
    if spec.firmware is Firmware.UEFI:
        fw += " with Secure Boot" if spec.secure_boot else " without Secure Boot"
    fw += ", with an emulated TPM 2.0." if spec.tpm else ", no TPM."
    rows.append(("Firmware", fw))
    plan = newvm.plan_display(spec, host)
    if plan.protocol != "spice":
        display = "VNC."
    else:
        can = []
        if plan.agent:
            can.append(
                "with the SPICE agent in the guest (spice-vdagent), the clipboard is shared "
                "and the guest's screen follows the window"
            )
        if plan.usb_slots:
            can.append("USB devices can be redirected to it")
        if plan.sound:
            can.append("its sound plays on this computer")
        display = "SPICE" + (": " + "; ".join(can) if can else "") + "."
    rows.append(("Display", display))
    accel = host.accelerator
    if accel is None:
        runs = f"{host.domain_type}."
    elif accel.is_kvm:
        runs = "KVM (hardware virtualization)."
    else:
        runs = "TCG: software emulation, much slower than KVM."
    rows.append(("Runs under", runs))
    rows.append(("Then", "Nido starts the VM and opens its window."))
    return rows


def _plan(spec: NewVMSpec, host: HostFacts) -> tuple[list[str], str]:
    """The storage plan in words and the domain XML (blocking: qemu-img info for imports)."""
    plan = newvm.plan_storage(spec, host)
    return plan.describe(), newvm.build_xml(spec, host, plan)


class SummaryPage(Page):
    def __init__(self, nv: NewVMWizard) -> None:
        super().__init__(nv)
        self.setTitle("Name the VM and check")
        self.setSubTitle("Nothing is made until you press Create.")
        self.setCommitPage(True)
        self.setButtonText(QWizard.WizardButton.CommitButton, "&Create")
        layout = QVBoxLayout(self)
        self.rows = QFormLayout()
        self.rows.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.rows.setVerticalSpacing(6)
        self.name = QLineEdit()
        self.name.setObjectName("vmName")
        self.name_message = FieldMessage()
        self.name_message.setObjectName("nameMessage")
        name_label = QLabel("&Name:")
        name_label.setBuddy(self.name)
        name_label.setStyleSheet("font-weight: bold;")
        self.rows.addRow(name_label, self.name)
        self.rows.addRow("", self.name_message)
        self.rows.setRowVisible(1, False)
        self.fixed_rows = self.rows.rowCount()
        layout.addLayout(self.rows)
        self.other_message = FieldMessage()
        self.other_message.setObjectName("otherProblems")
        layout.addWidget(self.other_message)

        self.customize = QCheckBox("Customize before install")
        self.customize.setObjectName("customize")
        self.customize.setToolTip(
            "Shows the VM's definition (XML). The hardware editor will open here once it "
            "exists; for now the XML is read-only."
        )
        layout.addWidget(self.customize)
        self.xml = QPlainTextEdit()
        self.xml.setObjectName("xmlView")
        self.xml.setReadOnly(True)
        self.xml.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.xml.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.xml.hide()
        self.xml_note = QLabel(
            "The hardware editor is not there yet: this is the definition Nido will create, "
            "read-only."
        )
        self.xml_note.setWordWrap(True)
        self.xml_note.setStyleSheet(f"color: {HINT_COLOUR};")
        self.xml_note.hide()
        layout.addWidget(self.xml_note)
        layout.addWidget(self.xml, 1)
        self.filler = QLabel()  # takes the room the XML view takes when it shows
        layout.addWidget(self.filler, 1)

        self.storage: list[str] = []
        self.xml_text = ""
        self._plan_token = 0
        self._name_timer = QTimer(self)
        self._name_timer.setSingleShot(True)
        self._name_timer.setInterval(NAME_DELAY_MS)
        self._name_timer.timeout.connect(self._name_changed)
        self.name.textChanged.connect(lambda _t: self._name_timer.start())
        self.customize.toggled.connect(self._show_xml)
        nv.problemsChanged.connect(self._maybe_replan)

    def ready(self) -> bool:
        return not self._name_timer.isActive()

    def isComplete(self) -> bool:
        nv = self.nv
        if nv.host is None or nv.checked != nv.revision or not self.ready():
            return False
        return not any(p.blocking for p in nv.problems)

    def initializePage(self) -> None:
        self.name.blockSignals(True)
        self.name.setText(self.nv.spec.name)
        self.name.blockSignals(False)
        self.storage = []
        self._render()
        self.nv.revalidate()

    def _name_changed(self) -> None:
        self.nv.spec.name = self.name.text()
        self.nv.touch("name")
        self.completeChanged.emit()

    def _maybe_replan(self) -> None:
        nv = self.nv
        if nv.currentPage() is not self or nv.checked != nv.revision:
            return
        if any(p.blocking for p in nv.problems):
            self.storage = []  # the plan depends on the name: none until it is valid
            self._render()
            return
        self._render()
        self._plan_token += 1
        token = self._plan_token
        host = nv.effective_host()
        nv.run_io(
            Op(_plan, copy.deepcopy(nv.spec), host, what="plan the new VM's disk")
            .success(lambda result, t=token: self._planned(t, result))
            .failure(lambda err, t=token: self._plan_failed(t, err))
        )

    def _planned(self, token: int, result: tuple[list[str], str]) -> None:
        if token != self._plan_token:
            return
        self.storage, self.xml_text = result
        self.xml.setPlainText(self.xml_text)
        self._render()

    def _plan_failed(self, token: int, err: NidoError) -> None:
        if token == self._plan_token:
            self.storage = [f"Cannot plan the disk: {err.summary}"]
            self._render()

    def _render(self) -> None:
        host = self.nv.effective_host()
        if host is None:
            return
        while self.rows.rowCount() > self.fixed_rows:
            self.rows.removeRow(self.fixed_rows)
        for what, text in summary_rows(self.nv.spec, host, self.storage):
            label = QLabel(f"{what}:")
            label.setStyleSheet("font-weight: bold;")
            label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
            value = QLabel(text)
            value.setWordWrap(True)
            value.setTextFormat(Qt.TextFormat.PlainText)
            value.setObjectName(f"summary{what.replace(' ', '')}")
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.rows.addRow(label, value)

    def summary_text(self) -> str:
        """What the page says, one choice a line (for tests and the log)."""
        host = self.nv.effective_host()
        if host is None:
            return ""
        return "\n".join(
            f"{what}: {text}" for what, text in summary_rows(self.nv.spec, host, self.storage)
        )

    def _show_xml(self, on: bool) -> None:
        self.xml.setVisible(on)
        self.xml_note.setVisible(on)
        self.filler.setVisible(not on)

    def show_problems(self) -> None:
        self.name_message.show_problems(self.problems("name", "title"))
        self.rows.setRowVisible(1, self.name_message.isVisibleTo(self))
        others = [
            p
            for p in self.nv.problems
            if p.blocking and not (p.field.startswith("name") or p.field.startswith("title"))
        ]
        if others:
            self.other_message.set_text(
                "Go back and fix: " + " ".join(dict.fromkeys(p.message for p in others)),
                error=True,
            )
        else:
            self.other_message.set_text("")
