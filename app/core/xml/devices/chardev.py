"""Character devices: serial ports, parallel ports, consoles and channels."""

from __future__ import annotations

from ..base import XMLProperty
from .base import CharDevice

__all__ = ["Channel", "Console", "Parallel", "Serial"]


class Serial(CharDevice):
    """``<serial type='pty'><target type='isa-serial' port='0'/></serial>``."""

    TAG = "serial"


class Parallel(CharDevice):
    """``<parallel type='pty'><target port='0'/></parallel>``."""

    TAG = "parallel"


class Console(CharDevice):
    """``<console type='pty'><target type='serial' port='0'/></console>``."""

    TAG = "console"


class Channel(CharDevice):
    """``<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/>``."""

    TAG = "channel"

    target_name = XMLProperty("./target/@name")
    target_state = XMLProperty("./target/@state")
    target_address = XMLProperty("./target/@address")
