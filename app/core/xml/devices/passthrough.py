"""Host hardware given to the guest: hostdev, USB redirection, smartcards and hubs."""

from __future__ import annotations

from ..base import XMLProperty
from ..children import XMLChild
from ..kinds import bool_yes_no
from .base import Address, Bootable, Device

__all__ = ["Hostdev", "Hub", "Redirdev", "Smartcard"]


class Hostdev(Bootable):
    """``<hostdev mode='subsystem' type='usb'|'pci'|'scsi'|'mdev'>``."""

    TAG = "hostdev"

    mode = XMLProperty("./@mode")
    type = XMLProperty("./@type")
    managed = XMLProperty("./@managed", bool_yes_no)
    model = XMLProperty("./@model")
    driver_name = XMLProperty("./driver/@name")
    vendor_id = XMLProperty("./source/vendor/@id")
    product_id = XMLProperty("./source/product/@id")
    source_startup_policy = XMLProperty("./source/@startupPolicy")
    source_address = XMLChild(Address, "./source/address")


class Redirdev(Bootable):
    """``<redirdev bus='usb' type='spicevmc'/>``: a USB device redirected by the client."""

    TAG = "redirdev"

    bus = XMLProperty("./@bus")
    type = XMLProperty("./@type")
    source_host = XMLProperty("./source/@host")
    source_service = XMLProperty("./source/@service")


class Smartcard(Device):
    """``<smartcard mode='host'|'host-certificates'|'passthrough'>``."""

    TAG = "smartcard"

    mode = XMLProperty("./@mode")
    type = XMLProperty("./@type")
    database = XMLProperty("./database")


class Hub(Device):
    """``<hub type='usb'/>``."""

    TAG = "hub"

    type = XMLProperty("./@type")
