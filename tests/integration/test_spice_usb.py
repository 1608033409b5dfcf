"""SPICE USB redirection against real QEMU: a disc image shared from the VM window's
"USB Devices" menu reaches the guest as a USB CD, and leaves it when unchecked.

The guest has a qemu-xhci controller and two SPICE USB redirection ports
(``domain_xml(usb_redirect=True)``); its init loads the USB, USB storage and CD-ROM drivers
and reports on the serial port every USB device and SCSI disc that comes or goes
(:func:`tests.guest.reports.usb_events`). This machine has no USB hardware (no
/dev/bus/usb), so the device is spice-client-glib's emulated CD (0.39 and later), made from
a small ISO and redirected through the same usbredir channel a real stick would take.

The VM window is opened as a person would, on "This computer". The test clicks its way
through the menu (the file dialog answered by the test): the guest must see the CD's USB
device (2b23:cdcd, Red Hat's vendor ID that spice-gtk uses) and a SCSI CD-ROM of the
ISO's size; unchecking the device in the menu must take both away again. Nothing may
reach the error presenter, and spice-client-glib must not complain.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QFileDialog, QMenu

from tests.guest import accelerator, domain_xml, linux_guest
from tests.guest.domain import USB_REDIRECT_PORTS
from tests.guest.reports import UsbEvent, usb_events
from tests.integration.guest_window import start_in_vm_window
from widgets.display.usb_menu import NO_DEVICES

pytestmark = pytest.mark.integration

TIMEOUT_MS = 60_000
#: spice-gtk's emulated CD (usb-device-cd.c): Red Hat's vendor ID, "CDCD".
CD_ID = "2b23:cdcd"


def events(serial: Path) -> list[UsbEvent]:
    try:
        return usb_events(serial.read_bytes())
    except FileNotFoundError:
        return []


def make_iso(folder: Path) -> Path:
    """A small ISO 9660 image (a few hundred KiB) with one file on it."""
    content = folder / "content"
    content.mkdir()
    (content / "README.TXT").write_text("Shared from the Nido test over SPICE USB redirection.\n")
    iso = folder / "nido-usb-test.iso"
    subprocess.run(
        ["xorriso", "-as", "mkisofs", "-quiet", "-V", "NIDO_USB", "-o", str(iso), str(content)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return iso


def click_action(qtbot, menu: QMenu, text: str) -> None:
    """Open ``menu`` below its button as a click would, and click the item ``text``."""
    action = next(a for a in menu.actions() if a.text() == text)
    qtbot.mouseClick(menu, Qt.MouseButton.LeftButton, pos=menu.actionGeometry(action).center())


def open_menu(qtbot, view) -> QMenu:
    menu = view.usb_menu
    button = view.usb_button
    menu.popup(button.mapToGlobal(QPoint(0, button.height())))  # fills it (aboutToShow)
    qtbot.waitUntil(menu.isVisible, timeout=5000)
    return menu


@pytest.mark.qt_log_ignore("This plugin does not support grabbing the (keyboard|mouse)")
def test_a_disc_image_shared_from_the_menu_reaches_the_guest_as_a_usb_cd(
    this_computer, qtbot, tmp_path: Path, monkeypatch, capfd
) -> None:
    iso = make_iso(tmp_path)
    name = "nido-it-spice-usb"
    serial = tmp_path / "serial.log"
    # USB storage reads on top of the usual guest.
    xml = domain_xml(
        name,
        linux_guest(),
        accelerator(),
        serial_log=serial,
        graphics="spice",
        usb_redirect=True,
        memory_mib=128,
    )
    vmw, _dom = start_in_vm_window(this_computer, qtbot, xml, serial)
    view = vmw.display
    try:
        session = view.canvas.session
        assert session.protocol == "spice"
        # The guest offers USB redirection: the console shows the menu's button.
        qtbot.waitUntil(lambda: view.usb_menu.available, timeout=10_000)
        qtbot.waitUntil(view.usb_button.isVisible, timeout=5000)
        manager = session.usb_device_manager()
        qtbot.waitUntil(lambda: manager.props.free_channels == USB_REDIRECT_PORTS, timeout=10_000)

        # The menu: no USB devices on this machine, and the share item.
        menu = open_menu(qtbot, view)
        assert NO_DEVICES in [a.text() for a in menu.actions()]
        monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a: (str(iso), "")))
        shared = time.monotonic()
        click_action(qtbot, menu, menu.share_action.text())
        qtbot.waitUntil(lambda: not menu.isVisible(), timeout=5000)

        # The guest sees the CD's USB device, then a CD-ROM of the ISO's size on it.
        sectors = str(iso.stat().st_size // 512)
        qtbot.waitUntil(
            lambda: any(e.action == "add" and e.ident == CD_ID for e in events(serial)),
            timeout=30_000,
        )
        seen_usb = time.monotonic() - shared
        qtbot.waitUntil(
            lambda: UsbEvent("add", "block", "sr0", sectors) in events(serial), timeout=30_000
        )
        seen_disc = time.monotonic() - shared
        (added,) = [e for e in events(serial) if e.ident == CD_ID]
        assert added.text == "Spice CD", added  # the product string the guest read
        assert manager.props.free_channels == USB_REDIRECT_PORTS - 1

        # The menu shows it checked; unchecking it takes it out of the guest.
        menu = open_menu(qtbot, view)
        label = f"SPICE CD ({iso.name})"
        cd = view.usb_menu.device_actions[label]
        assert cd.isChecked() and cd.isEnabled()
        assert NO_DEVICES in [a.text() for a in menu.actions()]  # a shared disc is no host device
        unplugged = time.monotonic()
        click_action(qtbot, menu, label)
        qtbot.waitUntil(
            lambda: UsbEvent("remove", CD_ID, added.where) in events(serial), timeout=30_000
        )
        gone = time.monotonic() - unplugged
        qtbot.waitUntil(lambda: UsbEvent("remove", "block", "sr0") in events(serial), timeout=5000)
        qtbot.waitUntil(lambda: manager.props.free_channels == USB_REDIRECT_PORTS, timeout=5000)
        # spice-client-glib drops an emulated CD once it leaves the guest: the menu is
        # back to what it was.
        menu = open_menu(qtbot, view)
        assert label not in view.usb_menu.device_actions
        assert [a.text() for a in menu.actions() if not a.isSeparator()] == [
            NO_DEVICES,
            menu.share_action.text(),
        ]
        menu.close()
        assert "GSpice-CRITICAL" not in capfd.readouterr().err
        with capfd.disabled():
            print(f"\nshare -> the guest sees USB {CD_ID}: {seen_usb:.2f} s,", end=" ")
            print(f"its CD-ROM: {seen_disc:.2f} s")
            print(f"uncheck -> the guest sees it gone: {gone:.2f} s")
            print("the guest's USB report:", events(serial))
    finally:
        vmw.close()
