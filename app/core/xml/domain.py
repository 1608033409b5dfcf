"""The ``<domain>`` root: identity, memory, vCPUs, lifecycle actions and its sections.

`Domain` is the entry point of the model: ``Domain.from_xml(text)`` wraps libvirt's XML,
``Domain.new(name)`` builds a minimal one, ``to_xml()`` writes it back. Sections are
child objects (`os`, `features`, `cpu`, `clock`, `pm`, `memory_backing`, `devices`)
that exist lazily: reading an absent one gives None values, writing creates it.
"""

from __future__ import annotations

from typing import Self

from .base import XMLObject, XMLProperty, XMLSize
from .children import XMLChild
from .devices import DeviceBase, Devices
from .domain_os import DomainOS
from .hardware import CPU, Clock, Features, MemoryBacking, PowerManagement
from .kinds import INT
from .metadata import MetadataElement, local_name, namespace_of
from .parse import parse_document
from .tree import Document, Element

__all__ = ["Domain"]


class Domain(XMLObject):
    """A libvirt domain definition."""

    TAG = "domain"

    type = XMLProperty("./@type")
    id = XMLProperty("./@id", INT)
    name = XMLProperty("./name")
    uuid = XMLProperty("./uuid")
    genid = XMLProperty("./genid")
    title = XMLProperty("./title")
    description = XMLProperty("./description")
    max_memory = XMLSize("./maxMemory")
    max_memory_slots = XMLProperty("./maxMemory/@slots", INT)
    memory = XMLSize("./memory")
    current_memory = XMLSize("./currentMemory")
    vcpu = XMLProperty("./vcpu", INT)
    vcpu_current = XMLProperty("./vcpu/@current", INT)
    vcpu_placement = XMLProperty("./vcpu/@placement")
    vcpu_cpuset = XMLProperty("./vcpu/@cpuset")
    on_poweroff = XMLProperty("./on_poweroff")
    on_reboot = XMLProperty("./on_reboot")
    on_crash = XMLProperty("./on_crash")
    os = XMLChild(DomainOS, "./os")
    features = XMLChild(Features, "./features")
    cpu = XMLChild(CPU, "./cpu")
    clock = XMLChild(Clock, "./clock")
    pm = XMLChild(PowerManagement, "./pm")
    memory_backing = XMLChild(MemoryBacking, "./memoryBacking")
    devices = XMLChild(Devices, "./devices")

    _doc: Document

    def __init__(self, node: Element | None = None, /, **props: object) -> None:
        super().__init__(node, **props)
        root = self._element()
        assert root is not None
        object.__setattr__(self, "_doc", Document(root))

    @classmethod
    def from_xml(cls, text: str | bytes) -> Self:
        """Parse domain XML (as libvirt's XMLDesc returns it, or as a person wrote it)."""
        doc = parse_document(text)
        if doc.root.tag != cls.TAG:
            raise ValueError(f"expected a <domain> document, got <{doc.root.tag}>")
        obj = cls(doc.root)
        object.__setattr__(obj, "_doc", doc)
        return obj

    @classmethod
    def new(
        cls,
        name: str,
        *,
        virt_type: str = "kvm",
        memory_kib: int = 1024 * 1024,
        vcpus: int = 1,
        arch: str = "x86_64",
        machine: str | None = None,
        os_type: str = "hvm",
    ) -> Self:
        """A minimal, defineable domain: name, memory, vCPUs and an OS type."""
        dom = cls(type=virt_type, name=name)
        dom.memory = memory_kib
        dom.current_memory = memory_kib
        dom.vcpu = vcpus
        dom.os.type = os_type
        dom.os.arch = arch
        dom.os.machine = machine
        return dom

    def to_xml(self) -> str:
        """The whole document; unchanged parts come back exactly as they were read."""
        return self._doc.to_xml()

    # -- devices ---------------------------------------------------------------------
    def add_device(self, device: DeviceBase) -> DeviceBase:
        """Attach a new device (e.g. ``Disk(...)``) next to others of its kind."""
        return self.devices.add(device)

    def remove_device(self, device: DeviceBase) -> None:
        """Remove one of this domain's devices; it can be added again later."""
        self.devices.remove_device(device)

    # -- metadata --------------------------------------------------------------------
    def metadata(self, uri: str, name: str, prefix: str) -> MetadataElement:
        """The element `name` in namespace `uri` under ``<metadata>``, created on write.

        `prefix` is used only when the element has to be created.
        """
        return MetadataElement(self, uri, name, prefix)

    def metadata_keys(self) -> list[tuple[str | None, str]]:
        """(namespace URI, local name) of every element under ``<metadata>``."""
        root = self._element()
        assert root is not None
        meta = root.find("metadata")
        if meta is None:
            return []
        return [(namespace_of(e), local_name(e)) for e in meta.elements()]
