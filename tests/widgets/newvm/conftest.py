"""Fixtures for the New-VM wizard: install images built with xorriso, a test-driver host
reached through the main window, a wizard over hand-made host facts (for firmware and
network choices the test driver does not have), and helpers that wait for the wizard's
off-thread work to settle."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtWidgets import QWizard

from app.core import uris
from app.core.connection import Connection, ConnectionSpec
from app.core.newvm import HostFacts
from tests.unit.core.newvm.conftest import make_host
from tests.unit.core.osdb.conftest import SPECS, build_iso
from widgets.newvm import NewVMWizard, PageId

TIMEOUT_MS = 10_000


@pytest.fixture(scope="session")
def isos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("wizard-isos")
    names = ("debian11", "win11", "unknown", "not-bootable")
    return {n: build_iso(d / f"{n}.iso", SPECS[n]) for n in names}


def settle(qtbot, wizard: NewVMWizard, timeout: int = TIMEOUT_MS) -> None:
    """Wait until no check, detection, OS lookup or typed path is pending."""

    def idle() -> bool:
        source = wizard.source_page
        summary = wizard.summary_page
        return (
            wizard.host is not None
            and wizard.settled
            and not source._path_timer.isActive()
            and not summary._name_timer.isActive()
        )

    qtbot.waitUntil(idle, timeout=timeout)


def next_enabled(wizard: NewVMWizard) -> bool:
    button = QWizard.WizardButton.CommitButton
    if wizard.currentId() != PageId.SUMMARY:
        button = QWizard.WizardButton.NextButton
    return wizard.button(button).isEnabled()


def set_iso(qtbot, wizard: NewVMWizard, path: Path | str) -> None:
    wizard.source_page.iso_radio.setChecked(True)
    wizard.source_page.iso.edit.setText(str(path))
    settle(qtbot, wizard)


def go_to(qtbot, wizard: NewVMWizard, page: PageId) -> None:
    """Press Next until `page` shows, each time once the current page allows it."""
    while wizard.currentId() < page:
        settle(qtbot, wizard)
        try:
            qtbot.waitUntil(lambda: next_enabled(wizard), timeout=TIMEOUT_MS)
        except qtbot.TimeoutError:
            raise AssertionError(
                f"Next stays disabled on page {wizard.currentId()}: {wizard.problems}"
            ) from None
        wizard.next()
    settle(qtbot, wizard)


@pytest.fixture
def test_env(make_ui, failures, node):
    """The main window over a test-driver host (web, db, old)."""
    return make_ui([ConnectionSpec(kind=uris.Kind.CUSTOM, uri=node, name="Test")], vms=3)


@pytest.fixture
def made_wizard(qtbot, db) -> Callable[..., NewVMWizard]:
    """A wizard over hand-made host facts (an embedded-like host with UEFI, Secure Boot,
    a TPM, user-mode NAT, a 'default' network and a bridge); no libvirt call is made."""

    def make(**host_changes: object) -> NewVMWizard:
        host: HostFacts = make_host(**host_changes)
        conn = Connection(ConnectionSpec(kind=uris.Kind.CUSTOM, uri=host.uri, name="Fake"))
        wizard = NewVMWizard(conn, None, None, host=host, database=db)
        qtbot.addWidget(wizard)
        wizard.show()
        qtbot.waitUntil(lambda: wizard.host is not None and wizard.catalogue is not None)
        return wizard

    return make
