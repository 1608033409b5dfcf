"""What the SPICE session needs from outside Python: spice-client-glib through GObject
introspection, raw memory that the library owns, and descriptors from libvirt.

- :func:`load` imports ``SpiceClientGLib`` 2.0 on first use, so Nido starts (and shows VNC)
  on a machine without PyGObject or ``gir1.2-spiceclientglib-2.0``; it raises
  :class:`SpiceUnavailable`, which says so and offers VNC instead.
- :func:`view_at` reads memory that a signal handed over as a bare ``gpointer`` (the
  primary surface, a cursor shape). Signals whose arguments the typelib annotates as
  arrays (the clipboard's types and data) arrive as Python lists and bytes instead.
- :func:`open_channel_fd` is the blocking libvirt call behind each channel's ``open-fd``
  request; :func:`libvirt_fd_request` runs it on a connection's workers.

spice-client-glib runs on GLib's default main context. Qt's event dispatcher on Linux is
GLib-based (``QPAEventDispatcherGlib``, unless ``QT_NO_GLIB`` is set) and iterates that
same context on the GUI thread, so every SPICE channel and signal lives on the GUI thread
with no second main loop (checked in tests/widgets/display/test_spice_session.py).
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from types import ModuleType

import libvirt

from app.core.errors import ErrorKind, NidoError
from app.core.workers import WorkerPool
from app.qt.display.opener import open_graphics_fd
from app.qt.jobs import Op

#: Debian's package for the typelib, and the Python side.
PACKAGES = "gir1.2-spiceclientglib-2.0 and python3-gi (PyGObject)"


class SpiceUnavailable(NidoError):
    """SPICE cannot be shown on this machine: PyGObject or spice-client-glib is missing."""

    def __init__(self, details: str = "") -> None:
        super().__init__(
            "This VM's display uses SPICE, and SPICE support is not installed on this "
            "computer. Install it, or switch the VM's display to VNC, which Nido always "
            "shows.",
            f"Install {PACKAGES}. {details}".strip(),
            ErrorKind.UNSUPPORTED,
        )


_modules: tuple[ModuleType, ModuleType] | None = None


def load() -> tuple[ModuleType, ModuleType]:
    """``(GObject, SpiceClientGLib)``, imported once; :class:`SpiceUnavailable` if absent."""
    global _modules
    if _modules is None:
        try:
            import gi

            gi.require_version("SpiceClientGLib", "2.0")
            from gi.repository import GObject, SpiceClientGLib
        except (ImportError, ValueError) as e:
            raise SpiceUnavailable(f"{type(e).__name__}: {e}") from e
        _modules = (GObject, SpiceClientGLib)
    return _modules


def available() -> bool:
    try:
        load()
    except SpiceUnavailable:
        return False
    return True


def view_at(address: int, size: int) -> ctypes.Array:
    """A writable view of ``size`` bytes at ``address`` (no copy; the owner keeps it alive)."""
    if not address or size <= 0:
        raise ValueError("no memory to view")
    return (ctypes.c_ubyte * size).from_address(address)


# -- descriptors from libvirt ----------------------------------------------------------------
#: Asks for one fresh descriptor to the guest's SPICE server and answers later, on the GUI
#: thread: ``request(on_fd, on_error)``. ``on_fd`` owns the descriptor it receives.
FdRequest = Callable[[Callable[[int], None], Callable[[NidoError], None]], None]


def open_channel_fd(virconn: libvirt.virConnect, uuid: str, index: int = 0) -> int:
    """A descriptor connected to graphics device ``index`` of the guest (blocking)."""
    return open_graphics_fd(virconn.lookupByUUIDString(uuid), index)


def fd_request_on(workers: WorkerPool, open_fd: Callable[[], int]) -> FdRequest:
    """An :data:`FdRequest` that runs the blocking ``open_fd`` on ``workers`` and answers
    on the GUI thread (the session closes a descriptor that comes after it closed)."""

    def request(on_fd: Callable[[int], None], on_error: Callable[[NidoError], None]) -> None:
        Op(open_fd, what="open the SPICE display").success(on_fd).failure(on_error).run_on(workers)

    return request


def libvirt_fd_request(
    workers: WorkerPool, virconn: libvirt.virConnect, uuid: str, index: int = 0
) -> FdRequest:
    """Descriptors from ``virDomainOpenGraphicsFD``, opened on the connection's workers."""
    return fd_request_on(workers, lambda: open_channel_fd(virconn, uuid, index))
