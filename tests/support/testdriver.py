"""Node files for libvirt's test driver (`test:///path/node.xml`): each URI gives a fresh,
private in-process hypervisor with the domains we ask for. Fast, real libvirt, no QEMU;
for list and model logic only, never a stand-in for the real hypervisor."""

from __future__ import annotations

import uuid as uuidlib
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

LIBOSINFO = "http://libosinfo.org/xmlns/libvirt/domain/1.0"


def domain(
    name: str,
    *,
    state: str = "running",
    os_id: str = "http://debian.org/debian/12",
    memory_kib: int = 262144,
    vcpus: int = 1,
    disk: str | None = None,
) -> str:
    meta = (
        f"<metadata><libosinfo:libosinfo xmlns:libosinfo={quoteattr(LIBOSINFO)}>"
        f"<libosinfo:os id={quoteattr(os_id)}/></libosinfo:libosinfo></metadata>"
        if os_id
        else ""
    )
    disk_xml = (
        f"<disk type='file' device='disk'><source file={quoteattr(disk)}/>"
        "<target dev='vda' bus='virtio'/></disk>"
        if disk
        else ""
    )
    # The test driver reads a domain's initial state from its own namespace.
    test_state = {"running": 1, "paused": 3, "shutoff": 5}[state]
    return (
        "<domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>"
        f"<name>{escape(name)}</name><uuid>{uuidlib.uuid4()}</uuid>{meta}"
        f"<memory>{memory_kib}</memory><vcpu>{vcpus}</vcpu>"
        "<os><type>hvm</type></os>"
        f"<devices>{disk_xml}</devices>"
        f"<test:runstate>{test_state}</test:runstate>"
        "</domain>"
    )


def node_uri(directory: Path, domains: list[str]) -> str:
    """Write a node file with these domains and return its test:/// URI."""
    path = directory / f"node-{uuidlib.uuid4().hex[:8]}.xml"
    path.write_text("<node>" + "".join(domains) + "</node>", encoding="utf-8")
    return f"test://{path}"
