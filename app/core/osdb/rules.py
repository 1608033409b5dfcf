"""From what osinfo-db says about an OS (`OSFacts`, plain data) to the wizard's defaults,
each value marked with where it came from. Pure functions, no libosinfo.

The rules, where osinfo-db is silent:
- Recommended RAM and disk: osinfo-db's recommendation; else twice its minimum
  (virt-install's rule); else the nearest older release it derives from; else a family
  default. vCPUs: the recommendation, else the minimum but at least 2 (1 for legacy OSes).
- Machine: q35 where osinfo-db lists the q35 chipset (virt-install's test, which also wants
  virtio 1.0 where the OS has virtio-net); otherwise i440FX ('pc'). With no device data at
  all, q35, unless the OS is legacy.
- Disk: virtio-blk where osinfo-db lists virtio-block; else SATA on q35, IDE on i440FX.
- NIC: virtio-net where listed; else the best emulated NIC listed (e1000e, e1000, rtl8139);
  with no data, e1000e on q35 and e1000 on i440FX.
- Firmware: UEFI where osinfo-db says the OS supports EFI and not BIOS; BIOS otherwise
  (it starts every OS that does not need UEFI; the UI may offer UEFI where
  `uefi_supported`).
- Windows 11 (and anything that derives from it) also gets Secure Boot and a TPM 2.0, on
  Q35: osinfo-db 2022-11 records UEFI for it, not Secure Boot or the TPM.
- Legacy OSes (DOS, Windows 3.x/9x, Windows NT before Vista, anything released before
  2007, when AHCI drivers became common): i440FX, IDE, BIOS, no UEFI.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from app.core.osdb.model import GIB, MIB, Firmware, OSDefaults, OSInfo, Source, Value

WIN11_ID = "http://microsoft.com/win/11"

VIRTIO_BLOCK = frozenset({"virtio-block", "virtio1.0-block"})
VIRTIO_NET = frozenset({"virtio-net", "virtio1.0-net"})
VIRTIO1_NET = "virtio1.0-net"
Q35 = "qemu-x86-q35"
# osinfo device names of emulated NICs, best first, and libvirt's model names for them.
EMULATED_NICS = (
    ("e1000e", "e1000e"),
    ("e1000", "e1000"),
    ("rtl8139", "rtl8139"),
    ("ne2k_pci", "ne2k_pci"),
    ("pcnet", "pcnet"),
)

LEGACY_FAMILIES = frozenset({"msdos", "win16", "win9x"})
AHCI_ERA = dt.date(2007, 1, 1)  # Windows Vista (2007-01-30) brought AHCI drivers to Windows


@dataclass(frozen=True)
class Resources:
    """One <resources> block: RAM and storage in bytes; None where not given."""

    ram: int | None = None
    n_cpus: int | None = None
    storage: int | None = None


@dataclass(frozen=True, eq=False)
class ResourceSet:
    """An OS's minimum and recommended resources by architecture ('all' fits any)."""

    os_name: str
    minimum: Mapping[str, Resources] = field(default_factory=dict)
    recommended: Mapping[str, Resources] = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class OSFacts:
    """What osinfo-db says about an OS, as plain data.

    `resources` holds the OS's own set first, then those of the releases it derives from,
    nearest first. `devices` are libosinfo device names with inheritance applied (what
    `get_all_devices` gives). `firmware` lists (arch, 'efi' | 'bios', supported).
    """

    os: OSInfo
    resources: tuple[ResourceSet, ...] = ()
    devices: frozenset[str] = frozenset()
    firmware: tuple[tuple[str, str, bool], ...] = ()
    ancestors: frozenset[str] = frozenset()


@dataclass(frozen=True)
class _Family:
    label: str
    min_ram: int
    ram: int
    min_vcpus: int
    vcpus: int
    min_disk: int
    disk: int


_GENERIC = _Family("an unknown OS", 1 * GIB, 2 * GIB, 1, 2, 10 * GIB, 20 * GIB)
_FAMILIES = {
    "linux": _Family("Linux", 1 * GIB, 2 * GIB, 1, 2, 10 * GIB, 20 * GIB),
    "winnt": _Family("Windows", 2 * GIB, 4 * GIB, 1, 2, 32 * GIB, 64 * GIB),
    "bsd": _Family("BSD", 512 * MIB, 2 * GIB, 1, 2, 8 * GIB, 20 * GIB),
    "legacy": _Family("a legacy OS", 16 * MIB, 64 * MIB, 1, 1, 512 * MIB, 2 * GIB),
}
_BSD = frozenset({"freebsd", "netbsd", "openbsd", "dragonflybsd"})


def family_guess(family: str | None) -> _Family:
    if family in _BSD:
        return _FAMILIES["bsd"]
    if family in LEGACY_FAMILIES:
        return _FAMILIES["legacy"]
    return _FAMILIES.get(family or "", _GENERIC)


def _leading_number(version: str) -> float | None:
    m = re.match(r"\d+(?:\.\d+)?", version)
    return float(m.group()) if m else None


def is_legacy(os: OSInfo) -> bool:
    """Too old for AHCI, PCI Express and UEFI."""
    if os.family in LEGACY_FAMILIES:
        return True
    if os.family == "winnt":
        number = _leading_number(os.version)
        if number is not None and number < 6.0:
            return True
    return os.release_date is not None and os.release_date < AHCI_ERA


def needs_windows11_security(facts: OSFacts) -> bool:
    return facts.os.id == WIN11_ID or WIN11_ID in facts.ancestors


def _lookup(table: Mapping[str, Resources], attr: str, arch: str) -> int | None:
    for a in (arch, "all"):
        r = table.get(a)
        value = getattr(r, attr) if r is not None else None
        if value is not None and value > 0:
            return int(value)
    return None


_WORDS = {"ram": "RAM", "n_cpus": "vCPUs", "storage": "disk"}


def _minimum(facts: OSFacts | None, attr: str, arch: str, guess: int, fam: _Family) -> Value[int]:
    word = _WORDS[attr]
    if facts is not None:
        for depth, rs in enumerate(facts.resources):
            value = _lookup(rs.minimum, attr, arch)
            if value is None:
                continue
            if depth == 0:
                return Value(value, Source.OSINFO, f"osinfo-db's minimum {word} for {rs.os_name}")
            return Value(
                value,
                Source.DERIVED,
                f"osinfo-db gives no minimum {word} for {facts.os.name}; this is {rs.os_name}'s",
            )
    return Value(
        guess, Source.GUESSED, f"osinfo-db gives no minimum {word}; Nido's default for {fam.label}"
    )


def _recommended(
    facts: OSFacts | None, attr: str, arch: str, guess: int, fam: _Family, legacy: bool
) -> Value[int]:
    word = _WORDS[attr]
    if facts is not None:
        for depth, rs in enumerate(facts.resources):
            value = _lookup(rs.recommended, attr, arch)
            if value is not None:
                if depth == 0:
                    return Value(
                        value, Source.OSINFO, f"osinfo-db's recommended {word} for {rs.os_name}"
                    )
                return Value(
                    value,
                    Source.DERIVED,
                    f"osinfo-db gives no recommended {word} for {facts.os.name}; "
                    f"this is {rs.os_name}'s",
                )
            minimum = _lookup(rs.minimum, attr, arch)
            if minimum is not None:
                if attr == "n_cpus":
                    value = minimum if legacy else max(minimum, 2)
                    how = "its minimum" if value == minimum else "2, above its minimum"
                else:
                    value, how = 2 * minimum, "twice its minimum"
                whose = "" if depth == 0 else f" ({rs.os_name}'s)"
                return Value(
                    value, Source.DERIVED, f"osinfo-db gives no recommended {word}; {how}{whose}"
                )
    return Value(
        guess,
        Source.GUESSED,
        f"osinfo-db gives no recommended {word}; Nido's default for {fam.label}",
    )


def _ordered(minimum: Value[int], value: Value[int]) -> tuple[Value[int], Value[int]]:
    """(minimum, recommended) with minimum <= recommended: a guessed minimum gives way to
    osinfo-db's recommendation, otherwise the recommendation is raised to the minimum."""
    if value.value >= minimum.value:
        return minimum, value
    if minimum.guessed and not value.guessed:
        why = "osinfo-db gives no minimum; its recommendation"
        return Value(value.value, Source.DERIVED, why), value
    return minimum, Value(minimum.value, value.source, value.why + " (raised to the minimum)")


def derive_defaults(
    facts: OSFacts | None, *, arch: str = "x86_64", family: str | None = None
) -> OSDefaults:
    """The defaults for an OS (None: nothing known; `family` may still hint, e.g. 'linux')."""
    os = facts.os if facts is not None else None
    fam = family_guess(os.family if os is not None and os.family else family)
    legacy = is_legacy(os) if os is not None else family in LEGACY_FAMILIES
    devices = facts.devices if facts is not None else frozenset()
    has_device_data = bool(devices)
    name = os.name if os is not None else "this OS"

    min_ram, ram = _ordered(
        _minimum(facts, "ram", arch, fam.min_ram, fam),
        _recommended(facts, "ram", arch, fam.ram, fam, legacy),
    )
    min_vcpus, vcpus = _ordered(
        _minimum(facts, "n_cpus", arch, fam.min_vcpus, fam),
        _recommended(facts, "n_cpus", arch, fam.vcpus, fam, legacy),
    )
    min_disk, disk = _ordered(
        _minimum(facts, "storage", arch, fam.min_disk, fam),
        _recommended(facts, "storage", arch, fam.disk, fam, legacy),
    )

    # Machine type.
    win11 = facts is not None and needs_windows11_security(facts)
    q35_listed = Q35 in devices and not (devices & VIRTIO_NET and VIRTIO1_NET not in devices)
    if q35_listed:
        machine = Value("q35", Source.OSINFO, f"osinfo-db lists the Q35 chipset for {name}")
    elif win11:
        machine = Value("q35", Source.RULE, "Secure Boot needs the Q35 machine")
    elif legacy:
        machine = Value("pc", Source.RULE, f"{name} predates PCI Express: i440FX machine")
    elif has_device_data:
        machine = Value("pc", Source.OSINFO, f"osinfo-db does not list the Q35 chipset for {name}")
    else:
        machine = Value("q35", Source.GUESSED, "osinfo-db has no device data; modern Q35 machine")

    # Disk bus.
    if devices & VIRTIO_BLOCK:
        disk_bus = Value("virtio", Source.OSINFO, f"{name} has virtio-blk drivers")
    elif machine.value == "q35":
        src = Source.OSINFO if has_device_data else Source.GUESSED
        disk_bus = Value("sata", src, "no virtio-blk driver known: SATA (AHCI)")
    else:
        src = Source.OSINFO if has_device_data else machine.source
        disk_bus = Value("ide", src, "no virtio-blk driver known, i440FX machine: IDE")

    # Network card.
    nic: Value[str] | None = None
    if devices & VIRTIO_NET:
        nic = Value("virtio", Source.OSINFO, f"{name} has virtio-net drivers")
    else:
        for osinfo_name, model in EMULATED_NICS:
            if osinfo_name in devices and not (model == "e1000e" and machine.value != "q35"):
                nic = Value(
                    model, Source.OSINFO, f"no virtio-net driver known; {name} drives {model}"
                )
                break
    if nic is None:
        model = "e1000e" if machine.value == "q35" else "e1000"
        src = Source.OSINFO if has_device_data else (machine.source if legacy else Source.GUESSED)
        nic = Value(model, src, f"no virtio-net driver known: emulated {model}")

    # Firmware.
    fw = {kind: supported for a, kind, supported in (facts.firmware if facts else ()) if a == arch}
    efi, bios = fw.get("efi"), fw.get("bios")
    uefi_supported = efi if efi is not None else (False if legacy else None)
    bios_supported = bios if bios is not None else (True if legacy else None)
    if efi and bios is False:
        firmware = Value(Firmware.UEFI, Source.OSINFO, f"osinfo-db: {name} needs UEFI")
    elif win11:
        firmware = Value(Firmware.UEFI, Source.RULE, "Windows 11 needs UEFI")
    elif legacy:
        firmware = Value(Firmware.BIOS, Source.RULE, f"{name} predates UEFI")
    elif facts is None:
        firmware = Value(Firmware.BIOS, Source.GUESSED, "BIOS starts most install discs")
    else:
        also = "; UEFI works too" if efi else ""
        firmware = Value(Firmware.BIOS, Source.RULE, f"{name} does not need UEFI{also}")

    if win11:
        why = "Windows 11 requires it (osinfo-db 2022-11 does not record this)"
        secure_boot = Value(True, Source.RULE, why)
        tpm = Value(True, Source.RULE, why)
    else:
        src = Source.GUESSED if facts is None else Source.RULE
        secure_boot = Value(False, src, "only Windows 11 requires Secure Boot")
        tpm = Value(False, src, "only Windows 11 requires a TPM")

    return OSDefaults(
        os=os,
        arch=arch,
        ram=ram,
        min_ram=min_ram,
        vcpus=vcpus,
        min_vcpus=min_vcpus,
        disk=disk,
        min_disk=min_disk,
        machine=machine,
        disk_bus=disk_bus,
        nic_model=nic,
        firmware=firmware,
        secure_boot=secure_boot,
        tpm=tpm,
        uefi_supported=uefi_supported,
        bios_supported=bios_supported,
    )
