"""Domain XML for a new VM, built through the XML model (app.core.xml), never as text.

What a new guest gets, and why (tests/unit/core/newvm/test_virtinst_compare.py compares it
with virt-install's choices class by class):
- The machine, disk bus and NIC model from the OS's defaults: virtio where the OS has
  drivers, SATA and e1000e on Q35 where it has none, IDE and e1000 on i440FX for old OSes.
- The install disc as a CD-ROM booted first (per-device boot order 1), the disk second.
- CPU: host-passthrough under KVM; under TCG the 'maximum' model, because TCG's default
  qemu64 lacks x86-64-v2 (SSE4.2, POPCNT), which current distributions need.
- UEFI through firmware autoselection (``<os firmware='efi'>``) with the secure-boot and
  enrolled-keys features stated either way, so libvirt picks OVMF_CODE_4M.ms.fd for Secure
  Boot and the plain OVMF_CODE_4M.fd otherwise; Secure Boot adds SMM. Paths come from
  libvirt, never from Nido.
- A display that listens nowhere (Nido connects with openGraphicsFD): SPICE where Nido
  can show it and the hypervisor offers it, with the SPICE agent's channel (clipboard
  sharing, the guest's resolution following the window) for OSes with virtio drivers and
  two USB redirection slots on qemu-xhci; VNC otherwise. A USB tablet on qemu-xhci,
  virtio-vga (or standard VGA without virtio drivers), a virtio RNG, the guest-agent
  channel, a serial console, a balloon with free page reporting (guest memory the guest
  frees goes back to the host), a TPM 2.0 (tpm-crb on Q35) when asked for.
- On Q35, spare PCIe root ports so NICs and disks can be hot-plugged later.
- Metadata: libosinfo's ``<libosinfo:os id=...>`` (the VM list shows the OS from it) and
  Nido's own ``<nido:vm>`` element.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from app.core.newvm.domcaps import DomainCaps
from app.core.newvm.host import HostFacts, PortForwardMethod
from app.core.newvm.portfwd import add_passt_forwards, add_slirp_forwards, nic_alias
from app.core.newvm.spec import Firmware, NewVMSpec, NICSource, PortForward, SourceKind
from app.core.newvm.storage import StoragePlan, plan_storage
from app.core.newvm.suggest import os_defaults
from app.core.osdb import OSDefaults
from app.core.osdb.rules import is_legacy
from app.core.osnames import LIBOSINFO_NS
from app.core.xml import (
    NIDO_XMLNS,
    RNG,
    TPM,
    Channel,
    Console,
    Controller,
    Disk,
    Domain,
    Graphics,
    Input,
    Interface,
    MemBalloon,
    Redirdev,
    Sound,
    Timer,
    Video,
)
from app.core.xml.layout import place
from app.core.xml.tree import Element

__all__ = [
    "SPARE_ROOT_PORTS",
    "USB_REDIRECT_SLOTS",
    "DisplayPlan",
    "build_domain",
    "build_xml",
    "plan_display",
]

FIRMWARE_FEATURES_SINCE = 7_002_000  # <os><firmware><feature> arrived in libvirt 7.2
SPARE_ROOT_PORTS = 4  # free PCIe root ports on Q35, for hot-plugging NICs and disks
_DEV_PREFIX = {"virtio": "vd", "sata": "sd", "scsi": "sd", "ide": "hd"}


class _Targets:
    """Hands out target device names per bus: vda, vdb; sda, sdb; hda, hdb..."""

    def __init__(self) -> None:
        self.used: dict[str, int] = {}

    def next(self, bus: str) -> str:
        prefix = _DEV_PREFIX.get(bus, "sd")
        n = self.used.get(prefix, 0)
        self.used[prefix] = n + 1
        return prefix + "abcdefghijklmnopqrstuvwxyz"[n]


def _has_virtio(osd: OSDefaults) -> bool:
    return osd.virtio_disk or osd.virtio_net


def _legacy(osd: OSDefaults) -> bool:
    return osd.os is not None and is_legacy(osd.os)


def _windows(osd: OSDefaults) -> bool:
    return osd.os is not None and osd.os.family == "winnt"


def _metadata(dom: Domain, spec: NewVMSpec, osd: OSDefaults) -> None:
    if osd.os is not None:
        meta = dom.metadata(LIBOSINFO_NS, "libosinfo", "libosinfo")
        meta.text = ""  # creates the element
        node = meta.node
        assert node is not None
        place(node, Element("libosinfo:os", {"id": osd.os.id}))
    nido = dom.metadata(NIDO_XMLNS, "vm", "nido")
    nido.set("created", dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat())
    nido.set("source", spec.source.value)
    if osd.os is not None:
        nido.set("os", osd.os.short_id)


def _platform(dom: Domain, spec: NewVMSpec, host: HostFacts, caps: DomainCaps | None) -> None:
    osd = os_defaults(spec)
    windows = _windows(osd)
    kvm = host.domain_type == "kvm"
    dom.features.acpi = True
    dom.features.apic = True
    if host.domain_type in ("kvm", "qemu"):
        dom.features.vmport = False  # only for VMware's PS/2 mouse; the tablet replaces it
    if windows and kvm:
        dom.features.hyperv_mode = "custom"
        dom.features.hyperv_relaxed = True
        dom.features.hyperv_vapic = True
        dom.features.hyperv_spinlocks = True
        dom.features.hyperv_spinlock_retries = 8191
    if spec.firmware is Firmware.UEFI:
        dom.os.firmware = "efi"
        if not host.libvirt_version or host.libvirt_version >= FIRMWARE_FEATURES_SINCE:
            dom.os.set_firmware_feature("enrolled-keys", spec.secure_boot)
            dom.os.set_firmware_feature("secure-boot", spec.secure_boot)
        if spec.secure_boot:
            dom.features.smm = True
    if caps is not None:
        if kvm and "host-passthrough" in caps.cpu_modes:
            dom.cpu.mode = "host-passthrough"
        elif not kvm and "maximum" in caps.cpu_modes:
            dom.cpu.mode = "maximum"
    dom.clock.offset = "localtime" if windows else "utc"
    for name, attrs in (
        ("rtc", {"tickpolicy": "catchup"}),
        ("pit", {"tickpolicy": "delay"}),
        ("hpet", {"present": False}),
    ):
        dom.clock.timers.append(Timer(name=name, **attrs))
    if windows and kvm:
        dom.clock.timers.append(Timer(name="hypervclock", present=True))
    dom.pm.suspend_to_mem = False
    dom.pm.suspend_to_disk = False


def _disks(dom: Domain, spec: NewVMSpec, plan: StoragePlan, bus: str, machine: str) -> int:
    """The disk and the install CD; returns how many PCIe devices they add."""
    targets = _Targets()
    install = spec.source is SourceKind.ISO
    disk = Disk(
        type="file",
        device="disk",
        driver_name="qemu",
        driver_type=plan.format,
        driver_discard="unmap",
        source_file=plan.path,
        target_dev=targets.next(bus),
        target_bus=bus,
        boot_order=2 if install else 1,
    )
    dom.add_device(disk)
    if install:
        cd_bus = "sata" if machine == "q35" else "ide"
        cdrom = Disk(
            type="file",
            device="cdrom",
            driver_name="qemu",
            driver_type="raw",
            source_file=spec.iso_path,
            target_dev=targets.next(cd_bus),
            target_bus=cd_bus,
            readonly=True,
            boot_order=1,
        )
        dom.add_device(cdrom)
    return 1 if bus == "virtio" else 0


def _interfaces(dom: Domain, spec: NewVMSpec, host: HostFacts, model: str) -> int:
    slirp: dict[str, list[PortForward]] = {}
    for i, nic in enumerate(spec.nics or []):
        iface = Interface(type=nic.source.value, model=nic.model or model)
        if nic.source is NICSource.NETWORK:
            iface.source_network = nic.name
        elif nic.source is NICSource.BRIDGE:
            iface.source_bridge = nic.name
        else:
            iface.alias = nic_alias(i)
            if nic.port_forwards and host.port_forwarding is PortForwardMethod.PASST:
                add_passt_forwards(iface, nic.port_forwards)
            elif nic.port_forwards:
                slirp[nic_alias(i)] = list(nic.port_forwards)
        dom.add_device(iface)
    add_slirp_forwards(dom, slirp)
    return len(spec.nics or [])


#: USB devices a person can redirect at once through SPICE (virt-install's number too).
USB_REDIRECT_SLOTS = 2


@dataclass(frozen=True)
class DisplayPlan:
    """The new VM's display, as :func:`build_domain` makes it (the summary says it)."""

    protocol: str  # 'spice' or 'vnc'
    agent: bool  # the SPICE agent's channel: clipboard, resolution following the window
    usb_slots: int  # SPICE USB redirection slots
    #: A sound card whose sound plays where the display is shown (SPICE's audio); Nido's
    #: VNC console plays none, so a VNC VM gets no card that would only cost the guest.
    sound: bool = False


def plan_display(spec: NewVMSpec, host: HostFacts) -> DisplayPlan:
    """The display :func:`build_domain` gives the VM of ``spec`` on ``host``."""
    osd = os_defaults(spec)
    return _display_plan(osd, host, host.caps_for(spec.machine or osd.machine.value))


def _display_plan(osd: OSDefaults, host: HostFacts, caps: DomainCaps | None) -> DisplayPlan:
    """SPICE where Nido can show it and the hypervisor offers it (its domain capabilities
    list it, when they list graphics at all); VNC otherwise."""
    offered = caps is None or not caps.graphics_types or "spice" in caps.graphics_types
    if not (host.spice_display and offered):
        return DisplayPlan("vnc", agent=False, usb_slots=0)
    return DisplayPlan(
        "spice",
        agent=_has_virtio(osd),
        usb_slots=0 if _legacy(osd) else USB_REDIRECT_SLOTS,  # they need the xHCI controller
        sound=True,
    )


def _devices(
    dom: Domain, spec: NewVMSpec, host: HostFacts, caps: DomainCaps | None, machine: str
) -> int:
    """Everything but disks and NICs; returns how many PCIe devices it adds."""
    osd = os_defaults(spec)
    virtio = _has_virtio(osd)
    legacy = _legacy(osd)
    pcie = 0
    if not legacy:
        dom.add_device(Controller(type="usb", model="qemu-xhci", ports=15))
        pcie += 1
    dom.add_device(Input(type="tablet", bus="usb"))
    display = _display_plan(osd, host, caps)
    graphics = Graphics(type=display.protocol)
    graphics.listen_type = "none"
    dom.add_device(graphics)
    for _ in range(display.usb_slots):
        dom.add_device(Redirdev(bus="usb", type="spicevmc"))
    if display.sound:
        # Intel HD Audio, as virt-install gives: ICH9's on Q35, ICH6's on the older PC; an
        # AC'97 for an OS too old to have an HD Audio driver. libvirt gives the card
        # SPICE's audio back-end, so its sound goes to the console.
        model = "ac97" if legacy else "ich9" if machine.startswith("q35") else "ich6"
        dom.add_device(Sound(model=model))
    video_ok = caps is None or not caps.video_models or "virtio" in caps.video_models
    dom.add_device(Video(model_type="virtio" if virtio and video_ok and not legacy else "vga"))
    dom.add_device(Console(type="pty"))
    if virtio:
        dom.add_device(
            Channel(
                type="unix",
                source_mode="bind",
                target_type="virtio",
                target_name="org.qemu.guest_agent.0",
            )
        )
        if display.agent:
            dom.add_device(
                Channel(type="spicevmc", target_type="virtio", target_name="com.redhat.spice.0")
            )
        pcie += 1  # virtio-serial, for both channels
    if spec.tpm:
        model = caps.tpm_model if caps is not None else "tpm-crb"
        dom.add_device(TPM(model=model, backend_type="emulator", backend_version="2.0"))
    if legacy:
        dom.add_device(MemBalloon(model="none"))
    else:
        dom.add_device(MemBalloon(model="virtio", free_page_reporting=True))
        pcie += 1
    rng_ok = caps is None or (
        "virtio" in caps.rng_models and (not caps.rng_backends or "random" in caps.rng_backends)
    )
    if virtio and rng_ok:
        dom.add_device(RNG(model="virtio", backend_model="random", backend_path="/dev/urandom"))
        pcie += 1
    return pcie


def build_domain(spec: NewVMSpec, host: HostFacts, plan: StoragePlan | None = None) -> Domain:
    """The new VM as a Domain object (see `build_xml`)."""
    osd = os_defaults(spec)
    plan = plan or plan_storage(spec, host)
    machine = spec.machine or osd.machine.value
    bus = spec.disk_bus or osd.disk_bus.value
    caps = host.caps_for(machine)
    dom = Domain.new(
        spec.name,
        virt_type=host.domain_type,
        memory_kib=spec.memory_bytes // 1024,
        vcpus=spec.vcpus,
        arch=osd.arch or host.arch,
        machine=machine,
    )
    if spec.title:
        dom.title = spec.title
    _metadata(dom, spec, osd)
    _platform(dom, spec, host, caps)
    pcie = _disks(dom, spec, plan, bus, machine)
    pcie += _interfaces(dom, spec, host, osd.nic_model.value)
    pcie += _devices(dom, spec, host, caps, machine)
    if machine == "q35" and host.domain_type in ("kvm", "qemu"):
        dom.add_device(Controller(type="pci", index=0, model="pcie-root"))
        for _ in range(pcie + SPARE_ROOT_PORTS):
            dom.add_device(Controller(type="pci", model="pcie-root-port"))
    return dom


def build_xml(spec: NewVMSpec, host: HostFacts, plan: StoragePlan | None = None) -> str:
    """The new VM's domain XML. `plan` defaults to `plan_storage(spec, host)`."""
    return build_domain(spec, host, plan).to_xml()
