"""What a hypervisor offers for one machine type, read from ``getDomainCapabilities``.

Firmware, Secure Boot and TPM choices come from here and nowhere else: Nido never guesses
firmware paths. Checked on libvirt 9.0 / QEMU 7.2 (Debian 12): the q35 capabilities list
the OVMF loaders (``OVMF_CODE_4M.ms.fd``, ``.secboot.fd``, plain) with ``secure='yes'``;
i440FX ('pc') lists only the plain loader and no Secure Boot, because Secure Boot needs
SMM, which OVMF supports only on Q35. BIOS (SeaBIOS) needs no descriptor and is not
listed in the firmware enum; on x86 it is always there.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

__all__ = ["DomainCaps", "parse_domain_caps"]

_X86 = ("x86_64", "i686")


@dataclass(frozen=True)
class DomainCaps:
    """The parts of ``<domainCapabilities>`` the wizard uses."""

    machine: str  # the canonical name, e.g. 'pc-q35-7.2'
    arch: str
    domain_type: str  # 'kvm' or 'qemu'
    max_vcpus: int | None = None
    firmware: frozenset[str] = frozenset()  # the firmware enum: 'efi', 'bios'
    loaders: tuple[str, ...] = ()  # UEFI loader paths, as libvirt lists them
    loader_secure: frozenset[str] = frozenset()  # the loader's secure enum: 'yes', 'no'
    cpu_modes: frozenset[str] = frozenset()  # supported: 'host-passthrough', 'maximum', ...
    disk_buses: frozenset[str] = frozenset()
    video_models: frozenset[str] = frozenset()
    graphics_types: frozenset[str] = frozenset()
    rng_models: frozenset[str] = frozenset()
    rng_backends: frozenset[str] = frozenset()
    tpm_supported: bool = False
    tpm_models: frozenset[str] = frozenset()
    tpm_backends: frozenset[str] = frozenset()
    tpm_versions: frozenset[str] = frozenset()
    interface_backends: frozenset[str] = frozenset()  # listed since libvirt 10.x: 'passt'

    @property
    def is_q35(self) -> bool:
        return "q35" in self.machine

    @property
    def bios(self) -> bool:
        """Legacy BIOS boot: SeaBIOS on x86, listed or not."""
        return "bios" in self.firmware or self.arch in _X86

    @property
    def uefi(self) -> bool:
        return "efi" in self.firmware or bool(self.loaders)

    @property
    def secure_boot(self) -> bool:
        """UEFI with Secure Boot: a secure loader, which needs Q35's SMM."""
        return self.uefi and "yes" in self.loader_secure and self.is_q35

    @property
    def tpm2(self) -> bool:
        """An emulated TPM 2.0 (swtpm). libvirt lists the emulator backend only when it
        finds swtpm; before libvirt 8.x there is no version enum, and 2.0 is assumed."""
        if not (self.tpm_supported and "emulator" in self.tpm_backends):
            return False
        return not self.tpm_versions or "2.0" in self.tpm_versions

    @property
    def tpm_model(self) -> str:
        """tpm-crb on Q35 (what Windows 11 is tested with), tpm-tis otherwise."""
        if self.is_q35 and "tpm-crb" in self.tpm_models:
            return "tpm-crb"
        return "tpm-tis"

    @property
    def passt(self) -> bool:
        return "passt" in self.interface_backends


def _values(root: ET.Element, path: str) -> frozenset[str]:
    return frozenset(v.text.strip() for v in root.findall(path) if v.text and v.text.strip())


def _supported(root: ET.Element, path: str) -> bool:
    elem = root.find(path)
    return elem is not None and elem.get("supported") == "yes"


def parse_domain_caps(text: str) -> DomainCaps:
    """Parse libvirt's ``<domainCapabilities>`` document."""
    root = ET.fromstring(text)
    if root.tag != "domainCapabilities":
        raise ValueError(f"expected <domainCapabilities>, got <{root.tag}>")
    vcpu = root.find("./vcpu")
    max_vcpus = int(vcpu.get("max", "0")) if vcpu is not None else 0
    os_ok = _supported(root, "./os")
    loader_ok = _supported(root, "./os/loader")
    cpu_modes = frozenset(
        m.get("name", "") for m in root.findall("./cpu/mode") if m.get("supported") == "yes"
    )
    return DomainCaps(
        machine=(root.findtext("./machine") or "").strip(),
        arch=(root.findtext("./arch") or "").strip(),
        domain_type=(root.findtext("./domain") or "").strip(),
        max_vcpus=max_vcpus or None,
        firmware=_values(root, "./os/enum[@name='firmware']/value") if os_ok else frozenset(),
        loaders=tuple(
            v.text.strip() for v in root.findall("./os/loader/value") if v.text and loader_ok
        ),
        loader_secure=(
            _values(root, "./os/loader/enum[@name='secure']/value") if loader_ok else frozenset()
        ),
        cpu_modes=cpu_modes,
        disk_buses=_values(root, "./devices/disk/enum[@name='bus']/value"),
        video_models=_values(root, "./devices/video/enum[@name='modelType']/value"),
        graphics_types=_values(root, "./devices/graphics/enum[@name='type']/value"),
        rng_models=_values(root, "./devices/rng/enum[@name='model']/value"),
        rng_backends=_values(root, "./devices/rng/enum[@name='backendModel']/value"),
        tpm_supported=_supported(root, "./devices/tpm"),
        tpm_models=_values(root, "./devices/tpm/enum[@name='model']/value"),
        tpm_backends=_values(root, "./devices/tpm/enum[@name='backendModel']/value"),
        tpm_versions=_values(root, "./devices/tpm/enum[@name='backendVersion']/value"),
        interface_backends=_values(root, "./devices/interface/enum[@name='backendType']/value"),
    )
