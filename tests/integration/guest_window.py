"""A test guest started on "This computer" and shown in its own VM window, as a person
opens it: the window is made once the VM list has the VM, and is returned once its display
is connected and the guest has said it is ready."""

from __future__ import annotations

from pathlib import Path

import libvirt

from app.core.xml import Domain
from app.qt.display.controller import DisplayState
from tests.guest import READY_MARKER
from tests.integration.test_display import in_serial
from widgets.vm_window import VMWindow

#: How long a TCG guest may take to connect and to reach its ready marker.
READY_TIMEOUT_MS = 60_000


def start_in_vm_window(
    env, qtbot, xml: str, serial: Path, size: tuple[int, int] = (1000, 720)
) -> tuple[VMWindow, libvirt.virDomain]:
    """Define and start the guest of ``xml`` (whose serial log is ``serial``) and open its
    VM window at ``size``; the caller closes the window."""
    name = Domain.from_xml(xml).name
    dom = env.conn.virconn.defineXML(xml)
    qtbot.waitUntil(lambda: env.model.find_vm_by_name(name) is not None, timeout=5000)
    dom.create()
    window = VMWindow(env.hub, env.model, env.model.find_vm_by_name(name))
    window.resize(*size)
    window.show()
    view = window.display
    try:
        qtbot.waitUntil(lambda: view.state is DisplayState.CONNECTED, timeout=READY_TIMEOUT_MS)
        qtbot.waitUntil(lambda: in_serial(serial, READY_MARKER), timeout=READY_TIMEOUT_MS)
    except BaseException:
        window.close()
        raise
    return window, dom
