"""What every device shares: the generic Device, its <address>, and character devices.

A Device wraps any child of ``<devices>``; subclasses add the properties of one kind.
Character devices (serial, parallel, console, channel) share their source/target shape.
"""

from __future__ import annotations

from ..base import XMLObject, XMLProperty
from ..children import XMLChild
from ..kinds import INT, bool_on_off

__all__ = ["Address", "Bootable", "CharDevice", "Device", "DeviceBase", "Emulator"]


class Address(XMLObject):
    """A device address (``type='pci'``, ``'drive'``, ``'usb'`` ...); values kept as text."""

    TAG = "address"

    type = XMLProperty("./@type")
    domain = XMLProperty("./@domain")
    bus = XMLProperty("./@bus")
    slot = XMLProperty("./@slot")
    function = XMLProperty("./@function")
    multifunction = XMLProperty("./@multifunction", bool_on_off)
    controller = XMLProperty("./@controller")
    target = XMLProperty("./@target")
    unit = XMLProperty("./@unit")
    port = XMLProperty("./@port")
    device = XMLProperty("./@device")


class DeviceBase(XMLObject):
    """Any child of ``<devices>``."""

    @property
    def kind(self) -> str:
        """The device's tag, e.g. ``'disk'``."""
        elem = self._element()
        return elem.tag if elem is not None else self.TAG


class Device(DeviceBase):
    """A device proper. Unknown device kinds come back as plain Device objects."""

    alias = XMLProperty("./alias/@name")
    address = XMLChild(Address, "./address")


class Bootable(Device):
    """A device that can carry a per-device ``<boot order='N'/>``."""

    boot_order = XMLProperty("./boot/@order", INT, prune=True)


class Emulator(DeviceBase):
    """``<emulator>/usr/bin/qemu-system-x86_64</emulator>``."""

    TAG = "emulator"

    path = XMLProperty(".")


class CharDevice(Device):
    """Serial, parallel, console and channel devices."""

    type = XMLProperty("./@type")
    tty = XMLProperty("./@tty")
    source_path = XMLProperty("./source/@path")
    source_mode = XMLProperty("./source/@mode")
    source_host = XMLProperty("./source/@host")
    source_service = XMLProperty("./source/@service")
    target_type = XMLProperty("./target/@type")
    target_port = XMLProperty("./target/@port", INT)
    target_model = XMLProperty("./target/model/@name", prune=True)
    log_file = XMLProperty("./log/@file", prune=True)
