"""The wizard and the OS-database helper process: the wizard holds it while open and the
helper is gone once the wizard closes; a helper that cannot start leaves the wizard
working on Nido's guesses, with the reason on the page."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from app.core import osdb, uris
from app.core.connection import Connection, ConnectionSpec
from tests.unit.core.newvm.conftest import make_host
from tests.widgets.newvm.conftest import go_to, next_enabled, set_iso
from widgets.newvm import NewVMWizard, PageId


def open_wizard(qtbot, database: osdb.OSDatabaseClient) -> NewVMWizard:
    host = make_host()
    conn = Connection(ConnectionSpec(kind=uris.Kind.CUSTOM, uri=host.uri, name="Fake"))
    wizard = NewVMWizard(conn, None, None, host=host, database=database)
    qtbot.addWidget(wizard)
    wizard.show()
    qtbot.waitUntil(lambda: wizard.catalogue is not None, timeout=10_000)
    return wizard


@pytest.mark.parametrize("how", ["cancel", "close"])
def test_the_helper_is_gone_once_the_wizard_closes(qtbot, isos, how: str) -> None:
    client = osdb.OSDatabaseClient()  # not the session's: nobody else holds it
    try:
        wizard = open_wizard(qtbot, client)
        assert wizard.catalogue and client.holders == 1
        set_iso(qtbot, wizard, isos["debian11"])
        assert wizard.source_page.detected.text() == "Detected: Debian 11"
        pid = client.pid
        assert pid is not None
        if how == "cancel":
            wizard.reject()
        else:
            wizard.close()
        assert client.holders == 0 and not client.running
        assert not Path(f"/proc/{pid}").exists()  # exited and reaped
        assert client.starts == 1
    finally:
        client.close()


def test_a_helper_that_cannot_start_leaves_nidos_guesses(qtbot, isos) -> None:
    client = osdb.OSDatabaseClient([sys.executable, "-c", "raise SystemExit(1)"])
    wizard = open_wizard(qtbot, client)
    assert wizard.catalogue == ()
    assert wizard.catalogue_error is not None
    assert wizard.catalogue_error.summary == (
        "Nido's list of operating systems could not be started."
    )
    set_iso(qtbot, wizard, isos["debian11"])
    assert wizard.detection_error is None and wizard.os_ready
    assert wizard.spec.os is None and wizard.spec.os_defaults is not None  # guesses
    assert next_enabled(wizard)
    go_to(qtbot, wizard, PageId.OS)
    page = wizard.os_page
    assert page.detected.text() == (
        "Nido could not look at the disc: Nido's list of operating systems could not be started."
    )
    assert page.count.text() == (
        "The OS list is not available: Nido's list of operating systems could not be started."
    )
    assert page.chosen.text() == "Nido sets the VM up with its own guesses for an unknown OS."
    go_to(qtbot, wizard, PageId.RESOURCES)
    assert wizard.resources_page.memory.hint.text().startswith("Nido's guess")
    wizard.reject()
    assert not client.running
