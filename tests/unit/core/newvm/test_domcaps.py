"""Domain capabilities as libvirt 9.0 / QEMU 7.2 on Debian 12 report them."""

from __future__ import annotations

import pytest

from app.core.newvm import parse_domain_caps
from tests.unit.core.newvm.conftest import DATA, caps


def test_q35_offers_uefi_secure_boot_and_tpm2() -> None:
    c = caps("qemu", "q35")
    assert c.machine == "pc-q35-7.2" and c.is_q35 and c.domain_type == "qemu"
    assert c.uefi and c.bios and c.secure_boot and c.tpm2
    assert c.tpm_model == "tpm-crb"
    assert "/usr/share/OVMF/OVMF_CODE_4M.ms.fd" in c.loaders
    assert {"virtio", "sata"} <= c.disk_buses and "ide" not in c.disk_buses
    assert "maximum" in c.cpu_modes and "host-passthrough" not in c.cpu_modes
    assert not c.passt


def test_i440fx_has_uefi_but_no_secure_boot() -> None:
    c = caps("qemu", "pc")
    assert c.machine == "pc-i440fx-7.2" and not c.is_q35
    assert c.uefi and not c.secure_boot
    assert c.loaders == ("/usr/share/OVMF/OVMF_CODE_4M.fd",)
    assert "ide" in c.disk_buses
    assert c.tpm_model == "tpm-tis"


def test_kvm_offers_host_passthrough() -> None:
    assert "host-passthrough" in caps("kvm", "q35").cpu_modes


def _strip(text: str, start: str, end: str) -> str:
    i = text.index(start)
    return text[:i] + text[text.index(end, i) + len(end) :]


def test_a_host_without_ovmf_or_swtpm_offers_neither() -> None:
    text = (DATA / "domcaps-qemu-q35.xml").read_text()
    text = _strip(text, "<os supported='yes'>", "</os>")
    c = parse_domain_caps(text.replace("<value>emulator</value>", ""))
    assert not c.uefi and not c.secure_boot and not c.tpm2
    assert c.bios  # SeaBIOS is never listed, and always there on x86


def test_passt_backend_is_read_from_newer_libvirt() -> None:
    text = (
        (DATA / "domcaps-qemu-q35.xml")
        .read_text()
        .replace(
            "<devices>",
            "<devices><interface supported='yes'><enum name='backendType'>"
            "<value>default</value><value>passt</value></enum></interface>",
        )
    )
    assert parse_domain_caps(text).passt


def test_not_domain_capabilities() -> None:
    with pytest.raises(ValueError):
        parse_domain_caps("<capabilities/>")
