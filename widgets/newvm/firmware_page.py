"""Step 5: firmware — BIOS or UEFI, Secure Boot and an emulated TPM 2.0, offered only
where the host's domain capabilities list them."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QLabel,
    QRadioButton,
    QVBoxLayout,
)

from app.core.newvm import Firmware
from widgets.newvm.common import HINT_COLOUR, FieldMessage
from widgets.newvm.wizard import NewVMWizard, Page

MACHINE_WORDS = {"q35": "Q35 (PCI Express)", "pc": "i440FX (PCI, for older systems)"}
BUS_WORDS = {"virtio": "virtio", "sata": "SATA", "ide": "IDE", "scsi": "SCSI"}


def _hint() -> QLabel:
    label = QLabel()
    label.setWordWrap(True)
    label.setStyleSheet(f"color: {HINT_COLOUR}; margin-left: 24px;")
    return label


class FirmwarePage(Page):
    fields = ("firmware", "secure_boot", "tpm", "machine", "disk_bus")

    def __init__(self, nv: NewVMWizard) -> None:
        super().__init__(nv)
        self.setTitle("How does it start?")
        self.setSubTitle("Firmware and security chips, as far as this host offers them.")
        layout = QVBoxLayout(self)
        self.bios = QRadioButton("BIOS (SeaBIOS): starts every system that does not need UEFI")
        self.bios.setObjectName("firmwareBios")
        self.uefi = QRadioButton("UEFI (OVMF)")
        self.uefi.setObjectName("firmwareUefi")
        self.group = QButtonGroup(self)
        self.group.addButton(self.bios)
        self.group.addButton(self.uefi)
        self.uefi_hint = _hint()
        self.uefi_hint.setObjectName("uefiHint")
        self.secure = QCheckBox("Secure Boot (starts only signed systems, as Windows 11 wants)")
        self.secure.setObjectName("secureBoot")
        self.secure_hint = _hint()
        self.secure_hint.setObjectName("secureBootHint")
        self.tpm = QCheckBox("TPM 2.0 security chip (emulated by swtpm)")
        self.tpm.setObjectName("tpm")
        self.tpm_hint = _hint()
        self.tpm_hint.setObjectName("tpmHint")
        self.message = FieldMessage()
        self.message.setObjectName("firmwareMessage")
        self.why = QLabel()
        self.why.setObjectName("firmwareWhy")
        self.why.setWordWrap(True)
        self.machine = QLabel()
        self.machine.setObjectName("machineLabel")
        self.machine.setWordWrap(True)
        self.machine.setStyleSheet(f"color: {HINT_COLOUR};")
        for w in (
            self.bios,
            self.uefi,
            self.uefi_hint,
            self.secure,
            self.secure_hint,
            self.tpm,
            self.tpm_hint,
            self.message,
        ):
            layout.addWidget(w)
        layout.addSpacing(12)
        layout.addWidget(self.why)
        self.reasons = QLabel()
        self.reasons.setObjectName("firmwareReasons")
        self.reasons.setWordWrap(True)
        self.reasons.setStyleSheet(f"color: {HINT_COLOUR};")
        layout.addWidget(self.reasons)
        layout.addStretch(1)
        layout.addWidget(self.machine)
        self.uefi.toggled.connect(self._changed)
        self.secure.toggled.connect(self._changed)
        self.tpm.toggled.connect(self._changed)

    def initializePage(self) -> None:
        spec, host, d = self.nv.spec, self.nv.host, self.nv.defaults
        if host is None or d is None:
            return
        caps = host.caps_for(spec.machine)
        uefi_ok = caps is not None and caps.uefi
        secure_ok = caps is not None and caps.secure_boot
        tpm_ok = caps is not None and caps.tpm2
        for w in (self.uefi, self.secure, self.tpm):
            w.blockSignals(True)
        self.bios.setChecked(spec.firmware is not Firmware.UEFI)
        self.uefi.setChecked(spec.firmware is Firmware.UEFI)
        self.uefi.setEnabled(uefi_ok)
        self.uefi_hint.setText("" if uefi_ok else "This host offers no UEFI firmware.")
        self.secure.setChecked(spec.secure_boot)
        self.tpm.setChecked(spec.tpm)
        self.tpm.setEnabled(tpm_ok)
        self.tpm_hint.setText(
            "" if tpm_ok else "This host offers no emulated TPM (swtpm is not installed)."
        )
        for w in (self.uefi, self.secure, self.tpm):
            w.blockSignals(False)
        self._secure_state(secure_ok)
        for w in (self.uefi_hint, self.tpm_hint):
            w.setVisible(bool(w.text()))
        os_name = spec.os.name if spec.os is not None else "this OS"
        reasons = [d.firmware.why, d.secure_boot.why, d.tpm.why]
        reasons = [r for r in dict.fromkeys(reasons) if r]
        chosen = self._words(d.firmware.value, d.secure_boot.value, d.tpm.value)
        self.why.setText(f"Recommended for {os_name}: {chosen}.")
        self.reasons.setText(("Why: " + "; ".join(reasons) + ".") if reasons else "")
        self.reasons.setVisible(bool(reasons))
        machine = MACHINE_WORDS.get(spec.machine, spec.machine)
        bus = BUS_WORDS.get(spec.disk_bus, spec.disk_bus)
        self.machine.setText(f"Machine: {machine}; the disk is attached as {bus}.")
        self.show_problems()

    @staticmethod
    def _words(firmware: Firmware, secure: bool, tpm: bool) -> str:
        text = "UEFI" if firmware is Firmware.UEFI else "BIOS"
        if firmware is Firmware.UEFI and secure:
            text += " with Secure Boot"
        if tpm:
            text += " and a TPM 2.0"
        return text

    def _secure_state(self, secure_ok: bool) -> None:
        uefi = self.uefi.isChecked()
        self.secure.setEnabled(uefi and secure_ok)
        if not secure_ok:
            text = "This host offers no Secure Boot firmware."
        elif not uefi:
            text = "Secure Boot needs UEFI."
        else:
            text = ""
        self.secure_hint.setText(text)
        self.secure_hint.setVisible(bool(text))

    def _changed(self, *_args: object) -> None:
        spec, host = self.nv.spec, self.nv.host
        caps = host.caps_for(spec.machine) if host is not None else None
        spec.firmware = Firmware.UEFI if self.uefi.isChecked() else Firmware.BIOS
        if not self.uefi.isChecked() and self.secure.isChecked():
            self.secure.blockSignals(True)
            self.secure.setChecked(False)
            self.secure.blockSignals(False)
        spec.secure_boot = self.secure.isChecked()
        spec.tpm = self.tpm.isChecked()
        self._secure_state(caps is not None and caps.secure_boot)
        self.nv.touch("firmware")

    def show_problems(self) -> None:
        self.message.show_problems(self.problems())
