"""Integration fixtures: the widget helpers (the UI factory, the failure collector and
the no-libvirt-on-the-GUI-thread guard), reused for real QEMU, and ``this_computer``: the
main window on "This computer" (the embedded driver), cleaned up afterwards."""

from __future__ import annotations

import contextlib
import os

import libvirt
import pytest

from app.core import uris
from app.core.connection import ConnectionSpec
from app.core.xml.domain import Domain
from tests.widgets.conftest import (  # noqa: F401 - fixtures, re-exported
    Env,
    failures,
    make_ui,
    no_libvirt_on_the_gui_thread,
)

#: The first open of a fresh embedded root probes QEMU (about 8 s here).
CONNECT_TIMEOUT_MS = 90_000
#: Every guest an integration test defines is named so; the fixtures remove them.
TEST_GUEST_PREFIX = "nido-it-"


def remove_test_guests(virconn: libvirt.virConnect) -> None:
    """Destroy and undefine every test guest, with its saved state, NVRAM and TPM state,
    and delete the qcow2 images it used (test guests own theirs)."""
    for dom in virconn.listAllDomains():
        if not dom.name().startswith(TEST_GUEST_PREFIX):
            continue
        with contextlib.suppress(libvirt.libvirtError):
            images = [
                d.source_file
                for d in Domain.from_xml(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)).devices.disks
                if d.source_file and d.source_file.endswith(".qcow2")
            ]
            if dom.isActive():
                dom.destroy()
            dom.undefineFlags(
                libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
                | libvirt.VIR_DOMAIN_UNDEFINE_NVRAM
                | libvirt.VIR_DOMAIN_UNDEFINE_TPM
            )
            for path in images:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)


@pytest.fixture
def this_computer(make_ui, failures) -> Env:  # noqa: F811 - fixtures by name
    """The main window on "This computer"; afterwards no test guest is left and no failure
    reached the default presenter."""
    env = make_ui([ConnectionSpec(kind=uris.Kind.LOCAL)], connect_timeout=CONNECT_TIMEOUT_MS)
    print(f"\nThis computer: {env.conn.mode_text}; accelerator {env.conn.accelerator.label}")
    yield env
    if env.conn.virconn is not None:
        remove_test_guests(env.conn.virconn)
    assert failures == [], [f.summary for f in failures]
