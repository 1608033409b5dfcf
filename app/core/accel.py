"""Which accelerator a connection's guests run with: KVM where it really works, TCG otherwise.

The choice is made from the host's capabilities XML (does the hypervisor offer a 'kvm'
domain type at all?) and, for hosts we can inspect directly, from what the kernel module
behind /dev/kvm is. A paravirtual nested KVM (the `kvm_pvm` module) exposes /dev/kvm and
lets QEMU start, but cannot boot ordinary guests in reasonable time, so it counts as "no
usable KVM" and the person is told so.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass

PVM_MODULE = "/sys/module/kvm_pvm"


@dataclass(frozen=True)
class Accelerator:
    """The domain type to create guests with, and the words that explain it."""

    domain_type: str  # "kvm" or "qemu" (libvirt's name for TCG)
    label: str  # short, for a status line: "KVM" or "TCG (software)"
    explanation: str  # one or two sentences for a tooltip or details pane
    headline: str = ""  # a short status-bar sentence, for TCG only

    @property
    def is_kvm(self) -> bool:
        return self.domain_type == "kvm"


def offered_domain_types(capabilities_xml: str, arch: str | None = None) -> set[str]:
    """The domain types (kvm, qemu, ...) the host offers for `arch` (default: host arch)."""
    root = ET.fromstring(capabilities_xml)
    host_arch = arch or root.findtext("./host/cpu/arch") or "x86_64"
    types: set[str] = set()
    for guest in root.findall("./guest"):
        arch_el = guest.find("./arch")
        if arch_el is None or arch_el.get("name") != host_arch:
            continue
        if guest.findtext("./os_type") != "hvm":
            continue
        types.update(d.get("type", "") for d in arch_el.findall("./domain"))
    types.discard("")
    return types


def local_kvm_is_pvm(sys_module_dir: str = PVM_MODULE) -> bool:
    """True when this machine's /dev/kvm is served by the paravirtual nested kvm_pvm."""
    return os.path.isdir(sys_module_dir)


def choose_accelerator(capabilities_xml: str, *, local_pvm: bool | None) -> Accelerator:
    """Pick KVM when the host offers it and it really works, TCG otherwise.

    `local_pvm` is None for remote hosts (we cannot look at their kernel modules), else
    whether this machine's KVM is the paravirtual nested kind.
    """
    offered = offered_domain_types(capabilities_xml)
    if "kvm" in offered and not local_pvm:
        return Accelerator(
            "kvm",
            "KVM",
            "Guests run with hardware virtualization (KVM), at close to native speed.",
        )
    if "kvm" in offered and local_pvm:
        why = "its KVM is a paravirtual nested one"
        reason = (
            "This computer's /dev/kvm is a paravirtual nested KVM (kvm_pvm), which cannot "
            "boot ordinary operating systems in reasonable time."
        )
    elif os.path.exists("/dev/kvm") and local_pvm is not None:
        why = "KVM is not available to libvirt"
        reason = "The hypervisor does not offer KVM here (no access to /dev/kvm?)."
    else:
        why = "it has no hardware virtualization"
        reason = (
            "This host offers no hardware virtualization (KVM). Enable VT-x or AMD-V in "
            "the firmware settings to run guests at full speed."
        )
    return Accelerator(
        "qemu",
        "TCG (software)",
        f"{reason} Guests run under software emulation (QEMU TCG), which is much slower.",
        f"Guests run in software (TCG), slowly: {why}.",
    )
