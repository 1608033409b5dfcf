"""The New-VM spec: plain data that the wizard's pages edit, one field group per page.

Nothing here talks to libvirt or checks anything; `validate()` says what is wrong,
`defaults()` fills in the OS's recommendations, `build_xml()` and `create()` turn a valid
spec into a guest. Sizes are bytes.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from app.core.osdb import Detection, Firmware, OSDefaults, OSInfo

__all__ = [
    "MAX_NICS",
    "NIC_MODELS",
    "Firmware",
    "ImportMode",
    "NICSource",
    "NICSpec",
    "NewVMSpec",
    "PortForward",
    "SourceKind",
]

MAX_NICS = 4
# libvirt <model type> values the wizard offers, best first.
NIC_MODELS = ("virtio", "e1000e", "e1000", "rtl8139")


class SourceKind(enum.Enum):
    """Where the guest's system comes from."""

    ISO = "iso"  # install from a local disc image: a new empty disk plus the ISO as CD-ROM
    IMPORT = "import"  # an existing disk image (qcow2, raw, vmdk, vdi)


class ImportMode(enum.Enum):
    """What happens to an imported image. vmdk and vdi are always converted to qcow2."""

    IN_PLACE = "in_place"  # the guest uses the file where it is (qcow2 and raw only)
    COPY = "copy"  # copied (vmdk/vdi: converted to qcow2) into the connection's storage


class NICSource(enum.Enum):
    """What a network card is plugged into."""

    USER = "user"  # user-mode NAT inside QEMU: session and embedded connections
    NETWORK = "network"  # a libvirt virtual network, by name
    BRIDGE = "bridge"  # a host bridge, by name


@dataclass(frozen=True)
class PortForward:
    """Host port -> guest port on a user-mode NIC. `host_address` is where the host
    listens: 127.0.0.1 (this computer only) unless the person opens it wider."""

    host_port: int
    guest_port: int
    proto: str = "tcp"  # 'tcp' or 'udp'
    host_address: str = "127.0.0.1"


@dataclass
class NICSpec:
    """One network card. `name` is the libvirt network or bridge (unused for USER);
    an empty `model` means the OS's default."""

    source: NICSource = NICSource.USER
    name: str = ""
    model: str = ""
    port_forwards: list[PortForward] = field(default_factory=list)


@dataclass
class NewVMSpec:
    """Everything the wizard asks. Zero/empty values mean "not chosen yet":
    `defaults(spec, host).apply(spec)` fills them in."""

    # Source page.
    source: SourceKind = SourceKind.ISO
    iso_path: str = ""
    image_path: str = ""
    import_mode: ImportMode = ImportMode.COPY
    # OS page: set through `choose_os()` (or by hand in tests). `os_defaults` is what
    # osdb's defaults_for() said for this OS; None means nothing is known.
    os: OSInfo | None = None
    os_defaults: OSDefaults | None = None
    detection: Detection | None = None
    # Name page.
    name: str = ""
    title: str = ""
    # Resources page.
    vcpus: int = 0
    memory_bytes: int = 0
    disk_bytes: int = 0
    nics: list[NICSpec] | None = None  # None: not chosen yet; [] is "no network"
    # Firmware and machine.
    firmware: Firmware | None = None
    secure_boot: bool = False
    tpm: bool = False
    machine: str = ""  # 'q35' or 'pc'; '' = the OS default
    disk_bus: str = ""  # 'virtio', 'sata', 'ide'; '' = the OS default
    # Summary page: False for "Customize before install" (define only, start later).
    start: bool = True
