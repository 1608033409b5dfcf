"""The SPICE agent's features against real QEMU: clipboard both ways and the guest's
resolution following the VM window (monitor config).

The guest has the agent's channel (a spicevmc chardev on a virtio-serial port) and runs
the test agent (tests/guest/spice_agent.c), which speaks the agent protocol to QEMU's
SPICE server and reports on the serial port what reached it. The VM window shows the guest
over SPICE, as a person would open it, on "This computer":

- the window's console size reaches the guest as a monitor config, and again when the
  window is resized;
- text copied on the host reaches the guest's agent (it asks for it, and logs its bytes);
- the guest then copies "guest-got:" and that text, and it lands on the host's clipboard,
  and is not offered back to the guest as a new host copy;
- and spice-client-glib never complains of a call made out of turn.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from PySide6.QtGui import QClipboard, QGuiApplication

from tests.guest import accelerator, domain_xml, linux_guest
from tests.guest.reports import agent_lines
from tests.integration.guest_window import start_in_vm_window

pytestmark = pytest.mark.integration

TIMEOUT_MS = 60_000
#: Text the host copies: non-ASCII too, to prove the bytes go as UTF-8.
HOST_TEXT = "Nido → guest: ünïcode ✓"
#: What the test agent copies back in the guest once it has the host's text.
GUEST_TEXT = "guest-got:" + HOST_TEXT


def lines(serial: Path) -> list[str]:
    try:
        return agent_lines(serial.read_bytes())
    except FileNotFoundError:
        return []


def monitor_sizes(serial: Path) -> list[tuple[int, int]]:
    """Each monitor config's first monitor, (width, height), oldest first."""
    sizes = []
    for line in lines(serial):
        match = re.match(r"monitors \d+ (\d+)x(\d+)\+", line)
        if match:
            sizes.append((int(match[1]), int(match[2])))
    return sizes


@pytest.mark.qt_log_ignore("This plugin does not support grabbing the (keyboard|mouse)")
def test_clipboard_and_resolution_reach_a_real_guest_agent(
    this_computer, qtbot, tmp_path: Path, capfd
) -> None:
    board = QGuiApplication.clipboard()
    board.clear(QClipboard.Mode.Clipboard)  # nothing to offer the agent when it comes
    serial = tmp_path / "serial.log"
    xml = domain_xml(
        "nido-it-spice-agent",
        linux_guest(),
        accelerator(),
        serial_log=serial,
        graphics="spice",
        spice_agent=True,
    )
    t0 = time.monotonic()
    vmw, _dom = start_in_vm_window(this_computer, qtbot, xml, serial)
    view = vmw.display
    try:
        qtbot.waitUntil(lambda: "ready" in lines(serial), timeout=TIMEOUT_MS)
        session = view.canvas.session
        assert session.protocol == "spice"
        qtbot.waitUntil(lambda: session.agent_connected, timeout=TIMEOUT_MS)
        assert session.resize_hint == ""  # the Scaling menu has no "needs the agent" note
        qtbot.waitUntil(
            lambda: any(x.startswith("client-caps") for x in lines(serial)), timeout=10_000
        )
        print(f"\nstart -> agent connected {time.monotonic() - t0:.1f} s")

        # -- resolution: the console's size, then again after a resize ----------------------
        first = view.area.view_size()
        qtbot.waitUntil(lambda: first in monitor_sizes(serial), timeout=10_000)
        vmw.resize(1200, 860)
        qtbot.waitUntil(lambda: view.area.view_size() != first, timeout=5000)
        second = view.area.view_size()
        qtbot.waitUntil(lambda: monitor_sizes(serial)[-1:] == [second], timeout=10_000)
        print("monitor configs the guest received:", monitor_sizes(serial))

        # -- clipboard: host -> guest, then guest -> host ------------------------------------
        board.setText(HOST_TEXT, QClipboard.Mode.Clipboard)
        expected = "host-text " + HOST_TEXT.encode().hex()
        qtbot.waitUntil(lambda: expected in lines(serial), timeout=10_000)
        qtbot.waitUntil(lambda: board.text(QClipboard.Mode.Clipboard) == GUEST_TEXT, timeout=10_000)
        assert "host-request" in lines(serial)  # the host asked for the guest's text
        # The guest's text now on the host's clipboard is not offered back as a host copy.
        qtbot.wait(500)
        assert lines(serial).count("host-grab") == 1, lines(serial)
        print(f"clipboard both ways checked {time.monotonic() - t0:.1f} s")
        # spice-client-glib complains on stderr of calls made out of turn (a clipboard
        # release before the agent's capabilities came, say).
        said = capfd.readouterr()
        with capfd.disabled():
            print(said.out, end="")  # the timings above, for whoever runs with -s
        assert "GSpice-CRITICAL" not in said.err
    finally:
        vmw.close()
        board.clear(QClipboard.Mode.Clipboard)
