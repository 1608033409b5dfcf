"""User-mode port forwards in domain XML: written two ways, read back from either.

- PASST (libvirt 10.x and newer, where the domain capabilities list the passt backend):
  ``<interface type='user'><backend type='passt'/><portForward proto='tcp'
  address='127.0.0.1'><range start='2222' to='22'/></portForward>``. libvirt's own way.
- SLIRP_HOSTFWD (libvirt 9.x, Debian 12): libvirt 9.0 refuses the passt backend and
  ignores ``<portForward>`` on slirp, so Nido asks QEMU's slirp itself. Each user-mode
  NIC gets a user alias (``ua-nic0``), for which libvirt names the netdev
  ``hostua-nic0``; the domain gets
  ``<qemu:commandline><qemu:arg value='-set'/><qemu:arg
  value='netdev.hostua-nic0.hostfwd=tcp:127.0.0.1:2222-:22'/>`` per forward, and
  ``<qemu:capabilities><qemu:del capability='netdev.json'/>`` so that libvirt passes
  ``-netdev user,id=hostua-nic0`` (QemuOpts, which ``-set`` can extend) instead of JSON.
  libvirt marks such a domain "tainted" (custom-argv) in its log; nothing else changes.

The XML model keeps ``qemu:`` elements untouched but has no class for them, so this
module edits them through the model's tree (`app.core.xml.tree`), never as text.
"""

from __future__ import annotations

import itertools
import re

from app.core.newvm.spec import PortForward
from app.core.xml import Domain, Interface, PortForwardRange
from app.core.xml import PortForward as XMLPortForward
from app.core.xml.layout import insert_ordered, place
from app.core.xml.tree import Element

__all__ = [
    "NETDEV_JSON_CAP",
    "QEMU_NS",
    "add_passt_forwards",
    "add_slirp_forwards",
    "hostfwd_rule",
    "nic_alias",
    "read_forwards",
]

QEMU_NS = "http://libvirt.org/schemas/domain/qemu/1.0"
NETDEV_JSON_CAP = "netdev.json"
_RULE = re.compile(r"^(tcp|udp):(\[[^\]]*\]|[^:]*):(\d+)-[^:]*:(\d+)$")
_SET_VALUE = re.compile(r"^netdev\.(?P<id>[^.]+)\.hostfwd=(?P<rule>.+)$")


def nic_alias(index: int) -> str:
    """A user alias (libvirt wants the 'ua-' prefix) that fixes the NIC's netdev id."""
    return f"ua-nic{index}"


def _netdev_id(alias: str) -> str:
    return f"host{alias}"  # libvirt's netdev id for an interface with this alias


def hostfwd_rule(fwd: PortForward) -> str:
    """QEMU slirp's ``hostfwd`` value: ``tcp:127.0.0.1:2222-:22``."""
    addr = f"[{fwd.host_address}]" if ":" in fwd.host_address else fwd.host_address
    return f"{fwd.proto}:{addr}:{fwd.host_port}-:{fwd.guest_port}"


def _qemu_prefix(root: Element, create: bool) -> str | None:
    for name, value in root.attrs.items():
        if name.startswith("xmlns:") and value == QEMU_NS:
            return name.partition(":")[2]
    if not create:
        return None
    prefix = "qemu" if "xmlns:qemu" not in root.attrs else "nidoqemu"
    root.set(f"xmlns:{prefix}", QEMU_NS)
    return prefix


def _child(parent: Element, tag: str) -> Element:
    found = parent.find(tag)
    if found is None:
        found = Element(tag)
        insert_ordered(parent, found)
    return found


def add_slirp_forwards(dom: Domain, forwards: dict[str, list[PortForward]]) -> None:
    """Forward ports on user-mode NICs through QEMU slirp; `forwards` by NIC alias."""
    if not any(forwards.values()):
        return
    root = dom.node
    assert root is not None
    prefix = _qemu_prefix(root, create=True)
    cmdline = _child(root, f"{prefix}:commandline")
    for alias, fwds in forwards.items():
        for fwd in fwds:
            value = f"netdev.{_netdev_id(alias)}.hostfwd={hostfwd_rule(fwd)}"
            place(cmdline, Element(f"{prefix}:arg", {"value": "-set"}))
            place(cmdline, Element(f"{prefix}:arg", {"value": value}))
    caps = _child(root, f"{prefix}:capabilities")
    if not any(e.get("capability") == NETDEV_JSON_CAP for e in caps.elements(f"{prefix}:del")):
        place(caps, Element(f"{prefix}:del", {"capability": NETDEV_JSON_CAP}))


def add_passt_forwards(iface: Interface, forwards: list[PortForward]) -> None:
    """libvirt's own port forwarding: the passt backend with ``<portForward>``."""
    iface.backend_type = "passt"
    for fwd in forwards:
        pf = XMLPortForward(proto=fwd.proto, address=fwd.host_address)
        pf.ranges.append(PortForwardRange(start=fwd.host_port, to=fwd.guest_port))
        iface.port_forwards.append(pf)


def _slirp_forwards(root: Element) -> dict[str, list[PortForward]]:
    prefix = _qemu_prefix(root, create=False)
    if prefix is None:
        return {}
    found: dict[str, list[PortForward]] = {}
    for cmdline in root.elements(f"{prefix}:commandline"):
        args = [a.get("value") or "" for a in cmdline.elements(f"{prefix}:arg")]
        for flag, value in itertools.pairwise(args):
            m = _SET_VALUE.match(value) if flag == "-set" else None
            rule = _RULE.match(m.group("rule")) if m else None
            if m is None or rule is None:
                continue
            proto, addr, host_port, guest_port = rule.groups()
            fwd = PortForward(int(host_port), int(guest_port), proto, addr.strip("[]"))
            found.setdefault(m.group("id"), []).append(fwd)
    return found


def read_forwards(dom: Domain) -> list[tuple[int, PortForward]]:
    """Every port forward of the domain: (index among its interfaces, forward)."""
    root = dom.node
    assert root is not None
    slirp = _slirp_forwards(root)
    found: list[tuple[int, PortForward]] = []
    for i, iface in enumerate(dom.devices.interfaces):
        if iface.type != "user":
            continue
        for pf in iface.port_forwards:
            for r in pf.ranges:
                if r.start is None or r.exclude:
                    continue
                last = r.end if r.end is not None else r.start
                for port in range(r.start, last + 1):
                    to = (r.to + port - r.start) if r.to is not None else port
                    found.append((i, PortForward(port, to, pf.proto or "tcp", pf.address or "")))
        if iface.alias and _netdev_id(iface.alias) in slirp:
            found += [(i, fwd) for fwd in slirp[_netdev_id(iface.alias)]]
    return found
