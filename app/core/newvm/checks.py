"""Everything that is wrong with a spec, as short messages tied to the field they are about.

`validate(spec, host)` returns Problems; the wizard shows each under its field and keeps
Next disabled while a page has an error. Warnings (more vCPUs than physical cores, more
memory than is free now, a disk below the OS's minimum) are shown but do not block.

It reads files (the ISO's volume descriptor, ``qemu-img info`` for imports) and binds the
forwarded host ports for a moment to see whether they are free, so it is quick but not
free: call it when a field changes, not on every keystroke.
"""

from __future__ import annotations

import enum
import errno
import os
import socket
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from app.core.errors import NidoError
from app.core.newvm.host import HostFacts, PortForwardMethod
from app.core.newvm.images import CONVERTED_FORMATS, IMPORT_FORMATS, inspect_image
from app.core.newvm.names import name_problem
from app.core.newvm.pool import StorageKind
from app.core.newvm.spec import (
    MAX_NICS,
    NIC_MODELS,
    Firmware,
    ImportMode,
    NewVMSpec,
    NICSource,
    NICSpec,
    PortForward,
    SourceKind,
)
from app.core.newvm.suggest import os_defaults
from app.core.newvm.xmlbuild import FIRMWARE_FEATURES_SINCE
from app.core.osdb import GIB, MIB, MediaError
from app.core.osdb.media import check_image

__all__ = ["Problem", "Severity", "errors", "port_problem", "problems_for", "validate"]

MACHINES = ("q35", "pc")
DISK_BUSES = ("virtio", "sata", "ide", "scsi")
MIN_IMAGE_BYTES = MIB
REMOTE_FILE = "A file on this computer cannot be used by a remote host."


class Severity(enum.Enum):
    ERROR = "error"  # blocks Next
    WARNING = "warning"  # shown, does not block


@dataclass(frozen=True)
class Problem:
    field: str  # 'name', 'memory', 'nics[1].port_forwards[0]', ...
    message: str
    severity: Severity = Severity.ERROR

    @property
    def blocking(self) -> bool:
        return self.severity is Severity.ERROR


def errors(problems: Iterable[Problem]) -> list[Problem]:
    return [p for p in problems if p.blocking]


def problems_for(problems: Iterable[Problem], prefix: str) -> list[Problem]:
    """The problems of one field, or of every field under it ('nics' gives 'nics[0]...')."""
    heads = (prefix + ".", prefix + "[")
    return [p for p in problems if p.field == prefix or p.field.startswith(heads)]


def _size(n: int) -> str:
    if n >= GIB:
        return f"{n / GIB:.1f} GiB".replace(".0 GiB", " GiB")
    return f"{n // MIB} MiB"


# -- source ---------------------------------------------------------------------------


def _iso_problems(spec: NewVMSpec, host: HostFacts) -> list[Problem]:
    if not spec.iso_path:
        return [Problem("iso_path", "Choose a disc image.")]
    try:
        check_image(spec.iso_path)
    except MediaError as err:
        return [Problem("iso_path", err.summary)]
    if not host.local:
        return [Problem("iso_path", REMOTE_FILE)]
    return []


def _import_problems(spec: NewVMSpec, host: HostFacts) -> list[Problem]:
    path = spec.image_path
    if not path:
        return [Problem("image_path", "Choose a disk image.")]
    name = os.path.basename(path) or path
    if not host.local:
        return [Problem("image_path", REMOTE_FILE)]
    if not os.path.exists(path):
        return [Problem("image_path", f"“{name}” does not exist.")]
    if not os.path.isfile(path):
        return [Problem("image_path", f"“{name}” is not a file.")]
    if not os.access(path, os.R_OK):
        return [Problem("image_path", f"“{name}” cannot be read (permission denied).")]
    try:
        info = inspect_image(path)
    except (NidoError, OSError, ValueError) as exc:
        summary = exc.summary if isinstance(exc, NidoError) else str(exc)
        return [Problem("image_path", summary)]
    if info.format not in IMPORT_FORMATS:
        return [
            Problem(
                "image_path",
                f"“{name}” is a {info.format} image; Nido imports qcow2, raw, VMDK and VDI.",
            )
        ]
    if info.format == "raw" and info.looks_like_iso:
        return [Problem("image_path", f"“{name}” is a disc image: install from it instead.")]
    if info.virtual_size < MIN_IMAGE_BYTES:
        return [Problem("image_path", f"“{name}” is too small to be a disk.")]
    found: list[Problem] = []
    if spec.import_mode is ImportMode.IN_PLACE and info.format in CONVERTED_FORMATS:
        found.append(
            Problem(
                "import_mode",
                f"{info.format.upper()} images are converted to qcow2: choose to copy it.",
            )
        )
    if spec.import_mode is ImportMode.COPY:
        found += _space_for(info.actual_size, host, "image_path", nido_writes=True)
    return found


def _space_for(needed: int, host: HostFacts, field: str, *, nido_writes: bool) -> list[Problem]:
    """Room for `needed` bytes in the storage target; `nido_writes` when Nido's own
    qemu-img writes the file (copies, and every disk of a folder target)."""
    target = host.storage
    if target is None:
        return [Problem(field, "This connection has no storage pool Nido can put disks in.")]
    if target.free_bytes is not None and needed > target.free_bytes:
        return [Problem(field, f"Only {_size(target.free_bytes)} is free in {target.label}.")]
    if nido_writes and host.local and not _writable(target.path):
        return [Problem(field, f"Nido may not write into {target.path}.")]
    return []


def _writable(path: str) -> bool:
    """Whether this process may create files at path (or make it, at its nearest parent)."""
    p = os.path.abspath(path)
    while not os.path.exists(p):
        p = os.path.dirname(p)
    return os.access(p, os.W_OK | os.X_OK)


# -- resources ------------------------------------------------------------------------


def _resource_problems(spec: NewVMSpec, host: HostFacts) -> list[Problem]:
    osd = os_defaults(spec)
    os_name = osd.os.name if osd.os is not None else "This OS"
    found: list[Problem] = []
    caps = host.caps_for(spec.machine or osd.machine.value)
    max_vcpus = host.cpus
    if caps is not None and caps.max_vcpus:
        max_vcpus = min(max_vcpus, caps.max_vcpus)
    if spec.vcpus < 1:
        found.append(Problem("vcpus", "A VM needs at least one vCPU."))
    elif spec.vcpus > max_vcpus:
        found.append(Problem("vcpus", f"This host has {max_vcpus} CPUs."))
    elif spec.vcpus > host.physical_cores:
        found.append(
            Problem(
                "vcpus",
                f"More vCPUs than the host's {host.physical_cores} physical cores can make "
                "the guest slower, not faster.",
                Severity.WARNING,
            )
        )
    minimum = osd.min_ram.value
    if spec.memory_bytes < minimum:
        found.append(Problem("memory", f"{os_name} needs at least {_size(minimum)}."))
    elif spec.memory_bytes > host.memory_bytes:
        found.append(Problem("memory", f"This host has {_size(host.memory_bytes)} of memory."))
    elif spec.memory_bytes > host.free_memory_bytes:
        found.append(
            Problem(
                "memory",
                f"Only {_size(host.free_memory_bytes)} is free now: the host may have to swap.",
                Severity.WARNING,
            )
        )
    if spec.source is SourceKind.ISO:
        if spec.disk_bytes < MIB:
            found.append(Problem("disk", "Choose a disk size."))
        else:
            folder = host.storage is not None and host.storage.kind is StorageKind.DIR
            found += _space_for(spec.disk_bytes, host, "disk", nido_writes=folder)
            if spec.disk_bytes < osd.min_disk.value and not any(p.field == "disk" for p in found):
                found.append(
                    Problem(
                        "disk",
                        f"{os_name} wants at least {_size(osd.min_disk.value)}.",
                        Severity.WARNING,
                    )
                )
    return found


# -- network --------------------------------------------------------------------------


def port_problem(fwd: PortForward) -> str:
    """'' if the host port can be listened on now, else why not (binds it for a moment)."""
    family = socket.AF_INET6 if ":" in fwd.host_address else socket.AF_INET
    kind = socket.SOCK_STREAM if fwd.proto == "tcp" else socket.SOCK_DGRAM
    try:
        sock = socket.socket(family, kind)
    except OSError as exc:
        return f"Cannot test the port: {exc.strerror}."
    try:
        if kind == socket.SOCK_STREAM:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers do
        sock.bind((fwd.host_address, fwd.host_port))
    except PermissionError:
        return f"Port {fwd.host_port} needs administrator rights."
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            return f"Port {fwd.host_port} ({fwd.proto.upper()}) is already in use."
        if exc.errno == errno.EADDRNOTAVAIL:
            return f"{fwd.host_address} is not an address of this computer."
        return f"Port {fwd.host_port} cannot be used: {exc.strerror}."
    finally:
        sock.close()
    return ""


def _forward_problems(
    field: str, nic: NICSpec, host: HostFacts, seen: set[tuple[str, str, int]]
) -> list[Problem]:
    found: list[Problem] = []
    if nic.port_forwards and nic.source is not NICSource.USER:
        return [Problem(field, "Only user-mode network cards forward ports.")]
    if nic.port_forwards and host.port_forwarding is PortForwardMethod.NONE:
        return [Problem(field, "This connection cannot forward ports.")]
    guest_seen: set[tuple[str, int]] = set()
    for j, fwd in enumerate(nic.port_forwards):
        where = f"{field}[{j}]"
        if fwd.proto not in ("tcp", "udp"):
            found.append(Problem(where, "Forward TCP or UDP."))
            continue
        if not (1 <= fwd.host_port <= 65535 and 1 <= fwd.guest_port <= 65535):
            found.append(Problem(where, "Ports go from 1 to 65535."))
            continue
        key = (fwd.proto, fwd.host_address, fwd.host_port)
        if key in seen:
            found.append(Problem(where, f"Port {fwd.host_port} is forwarded twice."))
            continue
        seen.add(key)
        if (fwd.proto, fwd.guest_port) in guest_seen:
            found.append(Problem(where, f"Guest port {fwd.guest_port} is forwarded twice."))
            continue
        guest_seen.add((fwd.proto, fwd.guest_port))
        if host.local:
            why = port_problem(fwd)
            if why:
                found.append(Problem(where, why))
    return found


def _nic_problems(spec: NewVMSpec, host: HostFacts) -> list[Problem]:
    nics = spec.nics or []
    found: list[Problem] = []
    if len(nics) > MAX_NICS:
        found.append(Problem("nics", f"A new VM has at most {MAX_NICS} network cards."))
    seen: set[tuple[str, str, int]] = set()
    for i, nic in enumerate(nics):
        field = f"nics[{i}]"
        if nic.model and nic.model not in NIC_MODELS:
            found.append(Problem(f"{field}.model", f"Unknown network card model “{nic.model}”."))
        if nic.source is NICSource.USER and not host.user_networking:
            found.append(
                Problem(
                    f"{field}.source",
                    "User-mode networking works on session and embedded connections only.",
                )
            )
        elif nic.source is NICSource.NETWORK:
            net = host.network(nic.name)
            if net is None:
                found.append(Problem(f"{field}.source", f"There is no network “{nic.name}”."))
            elif not net.active:
                why = f"The network “{nic.name}” is not running."
                found.append(Problem(f"{field}.source", why))
        elif nic.source is NICSource.BRIDGE and nic.name not in host.bridges:
            found.append(
                Problem(f"{field}.source", f"The bridge “{nic.name}” is not available here.")
            )
        found += _forward_problems(f"{field}.port_forwards", nic, host, seen)
    return found


# -- platform -------------------------------------------------------------------------


def _platform_problems(spec: NewVMSpec, host: HostFacts) -> list[Problem]:
    osd = os_defaults(spec)
    os_name = osd.os.name if osd.os is not None else "This OS"
    machine = spec.machine or osd.machine.value
    found: list[Problem] = []
    if machine not in MACHINES:
        found.append(Problem("machine", f"Unknown machine type “{machine}”."))
    caps = host.caps_for(machine)
    if host.domain_caps and caps is None:
        found.append(Problem("machine", f"This host offers no {machine} machine."))
    bus = spec.disk_bus or osd.disk_bus.value
    offered = caps.disk_buses if caps is not None and caps.disk_buses else DISK_BUSES
    if bus not in DISK_BUSES or bus not in offered:
        found.append(Problem("disk_bus", f"This host offers no {bus} disks."))
    uefi = spec.firmware is Firmware.UEFI
    if uefi and (caps is None or not caps.uefi):
        found.append(Problem("firmware", "This host offers no UEFI firmware."))
    elif uefi and osd.uefi_supported is False:
        found.append(Problem("firmware", f"{os_name} may not start with UEFI.", Severity.WARNING))
    if not uefi and osd.bios_supported is False:
        found.append(Problem("firmware", f"{os_name} needs UEFI."))
    if spec.secure_boot:
        if not uefi:
            found.append(Problem("secure_boot", "Secure Boot needs UEFI."))
        elif caps is None or not caps.secure_boot:
            found.append(Problem("secure_boot", "This host offers no Secure Boot firmware."))
        elif host.libvirt_version and host.libvirt_version < FIRMWARE_FEATURES_SINCE:
            found.append(Problem("secure_boot", "Secure Boot needs libvirt 7.2 or newer."))
    if spec.tpm and (caps is None or not caps.tpm2):
        found.append(Problem("tpm", "This host offers no emulated TPM 2.0."))
    return found


def validate(spec: NewVMSpec, host: HostFacts) -> list[Problem]:
    """Every problem with `spec` on `host`: errors block creation, warnings inform."""
    found: list[Problem] = []
    if spec.source is SourceKind.ISO:
        found += _iso_problems(spec, host)
    else:
        found += _import_problems(spec, host)
    why = name_problem(spec.name, host.existing_names)
    if why:
        found.append(Problem("name", why))
    if any(unicodedata.category(c) == "Cc" for c in spec.title):
        found.append(Problem("title", "A title is one line of text."))
    found += _resource_problems(spec, host)
    found += _nic_problems(spec, host)
    found += _platform_problems(spec, host)
    return found
