"""Reaching a guest's display: blocking libvirt calls, run on a connection's workers.

:func:`open_display` reads which display the domain has and, for VNC, asks libvirt for a
socket connected straight to QEMU's VNC server (``virDomainOpenGraphicsFD``): no TCP port,
no password (the libvirt connection already proves who we are), and it works wherever the
libvirt connection can pass a descriptor (local connections).

Over SSH, TCP or TLS a descriptor cannot cross, so the opener reads where the display
server listens in the guest's live XML and reaches it itself (:mod:`.route` decides how):
by TCP, or through an ``ssh -W`` tunnel (:mod:`.tunnel`) for ``qemu+ssh://`` connections.
The session gets an ordinary socket either way; a tunnel's socket ends its ssh process
when it closes. Such a display may ask for its password (nothing skips it there). The
TCP connect and the SSH login (bounded by :data:`~app.qt.display.tunnel.CONNECT_TIMEOUT_S`)
are left to the caller, as the endpoint's ``connect`` (VNC) or ``open_fd`` (SPICE), to run
on :func:`network_pool`: on a daemon connection, whose calls go down one lane, a login
of a second or two would otherwise hold every other call to that host.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass

import libvirt

from app.core.errors import NidoError
from app.core.workers import WorkerPool
from app.core.xml import Graphics
from app.core.xml.domain import Domain
from app.qt.display import tunnel
from app.qt.display.route import SSH, NoDisplay, Route, plan_route

#: Protocols a display endpoint can speak.
VNC = "vnc"
SPICE = "spice"


@dataclass(frozen=True)
class DisplayEndpoint:
    """Where a session starts. For VNC, ``sock`` is connected and ready to read. For
    SPICE it is None: a SPICE session opens one descriptor per channel through
    ``open_fd`` (run on a worker, like this module's functions)."""

    protocol: str
    sock: socket.socket | None = None
    #: The graphics device's index in the domain (for SPICE's per-channel descriptors).
    index: int = 0
    #: SPICE: a blocking call that returns a fresh descriptor for one more channel.
    open_fd: Callable[[], int] | None = None
    #: Where ``open_fd`` runs: the connection's workers (the controller fills it in).
    workers: WorkerPool | None = None
    #: Reached over the network (TCP or an SSH tunnel), not libvirt's local descriptor:
    #: bandwidth matters, and the server may ask for its password.
    remote: bool = False
    #: After the session closed on an error: why its connection ended, if the route
    #: knows better than the protocol (ssh's own words), else None. Blocking, briefly.
    explain: Callable[[], NidoError | None] | None = None
    #: VNC over the network: the blocking connect still to do (TCP, or an SSH login and
    #: forward, which can take seconds), run on :func:`network_pool` so that it does not
    #: hold the connection's only call lane. ``sock`` is None until it has run.
    connect: Callable[[], socket.socket] | None = None


_network_lock = threading.Lock()
_network: WorkerPool | None = None


def network_pool() -> WorkerPool:
    """Where displays on other computers are reached: TCP connects and SSH logins, which
    need no libvirt connection and may wait for seconds."""
    global _network
    with _network_lock:
        if _network is None:
            _network = WorkerPool("display-net", size=4)
        return _network


def connected(endpoint: DisplayEndpoint) -> DisplayEndpoint:
    """``endpoint`` with its deferred connect done (blocking: run on :func:`network_pool`)."""
    if endpoint.sock is not None or endpoint.connect is None:
        return endpoint
    return dataclasses.replace(endpoint, sock=endpoint.connect(), connect=None)


def graphics_devices(xml: str) -> list[Graphics]:
    """The domain's ``<graphics>`` devices, in order."""
    devices = Domain.from_xml(xml).devices
    return list(devices.graphics) if devices is not None else []


def graphics_types(xml: str) -> list[str]:
    """The ``<graphics type=...>`` of each graphics device, in order."""
    return [g.type or "" for g in graphics_devices(xml)]


def open_graphics_fd(dom: libvirt.virDomain, index: int = 0) -> int:
    """A descriptor connected to the guest's graphics server ``index`` (blocking). The
    libvirt connection already proves who we are, so the display's password is skipped."""
    return dom.openGraphicsFD(index, libvirt.VIR_DOMAIN_OPEN_GRAPHICS_SKIPAUTH)


def open_graphics_socket(dom: libvirt.virDomain, index: int = 0) -> socket.socket:
    """A socket connected to the guest's graphics server ``index`` (blocking)."""
    fd = open_graphics_fd(dom, index)
    try:
        return socket.socket(fileno=fd)
    except OSError:
        os.close(fd)
        raise


#: Transports over which libvirt cannot hand over a descriptor (only a local UNIX socket
#: to the daemon can); ``qemu+ssh`` ends in a helper process on the far side.
_NO_FD_TRANSPORTS = frozenset({"ssh", "libssh", "libssh2", "tcp", "tls", "ext"})


def passes_descriptors(uri: str) -> bool:
    """Whether ``virDomainOpenGraphicsFD`` can work over a connection to ``uri``: a local
    driver, or a daemon reached over a local UNIX socket."""
    parsed = urllib.parse.urlsplit(uri)
    transport = parsed.scheme.partition("+")[2]
    if transport in _NO_FD_TRANSPORTS:
        return False
    return not parsed.hostname or transport == "unix"


def open_display(
    virconn: libvirt.virConnect, uuid: str, index: int = 0, *, uri: str | None = None
) -> DisplayEndpoint:
    """The guest's display ``index``, ready for a session (blocking: run on a worker).

    ``uri`` is where the connection leads, read from ``virconn`` when not given (tests give
    it to treat a local guest as a remote one)."""
    if uri is None:
        uri = virconn.getURI()
    local = passes_descriptors(uri)
    dom = virconn.lookupByUUIDString(uuid)
    devices = graphics_devices(dom.XMLDesc(0))
    if not devices:
        raise NoDisplay(
            "This VM has no graphical display.", "The domain defines no <graphics> device."
        )
    if index >= len(devices):
        raise NoDisplay(f"This VM has no display number {index + 1}.")
    graphics = devices[index]
    kind = graphics.type or ""
    if kind not in (VNC, SPICE):
        raise NoDisplay(
            f"This VM's display is of type “{kind}”, which Nido cannot show.",
            f"<graphics type='{kind}'> at index {index}",
        )
    if not local:
        # Never openGraphicsFD here: the call could wait for a descriptor that cannot
        # come, on the connection's only call lane.
        return _open_remote(plan_route(uri, graphics), kind, index)
    if kind == SPICE:
        return DisplayEndpoint(
            SPICE, None, index, open_fd=functools.partial(open_graphics_fd, dom, index)
        )
    return DisplayEndpoint(VNC, open_graphics_socket(dom, index), index)


def _open_remote(route: Route, kind: str, index: int) -> DisplayEndpoint:
    """The endpoint of a display on another computer, not connected yet: its descriptors
    are opened on :func:`network_pool`, never on the connection's lane."""
    if kind == SPICE:
        if route.kind == SSH:
            channels = SshChannels(route)
            open_fd, explain = channels.open_fd, channels.explain
        else:
            open_fd, explain = functools.partial(open_route_fd, route), None
        return DisplayEndpoint(
            SPICE,
            None,
            index,
            open_fd=open_fd,
            workers=network_pool(),
            remote=True,
            explain=explain,
        )
    return DisplayEndpoint(
        VNC, None, index, remote=True, connect=functools.partial(open_route, route)
    )


class SshChannels:
    """The SSH tunnels of one SPICE session, one per channel. A SPICE client speaks
    first, so a tunnel cannot be proven before the channel has it; when the session then
    closes on an error, :meth:`explain` reads why from the ssh that ended by itself."""

    def __init__(self, route: Route) -> None:
        assert route.ssh is not None
        self.route = route
        self.host = route.ssh.host
        self._tunnels: list[tunnel.SshTunnel] = []
        self._lock = threading.Lock()

    def open_fd(self) -> int:
        """A descriptor for one more channel (blocking: starts ssh). The channel owns it;
        its ssh ends when the channel closes it."""
        sock, ssh = tunnel.start_tunnel(self.route.argv, watch_peer=True)
        with self._lock:
            self._tunnels.append(ssh)
        return sock.detach()

    def explain(self, wait: float = tunnel.EXIT_GRACE_S) -> NidoError | None:
        """ssh's reason, if one of the tunnels ended by itself (waiting up to ``wait``
        seconds for it to be reaped), else None."""
        deadline = time.monotonic() + wait
        while True:
            with self._lock:
                tunnels = list(self._tunnels)
            for ssh in tunnels:
                err = ssh.failure(self.host)
                if err is not None:
                    return err
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.05)


def open_route(route: Route) -> socket.socket:
    """A socket to the display server along ``route`` (blocking). Over SSH it returns once
    the server has spoken, which VNC servers do first."""
    if route.kind == SSH:
        assert route.ssh is not None
        return tunnel.open_ssh_tunnel(route.argv, route.ssh.host)
    return tunnel.connect_tcp(route.host, route.port)


def open_route_fd(route: Route) -> int:
    """A descriptor for one more SPICE channel along a TCP ``route`` (blocking). The
    channel owns it. (SSH routes go through :class:`SshChannels`.)"""
    return tunnel.connect_tcp(route.host, route.port).detach()
