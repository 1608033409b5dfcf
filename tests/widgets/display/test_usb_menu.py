"""The console's USB menu and the Qt side of SPICE USB redirection, over a fake
``UsbDeviceManager`` (a GObject with the same signals and calls, answering its ``*_async``
calls from GLib's main context as the real one does): which devices show and how, what a
click asks for, how a failure reaches the person, sharing a disc image, and the button
that shows only while the session offers USB redirection.

spice-client-glib's own manager is checked here too where no guest is needed (the
signals' argument types, a disc image that does not exist, a shared CD that has no channel
to go to); redirection into a real guest is tests/integration/test_spice_usb.py.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import ClassVar

import gi
import pytest
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

from app.core.errors import ErrorKind
from app.qt.display import spice_gi
from app.qt.display.spice_usb import UsbRedirection
from tests.widgets.display.consoles import connect
from widgets.display.console import FullscreenWindow
from widgets.display.usb_menu import NO_DEVICES, SHARE_IMAGE, UsbMenu

gi.require_version("GLib", "2.0")
from gi.repository import GLib, GObject  # noqa: E402

SPICE_ERROR = "spice-client-error-quark"


class FakeDevice:
    """A SpiceUsbDevice: a description in spice-client-glib's format."""

    def __init__(self, manufacturer: str, product: str, vid_pid: str, *, cd: bool = False):
        self.manufacturer, self.product, self.vid_pid, self.cd = manufacturer, product, vid_pid, cd

    def get_description(self, fmt: str | None) -> str:
        if fmt == "%s %s":
            return f"{self.manufacturer} {self.product}"
        return f"{self.manufacturer} {self.product} [{self.vid_pid}] at 1-2"


class FakeManager(GObject.Object):
    """spice-client-glib's UsbDeviceManager, as far as Nido uses it. Like the real one it
    reports the devices already plugged in through ``device-added`` from an idle callback
    (call :meth:`coldplug` for that), and refuses ``get_devices``, which Nido must never
    call (see app/qt/display/spice_usb.py)."""

    __gsignals__: ClassVar[dict] = {
        "device-added": (GObject.SignalFlags.RUN_FIRST, None, (object,)),
        "device-removed": (GObject.SignalFlags.RUN_FIRST, None, (object,)),
        "device-error": (GObject.SignalFlags.RUN_FIRST, None, (object, object)),
    }

    def __init__(self, devices: list[FakeDevice] = ()) -> None:
        super().__init__()
        self.devices = list(devices)
        self.connected: list[FakeDevice] = []
        #: device -> why it cannot be redirected
        self.refuse: dict[FakeDevice, str] = {}
        #: the next connect or disconnect fails with this message
        self.fail_next: str | None = None
        self.calls: list[tuple[str, str]] = []
        self.answer = True  # answer async calls (else they hang, like a busy guest)

    def get_devices(self) -> list[FakeDevice]:
        raise AssertionError("through PyGObject, get_devices() eats a reference per device")

    def coldplug(self) -> None:
        """Report the devices already there, as the real manager does after it starts."""
        for device in self.devices:
            self.emit("device-added", device)

    def is_device_connected(self, device: FakeDevice) -> bool:
        return device in self.connected

    def is_device_shared_cd(self, device: FakeDevice) -> bool:
        return device.cd

    def can_redirect_device(self, device: FakeDevice) -> bool:
        if device in self.refuse:
            raise GLib.Error(self.refuse[device], SPICE_ERROR, 0)
        return True

    def _async(self, kind: str, device: FakeDevice, callback, user_data) -> None:
        self.calls.append((kind, device.product))
        outcome = self.fail_next
        self.fail_next = None

        def answer() -> bool:
            if outcome is None:
                if kind == "connect":
                    self.connected.append(device)
                else:
                    self.connected.remove(device)
            callback(self, (kind, outcome), user_data)
            return GLib.SOURCE_REMOVE

        if self.answer:
            GLib.idle_add(answer)

    def connect_device_async(self, device, cancellable, callback, user_data) -> None:
        self._async("connect", device, callback, user_data)

    def disconnect_device_async(self, device, cancellable, callback, user_data) -> None:
        assert device in self.connected, "a GLib critical in the real library"
        self._async("disconnect", device, callback, user_data)

    def _finish(self, result) -> bool:
        _kind, outcome = result
        if outcome is not None:
            raise GLib.Error(outcome, SPICE_ERROR, 0)
        return True

    connect_device_finish = disconnect_device_finish = _finish

    def create_shared_cd_device(self, filename: str) -> bool:
        if not Path(filename).is_file():
            raise GLib.Error(f"can't create device with {filename}", SPICE_ERROR, 0)
        device = FakeDevice("", f"SPICE CD ({Path(filename).name})", "2b23:cdcd", cd=True)
        self.devices.append(device)
        GLib.idle_add(lambda: self.emit("device-added", device) and False)
        return True

    def plug(self, device: FakeDevice) -> None:
        self.devices.append(device)
        self.emit("device-added", device)

    def unplug(self, device: FakeDevice) -> None:
        self.devices.remove(device)
        if device in self.connected:
            self.connected.remove(device)
        self.emit("device-removed", device)


class FakeSession(QObject):
    """A display session as the menu sees it: ``usb`` and ``usbChanged`` (SPICE's)."""

    usbChanged = Signal()

    def __init__(self, usb: UsbRedirection | None = None) -> None:
        super().__init__()
        self.usb = usb

    def offer(self, usb: UsbRedirection | None) -> None:
        self.usb = usb
        self.usbChanged.emit()


STICK = FakeDevice("SanDisk", "Cruzer Blade", "0781:5567")
MOUSE = FakeDevice("Logitech", "USB Receiver", "046d:c52b")


@pytest.fixture
def manager():
    return FakeManager([STICK, MOUSE])


def redirection(manager: FakeManager) -> UsbRedirection:
    """A UsbRedirection over ``manager`` that has heard of its devices."""
    usb = UsbRedirection(manager, GObject)
    manager.coldplug()
    return usb


@pytest.fixture
def usb(qtbot, manager):
    redirection_ = redirection(manager)
    yield redirection_
    redirection_.close()


@pytest.fixture
def menu(qtbot, usb):
    m = UsbMenu()
    m.set_session(FakeSession(usb))
    yield m
    m.set_session(None)
    m.deleteLater()


def texts(menu: UsbMenu) -> list[str]:
    return [a.text() for a in menu.actions() if not a.isSeparator()]


def error_dialogs() -> list[QMessageBox]:
    return [
        w
        for w in QApplication.topLevelWidgets()
        if isinstance(w, QMessageBox) and w.objectName() == "errorDialog" and w.isVisible()
    ]


@pytest.fixture
def dialogs():
    yield error_dialogs
    for box in error_dialogs():
        box.close()


# -- what the menu lists ---------------------------------------------------------------------
def test_with_no_devices_the_menu_says_so_and_still_offers_a_disc_image(qtbot) -> None:
    m = UsbMenu()
    usb = redirection(FakeManager([]))
    m.set_session(FakeSession(usb))
    assert texts(m) == [NO_DEVICES, SHARE_IMAGE]
    empty = m.actions()[0]
    assert not empty.isEnabled() and not empty.isCheckable()
    assert m.share_action.isEnabled()
    usb.close()


def test_devices_are_listed_by_name_checked_while_in_the_guest(menu, manager) -> None:
    manager.connected.append(MOUSE)
    menu.fill()
    assert texts(menu) == ["SanDisk Cruzer Blade", "Logitech USB Receiver", SHARE_IMAGE]
    stick, mouse = (
        menu.device_actions["SanDisk Cruzer Blade"],
        menu.device_actions["Logitech USB Receiver"],
    )
    assert stick.isCheckable() and not stick.isChecked() and stick.isEnabled()
    assert mouse.isChecked() and mouse.isEnabled()
    assert stick.toolTip() == "SanDisk Cruzer Blade [0781:5567] at 1-2"


def test_a_device_that_cannot_go_to_the_guest_is_disabled_with_the_reason(menu, manager):
    manager.refuse[STICK] = "Some USB devices are blocked by host policy"
    menu.fill()
    stick = menu.device_actions["SanDisk Cruzer Blade"]
    assert not stick.isEnabled()
    assert stick.toolTip().startswith("Some USB devices are blocked by host policy.\n")
    assert menu.device_actions["Logitech USB Receiver"].isEnabled()


def test_a_plugged_or_unplugged_device_updates_the_open_menu(qtbot, menu, manager) -> None:
    menu.popup(menu.pos())
    qtbot.waitUntil(menu.isVisible, timeout=2000)
    card = FakeDevice("Generic", "Card Reader", "0bda:0158")
    manager.plug(card)
    qtbot.waitUntil(lambda: "Generic Card Reader" in texts(menu), timeout=2000)
    manager.unplug(card)
    qtbot.waitUntil(lambda: "Generic Card Reader" not in texts(menu), timeout=2000)
    menu.close()


def test_names_with_an_ampersand_are_not_taken_for_a_shortcut(qtbot) -> None:
    m = UsbMenu()
    usb = redirection(FakeManager([FakeDevice("Smith & Co", "Dongle", "1234:5678")]))
    m.set_session(FakeSession(usb))
    assert texts(m)[0] == "Smith && Co Dongle"
    usb.close()


# -- what a click does -----------------------------------------------------------------------
def test_checking_redirects_the_device_and_unchecking_gives_it_back(qtbot, menu, manager):
    menu.device_actions["SanDisk Cruzer Blade"].trigger()
    assert manager.calls == [("connect", "Cruzer Blade")]
    # While the guest takes it, the menu says so and a second click does nothing.
    menu.fill()
    busy = menu.device_actions["SanDisk Cruzer Blade"]
    assert busy.text() == "SanDisk Cruzer Blade — connecting…" and not busy.isEnabled()
    qtbot.waitUntil(lambda: STICK in manager.connected, timeout=2000)
    menu.fill()
    stick = menu.device_actions["SanDisk Cruzer Blade"]
    assert stick.isChecked() and stick.isEnabled() and stick.text() == "SanDisk Cruzer Blade"

    stick.trigger()
    assert manager.calls[-1] == ("disconnect", "Cruzer Blade")
    qtbot.waitUntil(lambda: STICK not in manager.connected, timeout=2000)
    menu.fill()
    assert not menu.device_actions["SanDisk Cruzer Blade"].isChecked()


def test_a_stale_menu_never_disconnects_what_is_not_connected(qtbot, menu, manager) -> None:
    manager.connected.append(STICK)
    menu.fill()
    manager.connected.remove(STICK)  # it went meanwhile (unplugged in the guest, say)
    with qtbot.waitSignal(menu.usb.changed, timeout=1000):
        menu.device_actions["SanDisk Cruzer Blade"].trigger()
    assert manager.calls == []  # the real library would log a critical and never answer


def test_a_failed_connect_reaches_the_person_and_the_log(qtbot, menu, manager, dialogs, caplog):
    manager.fail_next = "Could not claim interface 0 (configuration 1): Device or resource busy"
    with (
        caplog.at_level(logging.WARNING, logger="app.qt.display.spice_usb"),
        qtbot.waitSignal(menu.usb.failed, timeout=2000) as failed,
    ):
        menu.device_actions["SanDisk Cruzer Blade"].trigger()
    err = failed.args[0]
    assert err.summary == (
        "Nido could not connect SanDisk Cruzer Blade: Could not claim interface 0 "
        "(configuration 1): Device or resource busy."
    )
    assert SPICE_ERROR in err.details
    qtbot.waitUntil(lambda: len(dialogs()) == 1, timeout=2000)
    assert dialogs()[0].text() == err.summary
    assert err.summary in caplog.text
    menu.fill()
    stick = menu.device_actions["SanDisk Cruzer Blade"]
    assert not stick.isChecked() and stick.isEnabled()  # free to try again


def test_a_device_that_fails_in_the_guest_is_reported(qtbot, menu, manager, dialogs) -> None:
    manager.connected.append(STICK)
    error = GLib.Error("device disconnected (fatal IO error)", SPICE_ERROR, 0)
    with qtbot.waitSignal(menu.usb.failed, timeout=1000) as failed:
        manager.emit("device-error", STICK, error)
    assert failed.args[0].summary == (
        "SanDisk Cruzer Blade stopped working in the VM: device disconnected (fatal IO error)."
    )
    qtbot.waitUntil(lambda: len(dialogs()) == 1, timeout=2000)


def test_answers_after_the_session_closed_are_ignored(qtbot, menu, manager) -> None:
    usb = menu.usb
    changes: list[int] = []
    usb.changed.connect(lambda: changes.append(1))
    menu.device_actions["SanDisk Cruzer Blade"].trigger()
    changes.clear()
    usb.close()
    qtbot.waitUntil(lambda: STICK in manager.connected, timeout=2000)  # the answer came
    qtbot.wait(50)
    manager.plug(FakeDevice("Generic", "Card Reader", "0bda:0158"))
    assert changes == [] and usb.devices() == []


# -- sharing a disc image ------------------------------------------------------------------
def test_a_shared_disc_image_becomes_a_usb_cd_in_the_guest(
    qtbot, menu, manager, monkeypatch, tmp_path
) -> None:
    iso = tmp_path / "tools.iso"
    iso.write_bytes(b"\0" * 2048)
    asked: list[str] = []

    def choose(parent, caption, folder, filters):
        asked.append(filters)
        assert Path(folder).is_dir()  # never a Downloads folder that is not there
        return str(iso), filters.split(";;")[0]

    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(choose))
    menu.fill()  # as it is each time it opens
    menu.share_action.trigger()
    assert asked == ["Disc images (*.iso);;All files (*)"]
    qtbot.waitUntil(lambda: manager.calls == [("connect", "SPICE CD (tools.iso)")], timeout=2000)
    qtbot.waitUntil(lambda: len(manager.connected) == 1, timeout=2000)
    menu.fill()
    # Shared discs come after the host's own devices, checked while in the guest.
    assert texts(menu) == [
        "SanDisk Cruzer Blade",
        "Logitech USB Receiver",
        "SPICE CD (tools.iso)",
        SHARE_IMAGE,
    ]
    assert menu.device_actions["SPICE CD (tools.iso)"].isChecked()


def test_a_cancelled_file_dialog_shares_nothing(menu, manager, monkeypatch) -> None:
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a: ("", "")))
    menu.share_action.trigger()
    assert manager.devices == [STICK, MOUSE] and manager.calls == []


def test_a_disc_image_that_cannot_be_shared_is_reported(qtbot, menu, dialogs, tmp_path) -> None:
    with qtbot.waitSignal(menu.usb.failed, timeout=1000) as failed:
        menu.usb.share_image(tmp_path / "gone.iso")
    err = failed.args[0]
    assert err.summary.startswith("Nido could not share gone.iso as a USB drive: can't create")
    assert err.kind is ErrorKind.INVALID_INPUT
    qtbot.waitUntil(lambda: len(dialogs()) == 1, timeout=2000)


def test_a_shared_disc_with_no_free_channel_says_why(qtbot, usb, manager, tmp_path) -> None:
    manager.devices.clear()
    iso = tmp_path / "a.iso"
    iso.write_bytes(b"\0" * 2048)
    manager.refuse = _RefuseAll("There are no free USB channels")
    with qtbot.waitSignal(usb.failed, timeout=2000) as failed:
        usb.share_image(iso)
    assert failed.args[0].summary == (
        "Nido could not connect SPICE CD (a.iso): There are no free USB channels."
    )
    assert manager.calls == []


class _RefuseAll(dict):
    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason

    def __contains__(self, _device) -> bool:
        return True

    def __getitem__(self, _device) -> str:
        return self.reason


# -- the console's button ------------------------------------------------------------------
def test_the_console_shows_usb_devices_only_while_the_session_offers_them(
    qtbot, make_view, opener, manager
) -> None:
    view = make_view("web", opener)
    view.resize(900, 300)  # room for every tool button (else some go to the overflow)
    connect(qtbot, view, opener)
    qtbot.waitUntil(lambda: view.canvas.session is not None, timeout=3000)
    assert view.usb_menu.usb is None  # VNC: no USB redirection
    assert not view.usb_button.isVisible()

    spice = FakeSession()  # SPICE, before (or without) a usbredir channel
    view.usb_menu.set_session(spice)
    assert not view.usb_button.isVisible()
    usb = redirection(manager)
    spice.offer(usb)
    assert view.usb_tool.isVisible()
    qtbot.waitUntil(view.usb_button.isVisible, timeout=2000)  # the toolbar lays out later
    assert view.usb_button.text() == "USB Devices"
    assert view.usb_button.menu() is view.usb_menu
    assert "SanDisk Cruzer Blade" in texts(view.usb_menu)
    # Fullscreen: its toolbar offers the same menu, and follows the session too.
    view.set_fullscreen(True)
    window = view.area.window()
    assert isinstance(window, FullscreenWindow) and window.usb_tool.isVisible()
    assert window.usb_tool.defaultWidget().menu() is view.usb_menu
    spice.offer(None)  # the session closed
    assert not view.usb_tool.isVisible() and not window.usb_tool.isVisible()
    view.set_fullscreen(False)
    qtbot.waitUntil(lambda: not view.usb_button.isVisible(), timeout=2000)
    assert texts(view.usb_menu) == [NO_DEVICES, SHARE_IMAGE]
    assert not view.usb_menu.share_action.isEnabled()
    usb.close()


# -- spice-client-glib's own manager ---------------------------------------------------------
def test_the_managers_signals_carry_a_device_and_a_glib_error_by_the_typelib() -> None:
    """PyGObject converts by the typelib: these must not arrive as bare pointers (ints)."""
    _G, S = spice_gi.load()
    signals = {s.get_name(): s for s in S.UsbDeviceManager.__info__.get_signals()}
    args = {
        name: [a.get_type().get_tag_as_string() for a in signals[name].get_arguments()]
        for name in ("device-added", "device-removed", "device-error")
    }
    assert args == {
        "device-added": ["interface"],
        "device-removed": ["interface"],
        "device-error": ["interface", "error"],
    }


def test_a_real_shared_cd_with_no_guest_channel_is_listed_and_refused(
    qtbot, tmp_path, monkeypatch
) -> None:
    G, S = spice_gi.load()

    def get_devices(_manager):
        raise AssertionError("through PyGObject, get_devices() eats a reference per device")

    monkeypatch.setattr(S.UsbDeviceManager, "get_devices", get_devices)
    session = S.Session()
    usb = UsbRedirection(S.UsbDeviceManager.get(session), G)
    iso = tmp_path / "small.iso"
    iso.write_bytes(b"\0" * 32768)
    with qtbot.waitSignal(usb.failed, timeout=5000) as failed:
        usb.share_image(iso)
    assert failed.args[0].summary == (
        "Nido could not connect SPICE CD (small.iso): "
        "The connected VM is not configured for USB redirection."
    )
    (cd,) = [d for d in usb.devices() if d.shared_cd]
    assert cd.label == "SPICE CD (small.iso)"
    assert cd.description.startswith("SPICE CD (small.iso) [2b23:cdcd]")
    assert not cd.connected and not cd.busy
    for _ in range(5):  # as often as a menu opens: the device stays alive and the same
        assert [d.label for d in usb.devices()] == [cd.label]
    usb.close()
