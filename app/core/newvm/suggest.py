"""The wizard's starting values: the OS's recommendations (osdb) clamped to what the host
has, each with a flag for values that are guesses and a reason in words.

Clamping rules:
- vCPUs: at most the host's physical cores (more only warns, but a default should not).
- Memory: at most the host's memory less a reserve for the host itself (a quarter, at most
  2 GiB), and at most what is free right now; never below the OS minimum.
- Disk: at most the free space of the storage target, in whole GiB.
- UEFI, Secure Boot and the TPM: only where the host's domain capabilities offer them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Generic, TypeVar

from app.core.newvm.host import HostFacts
from app.core.newvm.names import name_from_file, sanitize_name, unique_name
from app.core.newvm.spec import NewVMSpec, NICSource, NICSpec, SourceKind
from app.core.osdb import (
    GIB,
    MIB,
    Detection,
    Firmware,
    OSData,
    OSDefaults,
    OSInfo,
    derive_defaults,
)
from app.core.osdb import database as shared_database

__all__ = ["Defaults", "Suggestion", "choose_os", "defaults", "host_memory_limit", "os_defaults"]

T = TypeVar("T")


@dataclass(frozen=True)
class Suggestion(Generic[T]):
    """A default: its value, whether it is a guess, whether the host cut it down."""

    value: T
    guessed: bool = False
    clamped: bool = False
    why: str = ""


@dataclass(frozen=True)
class Defaults:
    """What `apply()` puts into a spec, plus the ranges the sliders offer."""

    name: Suggestion[str]
    vcpus: Suggestion[int]
    memory_bytes: Suggestion[int]
    disk_bytes: Suggestion[int]
    machine: Suggestion[str]
    disk_bus: Suggestion[str]
    nic_model: Suggestion[str]
    nics: Suggestion[tuple[NICSource, str]] | None  # None: no network source on this host
    firmware: Suggestion[Firmware]
    secure_boot: Suggestion[bool]
    tpm: Suggestion[bool]
    min_vcpus: int
    max_vcpus: int
    min_memory_bytes: int
    max_memory_bytes: int
    min_disk_bytes: int
    max_disk_bytes: int | None  # None: the free space is not known
    message: str = ""  # how sure Nido is of the OS (osdb's words), '' when sure

    @property
    def guessed_fields(self) -> tuple[str, ...]:
        return tuple(
            f.name
            for f in dataclasses.fields(self)
            if isinstance(v := getattr(self, f.name), Suggestion) and v.guessed
        )

    @property
    def clamped_fields(self) -> tuple[str, ...]:
        return tuple(
            f.name
            for f in dataclasses.fields(self)
            if isinstance(v := getattr(self, f.name), Suggestion) and v.clamped
        )

    def apply(self, spec: NewVMSpec, *, overwrite: bool = False) -> NewVMSpec:
        """Fill the spec's unchosen fields (all of them with `overwrite`); returns spec."""

        def unset(value: object) -> bool:
            return overwrite or value in (0, "", None)

        if unset(spec.name):
            spec.name = self.name.value
        if unset(spec.vcpus):
            spec.vcpus = self.vcpus.value
        if unset(spec.memory_bytes):
            spec.memory_bytes = self.memory_bytes.value
        if unset(spec.disk_bytes):
            spec.disk_bytes = self.disk_bytes.value
        if unset(spec.machine):
            spec.machine = self.machine.value
        if unset(spec.disk_bus):
            spec.disk_bus = self.disk_bus.value
        if unset(spec.firmware):
            spec.firmware = self.firmware.value
            spec.secure_boot = self.secure_boot.value
            spec.tpm = self.tpm.value
        if overwrite or spec.nics is None:
            spec.nics = []
            if self.nics is not None:
                source, name = self.nics.value
                spec.nics.append(NICSpec(source, name, self.nic_model.value))
        for nic in spec.nics:
            if not nic.model:
                nic.model = self.nic_model.value
        return spec


def os_defaults(spec: NewVMSpec) -> OSDefaults:
    """The spec's OS defaults, or family-level guesses when no OS is chosen."""
    if spec.os_defaults is not None:
        return spec.os_defaults
    return derive_defaults(None)


def choose_os(
    spec: NewVMSpec, what: OSInfo | Detection | str | None, db: OSData | None = None
) -> NewVMSpec:
    """Set the spec's OS from a catalogue entry, a detection, an id, or None (unknown).
    Blocks on the first use of the OS database (~0.3 s): call it on a worker."""
    db = db or shared_database()
    spec.detection = what if isinstance(what, Detection) else None
    spec.os_defaults = db.defaults_for(what)
    spec.os = spec.os_defaults.os
    return spec


def host_memory_limit(host: HostFacts) -> int:
    """The most memory a default gives a guest: the host's, less a reserve for the host."""
    reserve = min(host.memory_bytes // 4, 2 * GIB)
    return host.memory_bytes - reserve


def _vcpus(osd: OSDefaults, host: HostFacts, max_vcpus: int) -> Suggestion[int]:
    rec = osd.vcpus
    limit = max(1, min(max_vcpus, host.physical_cores))
    if rec.value > limit:
        why = f"{rec.why}; cut to the host's {limit} physical cores"
        return Suggestion(limit, rec.guessed, True, why)
    return Suggestion(rec.value, rec.guessed, False, rec.why)


def _memory(osd: OSDefaults, host: HostFacts) -> Suggestion[int]:
    rec = osd.ram
    limit = min(host_memory_limit(host), host.free_memory_bytes)
    limit = max(osd.min_ram.value, limit // MIB * MIB)
    if rec.value > limit:
        why = f"{rec.why}; cut to what this host can spare"
        return Suggestion(limit, rec.guessed, True, why)
    return Suggestion(rec.value, rec.guessed, False, rec.why)


def _disk(osd: OSDefaults, spec: NewVMSpec, host: HostFacts) -> Suggestion[int]:
    rec = osd.disk
    target = host.storage
    if spec.source is SourceKind.IMPORT or target is None or target.free_bytes is None:
        return Suggestion(rec.value, rec.guessed, False, rec.why)
    limit = target.free_bytes // GIB * GIB
    if rec.value > limit:
        why = f"{rec.why}; cut to the free space of {target.label}"
        return Suggestion(max(limit, GIB), rec.guessed, True, why)
    return Suggestion(rec.value, rec.guessed, False, rec.why)


def _machine(osd: OSDefaults, host: HostFacts) -> Suggestion[str]:
    m = osd.machine
    if not host.domain_caps or host.caps_for(m.value) is not None:
        return Suggestion(m.value, m.guessed, False, m.why)
    other = "pc" if m.value == "q35" else "q35"
    return Suggestion(other, m.guessed, True, f"this host offers no {m.value} machine")


def _disk_bus(osd: OSDefaults, host: HostFacts, machine: str) -> Suggestion[str]:
    bus = osd.disk_bus
    caps = host.caps_for(machine)
    if caps is None or not caps.disk_buses or bus.value in caps.disk_buses:
        return Suggestion(bus.value, bus.guessed, False, bus.why)
    for other in ("sata", "ide", "virtio"):
        if other in caps.disk_buses:
            return Suggestion(other, bus.guessed, True, f"this host offers no {bus.value} disks")
    return Suggestion(bus.value, bus.guessed, False, bus.why)


def _firmware(
    osd: OSDefaults, host: HostFacts, machine: str
) -> tuple[Suggestion[Firmware], Suggestion[bool], Suggestion[bool]]:
    caps = host.caps_for(machine)
    fw, sb, tpm = osd.firmware, osd.secure_boot, osd.tpm
    firmware = Suggestion(fw.value, fw.guessed, False, fw.why)
    if fw.value is Firmware.UEFI and (caps is None or not caps.uefi):
        firmware = Suggestion(Firmware.BIOS, fw.guessed, True, "this host offers no UEFI firmware")
    secure = Suggestion(sb.value, sb.guessed, False, sb.why)
    if sb.value and (firmware.value is not Firmware.UEFI or caps is None or not caps.secure_boot):
        secure = Suggestion(False, sb.guessed, True, "this host offers no Secure Boot firmware")
    chip = Suggestion(tpm.value, tpm.guessed, False, tpm.why)
    if tpm.value and (caps is None or not caps.tpm2):
        chip = Suggestion(False, tpm.guessed, True, "this host offers no emulated TPM 2.0")
    return firmware, secure, chip


def _nics(host: HostFacts) -> Suggestion[tuple[NICSource, str]] | None:
    if host.user_networking:
        return Suggestion((NICSource.USER, ""), why="user-mode NAT needs no set-up")
    active = [n.name for n in host.networks if n.active]
    if "default" in active:
        return Suggestion((NICSource.NETWORK, "default"), why="libvirt's default NAT network")
    if active:
        return Suggestion((NICSource.NETWORK, active[0]), why="the host's first active network")
    if host.bridges:
        return Suggestion((NICSource.BRIDGE, host.bridges[0]), why="the host's first bridge")
    return None


def _name(spec: NewVMSpec, osd: OSDefaults, host: HostFacts) -> Suggestion[str]:
    """The OS's short id ('debian12'); for a release newer than osinfo-db, its
    distribution ('fedora'); else the image's file name; else 'vm'. Free on the host."""
    os = osd.os
    base, why = "", ""
    if os is not None and not os.is_unknown_release:
        base, why = os.short_id, "the OS's short name"
    elif os is not None and os.short_id != "unknown":
        distro = os.distro or os.short_id.removesuffix("-unknown")
        base, why = sanitize_name(distro), "the OS's distribution"
    if not base:
        path = spec.iso_path if spec.source is SourceKind.ISO else spec.image_path
        base, why = name_from_file(path), "the image's file name"
    if not base:
        base, why = "vm", "nothing tells what the VM runs"
    return Suggestion(unique_name(base, host.existing_names), why=why)


def defaults(spec: NewVMSpec, host: HostFacts) -> Defaults:
    """The starting values for `spec` on `host` (pure; no libvirt, no file access)."""
    osd = os_defaults(spec)
    machine = _machine(osd, host)
    caps = host.caps_for(machine.value)
    max_vcpus = host.cpus
    if caps is not None and caps.max_vcpus:
        max_vcpus = min(max_vcpus, caps.max_vcpus)
    firmware, secure_boot, tpm = _firmware(osd, host, machine.value)
    free = host.storage.free_bytes if host.storage is not None else None
    return Defaults(
        name=_name(spec, osd, host),
        vcpus=_vcpus(osd, host, max_vcpus),
        memory_bytes=_memory(osd, host),
        disk_bytes=_disk(osd, spec, host),
        machine=machine,
        disk_bus=_disk_bus(osd, host, machine.value),
        nic_model=Suggestion(osd.nic_model.value, osd.nic_model.guessed, False, osd.nic_model.why),
        nics=_nics(host),
        firmware=firmware,
        secure_boot=secure_boot,
        tpm=tpm,
        min_vcpus=1,
        max_vcpus=max(1, max_vcpus),
        min_memory_bytes=osd.min_ram.value,
        max_memory_bytes=host.memory_bytes,
        min_disk_bytes=osd.min_disk.value,
        max_disk_bytes=None if free is None else free // GIB * GIB,
        message=osd.message,
    )
