"""The console's "USB Devices" menu: the host's USB devices, each checked while it is
redirected to the guest, and "Share a Disc Image as a USB Drive…".

:class:`UsbMenu` follows the console's display session. It offers itself
(:attr:`UsbMenu.availableChanged`) only while the session has USB redirection, that is a
SPICE session whose guest has USB redirection channels
(:attr:`app.qt.display.spice.SpiceSession.usb`). The menu is filled each time it opens and
again when the device list changes while it is open. A device that cannot go to the guest
is shown disabled with spice-client-glib's reason as its tooltip; failures reach the
person through the one error presenter (and the log, from :mod:`app.qt.display.spice_usb`).
"""

from __future__ import annotations

import logging
from typing import Any

import shiboken6
from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QMenu, QWidget

from app.core.errors import NidoError
from app.qt.display.spice_usb import UsbDevice, UsbRedirection
from widgets.error_dialog import show_error
from widgets.folders import Folders, Purpose

log = logging.getLogger(__name__)

TITLE = "USB Devices"
NO_DEVICES = "No USB devices on this computer"
SHARE_IMAGE = "Share a Disc Image as a USB Drive…"
IMAGE_FILTER = "Disc images (*.iso);;All files (*)"


class UsbMenu(QMenu):
    """USB redirection for the console's current session."""

    #: bool: the session offers USB redirection (show the menu's button only then).
    availableChanged = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(TITLE, parent)
        self.setObjectName("usbMenu")
        self.setToolTipsVisible(True)
        self._session: Any = None
        self._usb: UsbRedirection | None = None
        #: Where the disc-image dialog starts (the console gives its remembered folders).
        self.folders = Folders()
        #: The device actions of the last fill, by label, for tests and the screenshot.
        self.device_actions: dict[str, QAction] = {}
        self.share_action = QAction(SHARE_IMAGE, self)
        self.share_action.setObjectName("usbShareImage")
        self.share_action.triggered.connect(self.ask_share_image)
        # The share action stays in the menu for good, and the devices go before it: a
        # QMenu cuts every connection from an action to itself when the action leaves it,
        # and the one above is such a connection.
        self.addSeparator()
        self.addAction(self.share_action)
        # A device's state can change inside a click on its own action: refill later,
        # never while that action is still emitting.
        self._refill = QTimer(self)
        self._refill.setSingleShot(True)
        self._refill.setInterval(0)
        self._refill.timeout.connect(self._refill_if_open)
        self.aboutToShow.connect(self.fill)
        self.fill()

    @property
    def usb(self) -> UsbRedirection | None:
        return self._usb

    @property
    def available(self) -> bool:
        return self._usb is not None

    # -- following the session -----------------------------------------------------------
    def set_session(self, session: Any) -> None:
        """Follow ``session`` (any display session, or None)."""
        old = self._session
        if old is not None and shiboken6.isValid(old) and hasattr(old, "usbChanged"):
            old.usbChanged.disconnect(self._follow)
        self._session = session
        if session is not None and hasattr(session, "usbChanged"):
            session.usbChanged.connect(self._follow)
        self._follow()

    def _follow(self) -> None:
        usb = getattr(self._session, "usb", None)
        if usb is self._usb:
            return
        old, self._usb = self._usb, usb
        if old is not None and shiboken6.isValid(old):
            old.changed.disconnect(self._refill.start)
            old.failed.disconnect(self._failed)
        if usb is not None:
            usb.changed.connect(self._refill.start)
            usb.failed.connect(self._failed)
        if usb is None and self.isVisible():
            self.close()
        self.fill()
        self.availableChanged.emit(usb is not None)

    # -- the menu ------------------------------------------------------------------------
    def fill(self) -> None:
        """The host's devices now, then "Share a Disc Image as a USB Drive…"."""
        share = self.share_action
        for action in self.actions()[:-2]:  # all but the separator and the share action
            self.removeAction(action)
            action.deleteLater()
        self.device_actions = {}
        devices = self._usb.devices() if self._usb is not None else []
        host = [d for d in devices if not d.shared_cd]
        shared = [d for d in devices if d.shared_cd]
        if not host:
            empty = QAction(NO_DEVICES, self)
            empty.setObjectName("usbNoDevices")
            empty.setEnabled(False)
            self.insertAction(self.actions()[-2], empty)
        for device in host + shared:
            if shared and device is shared[0]:
                self.insertSeparator(self.actions()[-2])
            self._add_device(device)
        share.setEnabled(self._usb is not None)

    def _add_device(self, device: UsbDevice) -> None:
        text = device.label.replace("&", "&&")
        if device.busy:
            text += " — disconnecting…" if device.connected else " — connecting…"
        action = QAction(text, self)
        self.insertAction(self.actions()[-2], action)
        action.setCheckable(True)
        action.setChecked(device.connected)
        action.setEnabled(not device.busy and (device.connected or not device.problem))
        tip = device.description
        if device.problem and not device.connected:
            tip = f"{device.problem}.\n{tip}"
        action.setToolTip(tip)
        action.toggled.connect(lambda on, d=device: self._toggle(d, on))
        self.device_actions[device.label] = action

    def _toggle(self, device: UsbDevice, on: bool) -> None:
        if self._usb is not None:
            self._usb.set_connected(device, on)

    def _refill_if_open(self) -> None:
        if self.isVisible():
            self.fill()

    # -- sharing a disc image ----------------------------------------------------------
    def ask_share_image(self) -> None:
        """Ask for a disc image, then share it with the guest as a USB CD."""
        if self._usb is None:
            return
        folder = self.folders.start(Purpose.DISC_IMAGES)
        path, _ = QFileDialog.getOpenFileName(
            self.parentWidget(), SHARE_IMAGE.rstrip("…"), folder, IMAGE_FILTER
        )
        if not path:
            return
        self.folders.used(Purpose.DISC_IMAGES, path)
        if self._usb is not None:  # the session may have ended while the dialog was open
            self._usb.share_image(path)

    def _failed(self, err: NidoError) -> None:
        show_error(self.parentWidget(), err)
