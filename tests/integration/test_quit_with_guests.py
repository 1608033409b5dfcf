"""Quitting Nido while guests run on the embedded connection: it asks, and does what the
person chose."""

from __future__ import annotations

import libvirt
import pytest

from app.core import uris
from app.core.connection import ConnectionSpec, State
from app.core.settings import Settings
from app.core.vmstate import Status
from tests.guest import READY_MARKER, accelerator, domain_xml, linux_guest
from tests.guest.libvirt_env import embedded_connection, wait_for_state, wait_for_text
from tests.support.local import connection_for_tests
from tests.widgets.conftest import answer_next_dialog, button_with_text
from widgets.application import Nido

pytestmark = pytest.mark.integration


@pytest.fixture
def nido(qtbot, failures, tmp_path):
    app = Nido(
        Settings(connections=[ConnectionSpec(kind=uris.Kind.LOCAL)]),
        save_settings=False,
        connection_factory=connection_for_tests,
    )
    app.start()
    conn = app.hub.connections()[0]
    qtbot.waitUntil(lambda: conn.state is State.CONNECTED, timeout=90_000)
    serial = tmp_path / "serial.log"
    dom = conn.virconn.defineXML(
        domain_xml("nido-it-quit", linux_guest(), accelerator(), serial_log=serial)
    )
    dom.create()
    wait_for_text(serial, READY_MARKER, 90)
    qtbot.waitUntil(
        lambda: (
            (vm := app.model.find_vm_by_name("nido-it-quit")) is not None
            and vm.status is Status.RUNNING
        ),
        timeout=10_000,
    )
    yield app
    app.hub.shutdown()
    app.window.hide()  # not closed: closing the main window asks to quit
    app.window.deleteLater()
    with embedded_connection() as c:  # removes the guest, whatever state it is in
        assert c.listAllDomains() is not None


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
    qtbot.waitUntil(lambda: nido.hub.connections() == [], timeout=90_000)
    with embedded_connection() as c:
        wait_for_state(c.lookupByName("nido-it-quit"), libvirt.VIR_DOMAIN_SHUTOFF, 10)


def test_remembered_choice_is_not_asked_again(nido, qtbot) -> None:
    nido.settings.quit_embedded_guests = "leave"
    nido.request_quit()  # no dialog: would block the test if one opened
    assert nido.hub.connections() == []
