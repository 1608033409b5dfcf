"""The domain-XML model: descriptors over a parsed tree, round-trip safe.

App code reads and changes libvirt domain XML only through this package::

    from app.core.xml import Disk, Domain

    dom = Domain.from_xml(virdomain.XMLDesc(0))
    dom.memory = 2 * 1024 * 1024          # KiB
    dom.add_device(Disk(type="file", device="cdrom", source_file="/isos/debian.iso",
                        target_dev="sda", target_bus="sata", readonly=True))
    conn.defineXML(dom.to_xml())

What the model does not know (elements, attributes, comments, namespaced metadata,
``qemu:commandline``) survives unchanged.
"""

from .base import XMLDescriptor, XMLFlag, XMLObject, XMLProperty, XMLSize, XMLState
from .children import ChildList, XMLChild, XMLChildList
from .devices import (
    DEVICE_TYPES,
    IOMMU,
    RNG,
    TPM,
    Address,
    Audio,
    Bootable,
    Channel,
    CharDevice,
    Console,
    Controller,
    Device,
    DeviceBase,
    Devices,
    Disk,
    Emulator,
    Filesystem,
    Graphics,
    Hostdev,
    Hub,
    Input,
    Interface,
    Lease,
    MemBalloon,
    MemoryDevice,
    Panic,
    Parallel,
    PortForward,
    PortForwardRange,
    Redirdev,
    Serial,
    Shmem,
    Smartcard,
    Sound,
    Video,
    Vsock,
    Watchdog,
)
from .domain import Domain
from .domain_os import DomainOS
from .hardware import CPU, Clock, CPUFeature, Features, MemoryBacking, PowerManagement, Timer
from .kinds import INT, STR, Kind, bool_on_off, bool_yes_no, scale_to_kib, unit_factor
from .metadata import MetadataElement
from .tree import XMLParseError

__all__ = [
    "CPU",
    "DEVICE_TYPES",
    "INT",
    "IOMMU",
    "NIDO_XMLNS",
    "RNG",
    "STR",
    "TPM",
    "Address",
    "Audio",
    "Bootable",
    "CPUFeature",
    "Channel",
    "CharDevice",
    "ChildList",
    "Clock",
    "Console",
    "Controller",
    "Device",
    "DeviceBase",
    "Devices",
    "Disk",
    "Domain",
    "DomainOS",
    "Emulator",
    "Features",
    "Filesystem",
    "Graphics",
    "Hostdev",
    "Hub",
    "Input",
    "Interface",
    "Kind",
    "Lease",
    "MemBalloon",
    "MemoryBacking",
    "MemoryDevice",
    "MetadataElement",
    "Panic",
    "Parallel",
    "PortForward",
    "PortForwardRange",
    "PowerManagement",
    "Redirdev",
    "Serial",
    "Shmem",
    "Smartcard",
    "Sound",
    "Timer",
    "Video",
    "Vsock",
    "Watchdog",
    "XMLChild",
    "XMLChildList",
    "XMLDescriptor",
    "XMLFlag",
    "XMLObject",
    "XMLParseError",
    "XMLProperty",
    "XMLSize",
    "XMLState",
    "bool_on_off",
    "bool_yes_no",
    "scale_to_kib",
    "unit_factor",
]

NIDO_XMLNS = "https://nido.invalid/xmlns/1.0"
"""Namespace URI of Nido's own ``<metadata>`` element."""
