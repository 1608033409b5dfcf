"""Reaching a guest's display: blocking libvirt calls, run on a connection's workers.

:func:`open_display` reads which display the domain has and, for VNC, asks libvirt for a
socket connected straight to QEMU's VNC server (``virDomainOpenGraphicsFD``): no TCP port,
no password (the libvirt connection already proves who we are), and it works wherever the
libvirt connection can pass a descriptor (local connections). Over SSH, TCP or TLS it
cannot, so the display is reported unavailable there (the VM window then shows its
screenshot preview) until a TCP or SSH-tunnel opener returns the same
:class:`DisplayEndpoint` for remote hosts.
"""

from __future__ import annotations

import functools
import os
import socket
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass

import libvirt

from app.core.errors import ErrorKind, NidoError
from app.core.workers import WorkerPool
from app.core.xml.domain import Domain

#: Protocols a display endpoint can speak.
VNC = "vnc"
SPICE = "spice"


class NoDisplay(NidoError):
    """The guest has no display Nido can show (none at all, or an unknown kind)."""

    def __init__(self, summary: str, details: str = "") -> None:
        super().__init__(summary, details, ErrorKind.UNSUPPORTED)


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


def graphics_types(xml: str) -> list[str]:
    """The ``<graphics type=...>`` of each graphics device, in order."""
    devices = Domain.from_xml(xml).devices
    return [g.type or "" for g in devices.graphics] if devices is not None else []


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


def open_display(virconn: libvirt.virConnect, uuid: str, index: int = 0) -> DisplayEndpoint:
    """The guest's display ``index``, ready for a session (blocking: run on a worker)."""
    uri = virconn.getURI()
    if not passes_descriptors(uri):
        # Never even try: the call could wait for a descriptor that cannot come, on the
        # connection's only call lane.
        raise NoDisplay(
            "Nido cannot show the live display of a VM on another computer yet.",
            f"libvirt hands over a display's socket only on a local connection, not on {uri}",
        )
    dom = virconn.lookupByUUIDString(uuid)
    types = graphics_types(dom.XMLDesc(0))
    if not types:
        raise NoDisplay(
            "This VM has no graphical display.", "The domain defines no <graphics> device."
        )
    if index >= len(types):
        raise NoDisplay(f"This VM has no display number {index + 1}.")
    kind = types[index]
    if kind == SPICE:
        return DisplayEndpoint(
            SPICE, None, index, open_fd=functools.partial(open_graphics_fd, dom, index)
        )
    if kind != VNC:
        raise NoDisplay(
            f"This VM's display is of type “{kind}”, which Nido cannot show.",
            f"<graphics type='{kind}'> at index {index}",
        )
    return DisplayEndpoint(VNC, open_graphics_socket(dom, index), index)
