"""Storage devices: disks, controllers, leases and shared filesystems."""

from __future__ import annotations

from ..base import XMLFlag, XMLProperty
from ..kinds import INT, bool_on_off
from .base import Bootable, Device

__all__ = ["Controller", "Disk", "Filesystem", "Lease"]

_SOURCE_ATTR = {"file": "file", "block": "dev", "dir": "dir", "volume": "volume"}


class Disk(Bootable):
    """``<disk type='file' device='disk'>``: an image, block device, volume or network disk."""

    TAG = "disk"

    type = XMLProperty("./@type")
    device = XMLProperty("./@device")
    driver_name = XMLProperty("./driver/@name")
    driver_type = XMLProperty("./driver/@type")
    driver_cache = XMLProperty("./driver/@cache")
    driver_discard = XMLProperty("./driver/@discard")
    driver_io = XMLProperty("./driver/@io")
    source_file = XMLProperty("./source/@file")
    source_dev = XMLProperty("./source/@dev")
    source_dir = XMLProperty("./source/@dir")
    source_pool = XMLProperty("./source/@pool")
    source_volume = XMLProperty("./source/@volume")
    source_protocol = XMLProperty("./source/@protocol")
    source_name = XMLProperty("./source/@name")
    source_host_name = XMLProperty("./source/host/@name")
    source_host_port = XMLProperty("./source/host/@port")
    source_network = XMLProperty("./source/@network")
    target_dev = XMLProperty("./target/@dev")
    target_bus = XMLProperty("./target/@bus")
    target_tray = XMLProperty("./target/@tray")
    readonly = XMLFlag("./readonly")
    shareable = XMLFlag("./shareable")
    serial = XMLProperty("./serial")

    @property
    def source_path(self) -> str | None:
        """The local path, whichever attribute the disk type keeps it in.

        For ``type='network'`` disks this is the source name (e.g. ``pool/image``).
        """
        kind = self.type or "file"
        if kind == "network":
            return self.source_name
        attr = _SOURCE_ATTR.get(kind)
        return None if attr is None else getattr(self, f"source_{attr}")

    @source_path.setter
    def source_path(self, value: str | None) -> None:
        kind = self.type or "file"
        if kind == "network":
            self.source_name = value
            return
        attr = _SOURCE_ATTR.get(kind)
        if attr is None or attr == "volume":
            raise ValueError(f"a disk of type {kind!r} has no single source path")
        setattr(self, f"source_{attr}", value)


class Controller(Device):
    """``<controller type='usb' index='0' model='qemu-xhci'>`` and friends."""

    TAG = "controller"

    type = XMLProperty("./@type")
    index = XMLProperty("./@index", INT)
    model = XMLProperty("./@model")
    ports = XMLProperty("./@ports", INT)
    vectors = XMLProperty("./@vectors", INT)
    driver_queues = XMLProperty("./driver/@queues", INT)
    driver_iothread = XMLProperty("./driver/@iothread", INT)
    target_chassis = XMLProperty("./target/@chassis", INT)
    target_port = XMLProperty("./target/@port")
    model_name = XMLProperty("./model/@name", prune=True)


class Lease(Device):
    """A lock-manager lease: ``<lease><lockspace/><key/><target path=.../></lease>``."""

    TAG = "lease"

    lockspace = XMLProperty("./lockspace")
    key = XMLProperty("./key")
    target_path = XMLProperty("./target/@path")
    target_offset = XMLProperty("./target/@offset", INT)


class Filesystem(Device):
    """A host directory shared into the guest (virtiofs or 9p)."""

    TAG = "filesystem"

    type = XMLProperty("./@type")
    accessmode = XMLProperty("./@accessmode")
    multidevs = XMLProperty("./@multidevs")
    driver_type = XMLProperty("./driver/@type")
    driver_queue = XMLProperty("./driver/@queue", INT)
    binary_path = XMLProperty("./binary/@path")
    binary_xattr = XMLProperty("./binary/@xattr", bool_on_off)
    source_dir = XMLProperty("./source/@dir")
    source_file = XMLProperty("./source/@file")
    source_dev = XMLProperty("./source/@dev")
    source_name = XMLProperty("./source/@name")
    source_socket = XMLProperty("./source/@socket")
    target_dir = XMLProperty("./target/@dir")
    readonly = XMLFlag("./readonly")
