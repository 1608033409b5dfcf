"""Network interfaces, including user-mode port forwarding (``<portForward>``)."""

from __future__ import annotations

from ..base import XMLObject, XMLProperty
from ..children import XMLChildList
from ..kinds import INT, bool_yes_no
from .base import Bootable

__all__ = ["Interface", "PortForward", "PortForwardRange"]


class PortForwardRange(XMLObject):
    """``<range start='2022' end='2030' to='22' exclude='no'/>`` inside a portForward."""

    TAG = "range"

    start = XMLProperty("./@start", INT)
    end = XMLProperty("./@end", INT)
    to = XMLProperty("./@to", INT)
    exclude = XMLProperty("./@exclude", bool_yes_no)


class PortForward(XMLObject):
    """``<portForward proto='tcp' address=... dev=...>`` with its ranges (passt backend)."""

    TAG = "portForward"

    proto = XMLProperty("./@proto")
    address = XMLProperty("./@address")
    dev = XMLProperty("./@dev")
    ranges = XMLChildList(PortForwardRange, "./range")


class Interface(Bootable):
    """``<interface type='network'>``: a guest NIC and what it is plugged into."""

    TAG = "interface"

    type = XMLProperty("./@type")
    trust_guest_rx_filters = XMLProperty("./@trustGuestRxFilters", bool_yes_no)
    mac = XMLProperty("./mac/@address")
    source_network = XMLProperty("./source/@network")
    source_portgroup = XMLProperty("./source/@portgroup")
    source_bridge = XMLProperty("./source/@bridge")
    source_dev = XMLProperty("./source/@dev")
    source_mode = XMLProperty("./source/@mode")
    model = XMLProperty("./model/@type", prune=True)
    target_dev = XMLProperty("./target/@dev")
    driver_name = XMLProperty("./driver/@name")
    driver_queues = XMLProperty("./driver/@queues", INT)
    backend_type = XMLProperty("./backend/@type", prune=True)
    link_state = XMLProperty("./link/@state", prune=True)
    mtu = XMLProperty("./mtu/@size", INT, prune=True)
    port_forwards = XMLChildList(PortForward, "./portForward")
