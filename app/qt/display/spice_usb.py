"""USB redirection for a SPICE session, Qt-side: spice-client-glib's ``UsbDeviceManager``
behind plain records, Qt signals and :class:`~app.core.errors.NidoError`.

:class:`UsbRedirection` owns what a menu needs: the host's USB devices as
:class:`UsbDevice` records (connected, busy, or why they cannot go to the guest),
connecting and disconnecting one, sharing a disc image as an emulated USB CD
(spice-client-glib 0.39 and later), and every failure as a NidoError on :attr:`failed`.

- spice-client-glib lives on GLib's default main context, which Qt's event dispatcher
  iterates on the GUI thread (see :mod:`.spice_gi`): the manager's signals and the
  callbacks of its ``*_async`` calls arrive on the GUI thread, like everything here.
- The manager's signals carry, by the typelib (0.42): ``device-added`` and
  ``device-removed`` a ``SpiceUsbDevice`` (boxed: a ``SpiceClientGLib.UsbDevice``),
  ``device-error`` and ``auto-connect-failed`` a device and a ``GLib.Error``.
- Nothing is redirected by itself: ``auto-connect`` stays off, so a stick plugged into
  the host stays the host's until the person picks it. A disc image the person shares is
  the exception: sharing it means "give this to the guest", so it is connected as soon
  as the manager reports it.
- ``disconnect_device_async`` on a device that is not connected is a GLib critical and
  never calls back, so it is only called for a connected one.
- ``get_devices()`` is never called: through PyGObject 3.50 each call costs every device
  one reference for good (the result is a transfer-full ``GPtrArray`` whose free function
  unrefs the devices, and the Python wrappers own those references too), so a menu that
  asked on each opening would soon free devices the manager still lists, and crash
  (seen as a double free; valgrind shows the read after free). The list is kept from
  ``device-added`` and ``device-removed`` instead, whose wrappers take a reference of
  their own. The manager reports the devices already plugged in (libusb's enumeration)
  through ``device-added`` from an idle callback, so a :class:`UsbRedirection` made in the
  same turn as the manager hears of them all.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, Signal

from app.core.errors import ErrorKind, NidoError

log = logging.getLogger(__name__)

#: ``spice_usb_device_get_description`` formats: manufacturer and product, then the
#: library's own (manufacturer, product, [vid:pid], bus-address).
LABEL_FORMAT = "%s %s"


@dataclass(frozen=True, eq=False)
class UsbDevice:
    """One host USB device as a menu shows it. ``device`` is spice-client-glib's own."""

    label: str
    description: str
    connected: bool
    #: A connect or disconnect is under way.
    busy: bool
    #: Why it cannot be redirected now ("" if it can), in spice-client-glib's words.
    problem: str
    #: An emulated CD made from a disc image (:meth:`UsbRedirection.share_image`).
    shared_cd: bool
    device: Any = field(repr=False)


class UsbRedirection(QObject):
    """The host's USB devices for one SPICE session, and their redirection to the guest."""

    #: The device list or a device's state changed.
    changed = Signal()
    #: NidoError: a connect, disconnect or share failed, or a device stopped working.
    failed = Signal(object)

    def __init__(self, manager: Any, gobject: Any, parent: QObject | None = None) -> None:
        """``manager``: the session's ``SpiceClientGLib.UsbDeviceManager``; ``gobject``:
        the ``GObject`` module (its ``Object.connect``, which is not shadowed)."""
        super().__init__(parent)
        self._manager = manager
        #: spice-client-glib's devices, in the order they came (see the module's notes).
        self._devices: list[Any] = []
        self._busy: list[Any] = []
        self._shares = 0
        self._open = True
        self._handlers = [
            gobject.Object.connect(manager, "device-added", self._added),
            gobject.Object.connect(manager, "device-removed", self._removed),
            gobject.Object.connect(manager, "device-error", self._device_error),
        ]

    # -- reading -------------------------------------------------------------------------
    def devices(self) -> list[UsbDevice]:
        """The host's USB devices now, in spice-client-glib's order (empty once closed)."""
        if not self._open:
            return []
        return [self._record(d) for d in self._devices]

    def _record(self, device: Any) -> UsbDevice:
        manager = self._manager
        connected = bool(manager.is_device_connected(device))
        problem = ""
        if not connected:
            try:
                manager.can_redirect_device(device)
            except Exception as exc:  # GLib.Error: the reason, in the library's words
                problem = _message(exc)
        return UsbDevice(
            label=_label(device),
            description=" ".join((device.get_description(None) or "").split()),
            connected=connected,
            busy=any(d == device for d in self._busy),
            problem=problem,
            shared_cd=bool(manager.is_device_shared_cd(device)),
            device=device,
        )

    # -- commands ------------------------------------------------------------------------
    def set_connected(self, device: UsbDevice, connect: bool) -> None:
        """Redirect ``device`` to the guest, or give it back to the host; the outcome comes
        as :attr:`changed`, or :attr:`failed` with the reason."""
        gdev = device.device
        if not self._open or any(d == gdev for d in self._busy):
            return
        manager = self._manager
        if bool(manager.is_device_connected(gdev)) == connect:
            self.changed.emit()  # a stale menu: show the truth
            return
        self._busy.append(gdev)
        label = device.label
        if connect:
            log.info("USB: connecting %s to the guest", device.description)
            manager.connect_device_async(
                gdev, None, self._finisher(gdev, label, connect=True), None
            )
        else:
            log.info("USB: taking %s out of the guest", device.description)
            manager.disconnect_device_async(
                gdev, None, self._finisher(gdev, label, connect=False), None
            )
        self.changed.emit()

    def share_image(self, path: str | Path) -> None:
        """Make a USB CD of the disc image at ``path`` and connect it to the guest (it
        shows in :meth:`devices` too); a failure comes as :attr:`failed`."""
        if not self._open:
            return
        name = Path(path).name
        try:
            self._manager.create_shared_cd_device(str(path))
        except Exception as exc:  # GLib.Error
            summary = f"Nido could not share {name} as a USB drive: {_message(exc)}."
            self._fail(summary, _details(exc), ErrorKind.INVALID_INPUT)
            return
        log.info("USB: sharing %s as a USB CD", path)
        self._shares += 1

    def close(self) -> None:
        """Stop following the manager (the session is closing). Callbacks still to come
        are ignored."""
        if not self._open:
            return
        self._open = False
        for handler in self._handlers:
            self._manager.handler_disconnect(handler)
        self._handlers.clear()
        self._busy.clear()
        self._devices.clear()

    # -- spice-client-glib's side ---------------------------------------------------------
    def _finisher(self, gdev: Any, label: str, *, connect: bool):
        def finished(manager: Any, result: Any, _data: Any) -> None:
            if not shiboken6.isValid(self) or not self._open:
                return
            self._busy = [d for d in self._busy if d != gdev]
            try:
                if connect:
                    manager.connect_device_finish(result)
                else:
                    manager.disconnect_device_finish(result)
            except Exception as exc:  # GLib.Error
                verb = "connect" if connect else "disconnect"
                self._fail(f"Nido could not {verb} {label}: {_message(exc)}.", _details(exc))
            else:
                log.info("USB: %s %s", label, "connected" if connect else "disconnected")
            self.changed.emit()

        return finished

    def _added(self, manager: Any, device: Any) -> None:
        if any(d == device for d in self._devices):
            return
        self._devices.append(device)
        if self._shares and manager.is_device_shared_cd(device):
            self._shares -= 1
            record = self._record(device)
            if record.problem:
                summary = f"Nido could not connect {record.label}: {record.problem}."
                self._fail(summary, f"{record.description}: {record.problem}")
            else:
                self.set_connected(record, True)
        self.changed.emit()

    def _removed(self, _manager: Any, device: Any) -> None:
        self._devices = [d for d in self._devices if d != device]
        self._busy = [d for d in self._busy if d != device]
        self.changed.emit()

    def _device_error(self, _manager: Any, device: Any, error: Any) -> None:
        label = _label(device)
        self._fail(f"{label} stopped working in the VM: {_message(error)}.", _details(error))
        self.changed.emit()

    def _fail(self, summary: str, details: str, kind: ErrorKind = ErrorKind.INTERNAL) -> None:
        log.warning("%s\n%s", summary, details)
        self.failed.emit(NidoError(summary, details, kind))


def _label(device: Any) -> str:
    """What a person calls the device: its manufacturer and product, else the library's
    whole description."""
    label = " ".join((device.get_description(LABEL_FORMAT) or "").split())
    return label or device.get_description(None) or "USB device"


def _details(exc: Any) -> str:
    """A GLib.Error for the log and the error's details."""
    domain, code = getattr(exc, "domain", ""), getattr(exc, "code", "")
    return f"spice-client-glib: {getattr(exc, 'message', exc)} ({domain}, code {code})"


def _message(exc: Any) -> str:
    """A GLib.Error's message without its final full stop."""
    text = getattr(exc, "message", None) or str(exc)
    return text.strip().rstrip(".")
