"""Quitting Nido while guests run on the embedded connection: it asks, and does what the
person chose."""

from __future__ import annotations

from pathlib import Path

import libvirt
import pytest
from PySide6.QtWidgets import QProgressBar, QProgressDialog

from app.core import uris
from app.core.connection import ConnectionSpec, State
from app.core.settings import Settings
from app.core.vmstate import Status
from tests.guest import (
    GRUB_READY_MARKER,
    READY_MARKER,
    accelerator,
    cdrom_domain_xml,
    domain_xml,
    linux_guest,
    rescue_iso,
)
from tests.guest.libvirt_env import embedded_connection, wait_for_state, wait_for_text
from tests.support.local import connection_for_tests
from tests.widgets.conftest import answer_next_dialog, button_with_text
from widgets import quit_flow
from widgets.application import Nido

pytestmark = pytest.mark.integration


def start_nido_with(qtbot, xml: str, serial: Path, ready: str) -> Nido:
    """Nido on "This computer", with the guest of ``xml`` running and listed."""
    app = Nido(
        Settings(connections=[ConnectionSpec(kind=uris.Kind.LOCAL)]),
        save_settings=False,
        connection_factory=connection_for_tests,
    )
    app.start()
    conn = app.hub.connections()[0]
    qtbot.waitUntil(lambda: conn.state is State.CONNECTED, timeout=90_000)
    dom = conn.virconn.defineXML(xml)
    dom.create()
    wait_for_text(serial, ready, 90)
    qtbot.waitUntil(
        lambda: (
            (vm := app.model.find_vm_by_name(dom.name())) is not None
            and vm.status is Status.RUNNING
        ),
        timeout=10_000,
    )
    return app


def stop_nido(app: Nido) -> None:
    app.hub.shutdown()
    app.window.hide()  # not closed: closing the main window asks to quit
    app.window.deleteLater()
    with embedded_connection() as c:  # removes the guest, whatever state it is in
        assert c.listAllDomains() is not None


@pytest.fixture
def nido(qtbot, failures, tmp_path):
    serial = tmp_path / "serial.log"
    xml = domain_xml("nido-it-quit", linux_guest(), accelerator(), serial_log=serial)
    app = start_nido_with(qtbot, xml, serial, READY_MARKER)
    yield app
    stop_nido(app)


def test_cancel_keeps_nido_running(nido, qtbot) -> None:
    seen = answer_next_dialog(button_with_text("Cancel"))
    nido.request_quit()
    assert "1 guest is still running: “nido-it-quit”" in seen[0].text()
    assert nido.hub.connections(), "Nido quit although the person cancelled"


def test_leave_running_quits_and_the_guest_goes_on(nido, qtbot) -> None:
    answer_next_dialog(button_with_text("Leave Running"))
    nido.request_quit()
    assert nido.hub.connections() == []
    with embedded_connection() as c:
        assert c.lookupByName("nido-it-quit").state()[0] == libvirt.VIR_DOMAIN_RUNNING


def test_shut_down_guests_waits_for_them_then_quits(nido, qtbot) -> None:
    answer_next_dialog(button_with_text("Shut Down Guests"))
    nido.request_quit()
    progress = nido.window.findChild(QProgressDialog, "shutdownProgress")
    assert progress is not None and progress.isVisible()
    # A count of guests, not a percentage.
    assert progress.findChild(QProgressBar).text() == "0 of 1 off"
    qtbot.waitUntil(lambda: nido.hub.connections() == [], timeout=90_000)
    with embedded_connection() as c:
        wait_for_state(c.lookupByName("nido-it-quit"), libvirt.VIR_DOMAIN_SHUTOFF, 10)


def test_remembered_choice_is_not_asked_again(nido, qtbot) -> None:
    nido.settings.quit_embedded_guests = "leave"
    nido.request_quit()  # no dialog: would block the test if one opened
    assert nido.hub.connections() == []


def test_a_guest_that_ignores_shutdown_can_be_forced_off(qtbot, failures, tmp_path, monkeypatch):
    """GRUB's menu ignores the ACPI power button: after the wait, the person is asked, and
    Force Off pulls the plug and quits."""
    monkeypatch.setattr(quit_flow, "SHUTDOWN_WAIT_S", 2)
    serial = tmp_path / "serial.log"
    xml = cdrom_domain_xml("nido-it-quit-grub", rescue_iso(), accelerator(), serial_log=serial)
    app = start_nido_with(qtbot, xml, serial, GRUB_READY_MARKER)
    try:
        answer_next_dialog(button_with_text("Shut Down Guests"))
        app.request_quit()
        seen = answer_next_dialog(button_with_text("Force Off and Quit"), timeout=30)
        qtbot.waitUntil(lambda: bool(seen), timeout=30_000)
        assert seen[0].objectName() == "stragglersQuestion"
        assert "“nido-it-quit-grub” did not shut down." in seen[0].text()
        qtbot.waitUntil(lambda: app.hub.connections() == [], timeout=30_000)
        with embedded_connection() as c:
            state = c.lookupByName("nido-it-quit-grub").state()[0]
            assert state == libvirt.VIR_DOMAIN_SHUTOFF
    finally:
        stop_nido(app)
