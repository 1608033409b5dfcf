"""What the host behind a connection has, gathered once when the wizard opens.

`gather_host_facts(virconn)` blocks (a dozen libvirt calls; run it on a worker). The
result is plain, frozen data that `defaults()`, `validate()` and `build_xml()` read, so
unit tests build HostFacts by hand.

User-mode port forwarding, as found on Debian 12 (libvirt 9.0, QEMU 7.2):
- libvirt 9.0 refuses ``<backend type='passt'/>`` ("Invalid value for attribute 'type' in
  element 'backend': 'passt'"; libvirt issue #462), and the passt package is not installed
  by default.
- It accepts ``<portForward>`` on a slirp ``<interface type='user'>`` and silently ignores
  it: QEMU gets ``-netdev {"type":"user","id":"hostnet0"}`` and no port is opened.
- QEMU's ``-set netdev.ID.hostfwd=...`` cannot reach a netdev given as JSON, and libvirt
  passes netdevs as JSON to QEMU 7.2. Deleting libvirt's ``netdev.json`` capability for the
  domain (``<qemu:capabilities><qemu:del capability='netdev.json'/>``) makes libvirt fall
  back to ``-netdev user,id=ID``, which ``-set`` can extend. That works, and opens the
  ports (several forwards per NIC too). See `portfwd.py`.
So: PASST where the domain capabilities list the passt backend, or on libvirt 10 and
newer where passt is installed; SLIRP_HOSTFWD on libvirt 9.x (newer libvirt may retire
the ``netdev.json`` capability name, and refuses ``<qemu:del>`` of names it does not
know); NONE elsewhere.
"""

from __future__ import annotations

import contextlib
import enum
import os
import shutil
import urllib.parse
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import libvirt

from app.core import accel, uris
from app.core.newvm.domcaps import DomainCaps, parse_domain_caps
from app.core.newvm.pool import StorageTarget, find_target

__all__ = [
    "ConnMode",
    "HostFacts",
    "NetworkInfo",
    "PortForwardMethod",
    "allowed_bridges",
    "forwarding_method",
    "gather_host_facts",
]

MACHINES = ("q35", "pc")
SLIRP_HOSTFWD_VERSIONS = range(9_000_000, 10_000_000)  # libvirt 9.x knows 'netdev.json'
PASST_SINCE = 10_000_000
BRIDGE_CONF = "/etc/qemu/bridge.conf"


class ConnMode(enum.Enum):
    EMBEDDED = "embedded"
    SESSION = "session"
    SYSTEM = "system"
    TEST = "test"  # libvirt's test driver (unit tests)
    OTHER = "other"


class PortForwardMethod(enum.Enum):
    NONE = "none"
    PASST = "passt"  # <backend type='passt'/> with <portForward> (libvirt's own way)
    SLIRP_HOSTFWD = "slirp"  # QEMU slirp hostfwd through the qemu: XML namespace


@dataclass(frozen=True)
class NetworkInfo:
    name: str
    active: bool = True


@dataclass(frozen=True)
class HostFacts:
    """The host as the wizard sees it. Memory and sizes are bytes."""

    uri: str
    mode: ConnMode
    local: bool
    arch: str
    cpus: int
    physical_cores: int
    memory_bytes: int
    free_memory_bytes: int  # free plus reclaimable cache, right now
    accelerator: accel.Accelerator | None
    domain_caps: Mapping[str, DomainCaps] = field(default_factory=dict)  # 'q35', 'pc'
    storage: StorageTarget | None = None
    networks: tuple[NetworkInfo, ...] = ()
    bridges: tuple[str, ...] = ()
    user_networking: bool = False
    port_forwarding: PortForwardMethod = PortForwardMethod.NONE
    existing_names: frozenset[str] = frozenset()
    libvirt_version: int = 0
    #: Nido can show SPICE displays here (spice-client-glib loads). Not a libvirt fact:
    #: the wizard fills it in; without it, new VMs get VNC.
    spice_display: bool = False

    @property
    def domain_type(self) -> str:
        """'kvm' or 'qemu' (TCG); 'test' on the test driver."""
        if self.accelerator is not None:
            return self.accelerator.domain_type
        return "test" if self.mode is ConnMode.TEST else "qemu"

    def caps_for(self, machine: str) -> DomainCaps | None:
        """The domain capabilities for 'q35' or 'pc' (or a versioned name of either)."""
        if machine in self.domain_caps:
            return self.domain_caps[machine]
        for caps in self.domain_caps.values():
            if caps.machine == machine:
                return caps
        key = "q35" if "q35" in machine else "pc" if "i440fx" in machine else ""
        return self.domain_caps.get(key)

    def network(self, name: str) -> NetworkInfo | None:
        return next((n for n in self.networks if n.name == name), None)


def conn_mode(uri: str) -> ConnMode:
    if uris.is_embed_uri(uri):
        return ConnMode.EMBEDDED
    driver = uris.driver_of(uri)
    if driver == "test":
        return ConnMode.TEST
    if driver != "qemu":
        return ConnMode.OTHER
    path = urllib.parse.urlsplit(uri).path.rstrip("/")
    return {"/session": ConnMode.SESSION, "/system": ConnMode.SYSTEM}.get(path, ConnMode.OTHER)


def allowed_bridges(conf: str = BRIDGE_CONF) -> tuple[set[str], bool]:
    """The bridges qemu-bridge-helper lets unprivileged QEMU use: (names, all allowed)."""
    names: set[str] = set()
    seen: set[str] = set()

    def read(path: str) -> bool:
        if path in seen:
            return False
        seen.add(path)
        try:
            lines = Path(path).read_text(encoding="utf-8").splitlines()
        except OSError:
            return False
        for line in lines:
            words = line.split("#", 1)[0].split()
            if len(words) != 2:
                continue
            if words[0] == "allow":
                if words[1] == "all":
                    return True
                names.add(words[1])
            elif words[0] == "include" and read(words[1]):
                return True
        return False

    return names, read(conf)


def _local_bridges(sys_class_net: str = "/sys/class/net") -> list[str]:
    try:
        entries = sorted(os.listdir(sys_class_net))
    except OSError:
        return []
    return [n for n in entries if os.path.isdir(os.path.join(sys_class_net, n, "bridge"))]


def _remote_bridges(conn: libvirt.virConnect) -> list[str]:
    try:
        ifaces = conn.listAllInterfaces(libvirt.VIR_CONNECT_LIST_INTERFACES_ACTIVE)
    except libvirt.libvirtError:
        return []
    names = []
    for iface in ifaces:
        with contextlib.suppress(libvirt.libvirtError, ET.ParseError):
            if ET.fromstring(iface.XMLDesc(0)).get("type") == "bridge":
                names.append(iface.name())
    return sorted(names)


def _bridges(conn: libvirt.virConnect, mode: ConnMode, local: bool) -> tuple[str, ...]:
    found = _local_bridges() if local else _remote_bridges(conn)
    privileged = mode in (ConnMode.SYSTEM, ConnMode.TEST) or (
        mode is ConnMode.EMBEDDED and os.geteuid() == 0
    )
    if privileged:
        return tuple(found)
    if mode in (ConnMode.SESSION, ConnMode.EMBEDDED) and local:
        names, everything = allowed_bridges()
        return tuple(b for b in found if everything or b in names)
    return ()


def _networks(conn: libvirt.virConnect) -> tuple[NetworkInfo, ...]:
    try:
        nets = conn.listAllNetworks(0)
    except libvirt.libvirtError:
        return ()  # no network driver (embedded), or not allowed
    return tuple(sorted((NetworkInfo(n.name(), bool(n.isActive())) for n in nets), key=str))


def _memory(conn: libvirt.virConnect) -> tuple[int, int]:
    try:
        stats = conn.getMemoryStats(libvirt.VIR_NODE_MEMORY_STATS_ALL_CELLS, 0)
        total = stats["total"] * 1024
        available = (stats["free"] + stats.get("buffers", 0) + stats.get("cached", 0)) * 1024
        return total, min(available, total)
    except (libvirt.libvirtError, KeyError):
        info = conn.getInfo()
        total = int(info[1]) * 1024 * 1024
        try:
            return total, min(int(conn.getFreeMemory()), total)
        except libvirt.libvirtError:
            return total, total


def _domain_caps(conn: libvirt.virConnect, arch: str, virt_type: str) -> dict[str, DomainCaps]:
    found: dict[str, DomainCaps] = {}
    for machine in MACHINES:
        try:
            text = conn.getDomainCapabilities(None, arch, machine, virt_type, 0)
        except libvirt.libvirtError:
            continue
        with contextlib.suppress(ValueError, ET.ParseError):
            found[machine] = parse_domain_caps(text)
    return found


def forwarding_method(
    mode: ConnMode, caps: Mapping[str, DomainCaps], version: int, passt_binary: bool | None
) -> PortForwardMethod:
    """How user-mode NICs forward ports here; `passt_binary` is None for remote hosts."""
    if mode not in (ConnMode.EMBEDDED, ConnMode.SESSION, ConnMode.TEST):
        return PortForwardMethod.NONE  # no user-mode networking at all
    if any(c.passt for c in caps.values()):
        return PortForwardMethod.PASST
    if version >= PASST_SINCE and passt_binary is not False:
        return PortForwardMethod.PASST
    if mode is ConnMode.TEST or version in SLIRP_HOSTFWD_VERSIONS:
        return PortForwardMethod.SLIRP_HOSTFWD
    return PortForwardMethod.NONE


def _accelerator(conn: libvirt.virConnect, uri: str, mode: ConnMode) -> accel.Accelerator | None:
    if mode is ConnMode.TEST or uris.driver_of(uri) != "qemu":
        return None
    local = not uris.is_remote(uri)
    return accel.choose_accelerator(
        conn.getCapabilities(), local_pvm=accel.local_kvm_is_pvm() if local else None
    )


def gather_host_facts(
    conn: libvirt.virConnect, *, accelerator: accel.Accelerator | None = None
) -> HostFacts:
    """Everything the wizard needs to know about the host (blocking).

    Pass the connection's `accelerator` when it is known (Connection.accelerator), so it
    is not worked out again.
    """
    uri = conn.getURI()
    mode = conn_mode(uri)
    local = not uris.is_remote(uri)
    info = conn.getInfo()
    arch = str(info[0])
    cpus = int(info[2])
    physical = int(info[4]) * int(info[5]) * int(info[6]) or cpus
    total, free = _memory(conn)
    accelerator = accelerator or _accelerator(conn, uri, mode)
    virt_type = accelerator.domain_type if accelerator else "qemu"
    caps = _domain_caps(conn, arch, virt_type) if mode is not ConnMode.TEST else {}
    user_net = mode in (ConnMode.EMBEDDED, ConnMode.SESSION, ConnMode.TEST)
    version = int(conn.getLibVersion())
    passt_binary = None if not local else shutil.which("passt") is not None
    forwarding = forwarding_method(mode, caps, version, passt_binary)
    storage = find_target(
        conn,
        uri=uri,
        embedded=mode is ConnMode.EMBEDDED,
        session=mode is ConnMode.SESSION,
        local=local,
    )
    return HostFacts(
        uri=uri,
        mode=mode,
        local=local,
        arch=arch,
        cpus=cpus,
        physical_cores=min(physical, cpus),
        memory_bytes=total,
        free_memory_bytes=free,
        accelerator=accelerator,
        domain_caps=caps,
        storage=storage,
        networks=_networks(conn),
        bridges=_bridges(conn, mode, local),
        user_networking=user_net,
        port_forwarding=forwarding,
        existing_names=frozenset(d.name() for d in conn.listAllDomains(0)),
        libvirt_version=version,
    )
