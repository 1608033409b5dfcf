"""Files sent into a real guest through its SPICE agent, from the VM window's console.

The guest runs the test agent (tests/guest/spice_agent.c), which saves what it is sent in
its /tmp and reports each file's size and FNV-1a hash on the serial port, and takes files
named "slow-*" at about 256 KiB/s so that one can be cancelled half-way. The console:

- offers "Send Files…" once the agent is there;
- sends a file dropped on the display (a real QDropEvent), which reaches the guest whole:
  the same size and the same bytes, and says so in a strip over the display (which does
  not shrink the view, so a guest following the window's size keeps its resolution);
- cancels a transfer from its Cancel button: the guest hears "cancelled" and drops the
  part it had, and the console reports no error.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from app.qt.display.spice_files import TransferState
from tests.guest import accelerator, domain_xml, linux_guest
from tests.integration.guest_window import start_in_vm_window
from tests.integration.test_spice_agent import lines

pytestmark = pytest.mark.integration

TIMEOUT_MS = 60_000


def fnv1a(data: bytes) -> int:
    h = 2166136261
    for byte in data:
        h = ((h ^ byte) * 16777619) & 0xFFFFFFFF
    return h


def drop(widget, path: Path) -> None:
    """A file dropped on ``widget``, as a file manager drops one."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    at = QPointF(widget.width() / 2, widget.height() / 2)
    action = Qt.DropAction.CopyAction
    buttons, mods = Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(at.toPoint(), action, mime, buttons, mods)
    QApplication.sendEvent(widget, enter)
    assert enter.isAccepted(), "the display refused the drag"
    QApplication.sendEvent(widget, QDropEvent(at, action, mime, buttons, mods))


@pytest.mark.qt_log_ignore("This plugin does not support grabbing the (keyboard|mouse)")
def test_files_reach_a_real_guest_and_a_slow_one_can_be_cancelled(
    this_computer, qtbot, tmp_path: Path
) -> None:
    serial = tmp_path / "serial.log"
    xml = domain_xml(
        "nido-it-spice-files",
        linux_guest(),
        accelerator(),
        serial_log=serial,
        graphics="spice",
        spice_agent=True,
    )
    vmw, _dom = start_in_vm_window(this_computer, qtbot, xml, serial)
    console = vmw.display
    try:
        qtbot.waitUntil(lambda: console.files_action.isVisible(), timeout=TIMEOUT_MS)
        sender = console.canvas.session.files
        ended = []
        sender.ended.connect(ended.append)

        # -- a dropped file arrives whole ----------------------------------------------------
        data = os.urandom(300 * 1024 + 17)
        report = tmp_path / "report.bin"
        report.write_bytes(data)
        view_size = console.area.view_size()
        drop(console.canvas, report)
        qtbot.waitUntil(lambda: bool(ended), timeout=TIMEOUT_MS)
        # The strip lies over the display: the view, and so the guest's resolution, stay.
        assert console.files_bar.isVisible()
        assert console.area.view_size() == view_size
        assert ended[0].state is TransferState.DONE, ended[0].error
        done = [x for x in lines(serial) if x.startswith("file-done")]
        assert done, lines(serial)
        _id, name, size, digest = done[0].split()[1:]
        assert (name, int(size), int(digest, 16)) == ("report.bin", len(data), fnv1a(data))
        assert "report.bin" in console.files_bar.text()

        # -- a slow one, cancelled half-way --------------------------------------------------
        slow = tmp_path / "slow-big.bin"
        slow.write_bytes(os.urandom(3 * 1024 * 1024))  # 12 s at the agent's pace
        console.files_bar.send([slow])
        qtbot.waitUntil(lambda: any(t.sent > 0 for t in sender.transfers), timeout=TIMEOUT_MS)
        assert console.files_bar.isVisible()
        qtbot.mouseClick(console.files_bar.cancel_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: len(ended) == 2, timeout=TIMEOUT_MS)
        assert ended[1].state is TransferState.CANCELLED
        assert 0 < ended[1].sent < ended[1].total
        # The guest hears of it at once (spice-client-glib needs a nudge to send it).
        qtbot.waitUntil(
            lambda: any(re.match(r"file-status \d+ 1$", x) for x in lines(serial)),
            timeout=5000,
        )
        assert not [x for x in lines(serial) if x.startswith("file-done") and "slow-" in x]
        assert "cancelled" in console.files_bar.text().lower()
    finally:
        vmw.close()
