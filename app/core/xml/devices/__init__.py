"""The ``<devices>`` section: one typed list per device kind, plus add/remove.

Every device class of libvirt's domain format has a class here. ``Devices.all()`` gives
every child of ``<devices>`` in document order, typed by tag; kinds the model does not
know come back as plain `Device` objects and are never lost.
"""

from __future__ import annotations

from typing import Final

from ..base import XMLObject, XMLProperty
from ..children import XMLChildList
from ..layout import insert_ordered, remove_element
from .base import Address, Bootable, CharDevice, Device, DeviceBase, Emulator
from .chardev import Channel, Console, Parallel, Serial
from .display import Audio, Graphics, Input, Sound, Video
from .network import Interface, PortForward, PortForwardRange
from .passthrough import Hostdev, Hub, Redirdev, Smartcard
from .platform_devices import (
    IOMMU,
    RNG,
    TPM,
    MemBalloon,
    MemoryDevice,
    Panic,
    Shmem,
    Vsock,
    Watchdog,
)
from .storage import Controller, Disk, Filesystem, Lease

__all__ = [
    "DEVICE_TYPES",
    "IOMMU",
    "RNG",
    "TPM",
    "Address",
    "Audio",
    "Bootable",
    "Channel",
    "CharDevice",
    "Console",
    "Controller",
    "Device",
    "DeviceBase",
    "Devices",
    "Disk",
    "Emulator",
    "Filesystem",
    "Graphics",
    "Hostdev",
    "Hub",
    "Input",
    "Interface",
    "Lease",
    "MemBalloon",
    "MemoryDevice",
    "Panic",
    "Parallel",
    "PortForward",
    "PortForwardRange",
    "Redirdev",
    "Serial",
    "Shmem",
    "Smartcard",
    "Sound",
    "Video",
    "Vsock",
    "Watchdog",
]

DEVICE_TYPES: Final[dict[str, type[DeviceBase]]] = {
    cls.TAG: cls
    for cls in (
        Emulator, Disk, Controller, Lease, Filesystem, Interface, Input, Hub, Graphics,
        Video, Console, Serial, Parallel, Channel, Sound, Audio, Watchdog, MemBalloon, RNG,
        TPM, Hostdev, Redirdev, Smartcard, Shmem, MemoryDevice, IOMMU, Vsock, Panic,
    )
}  # fmt: skip


class Devices(XMLObject):
    """The ``<devices>`` element. Lists are live views; `add`/`remove_device` edit it."""

    TAG = "devices"

    emulator = XMLProperty("./emulator")
    emulators = XMLChildList(Emulator, "./emulator")
    disks = XMLChildList(Disk, "./disk")
    controllers = XMLChildList(Controller, "./controller")
    leases = XMLChildList(Lease, "./lease")
    filesystems = XMLChildList(Filesystem, "./filesystem")
    interfaces = XMLChildList(Interface, "./interface")
    inputs = XMLChildList(Input, "./input")
    hubs = XMLChildList(Hub, "./hub")
    graphics = XMLChildList(Graphics, "./graphics")
    videos = XMLChildList(Video, "./video")
    consoles = XMLChildList(Console, "./console")
    serials = XMLChildList(Serial, "./serial")
    parallels = XMLChildList(Parallel, "./parallel")
    channels = XMLChildList(Channel, "./channel")
    sounds = XMLChildList(Sound, "./sound")
    audios = XMLChildList(Audio, "./audio")
    watchdogs = XMLChildList(Watchdog, "./watchdog")
    memballoons = XMLChildList(MemBalloon, "./memballoon")
    rngs = XMLChildList(RNG, "./rng")
    tpms = XMLChildList(TPM, "./tpm")
    hostdevs = XMLChildList(Hostdev, "./hostdev")
    redirdevs = XMLChildList(Redirdev, "./redirdev")
    smartcards = XMLChildList(Smartcard, "./smartcard")
    shmems = XMLChildList(Shmem, "./shmem")
    memories = XMLChildList(MemoryDevice, "./memory")
    iommus = XMLChildList(IOMMU, "./iommu")
    vsocks = XMLChildList(Vsock, "./vsock")
    panics = XMLChildList(Panic, "./panic")

    def all(self) -> list[DeviceBase]:
        """Every device in document order, as its own class (or Device if unknown)."""
        elem = self._element()
        if elem is None:
            return []
        found: list[DeviceBase] = []
        for child in elem.elements():
            dev = DEVICE_TYPES.get(child.tag, Device)(child)
            object.__setattr__(dev, "_parent", self)
            found.append(dev)
        return found

    def add(self, device: DeviceBase) -> DeviceBase:
        """Attach a detached device next to others of its kind; returns it."""
        elem = device._element()
        if elem is None or elem.parent is not None or device._xpath is not None:
            raise ValueError("only a detached device can be added; remove it first")
        container = self._element(create=True)
        assert container is not None
        insert_ordered(container, elem)
        object.__setattr__(device, "_parent", self)
        return device

    def remove_device(self, device: DeviceBase) -> None:
        """Detach a device of this domain; raises ValueError for a stranger."""
        elem = device._element()
        container = self._element()
        if elem is None or container is None or elem.parent is not container:
            raise ValueError(f"{device!r} is not a device of this domain")
        remove_element(elem)
        object.__setattr__(device, "_parent", None)
        self._cleanup()
