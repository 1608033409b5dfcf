"""The embedded display against real QEMU, through libvirt's graphics socket.

The test guest is defined on "This computer" (the embedded driver) and its VM window is
opened while it is off. Start on the console's overlay boots it; the display connects by
itself, the guest's colour bars appear in the widget's framebuffer and on its painted
pixels, and text typed into the widget with qtbot reaches the guest's shell as scancodes
(the busybox shell on the VGA console echoes it to the serial port). The guest has only a
PS/2 mouse, so QEMU puts the pointer in relative mode and a click grabs it; Ctrl+Alt
lets go. Finally the guest is forced off and started again, and the display comes back
by itself.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtGui import QImage, QKeyEvent
from PySide6.QtWidgets import QApplication

from app.qt.display.controller import DisplayState
from tests.guest import READY_MARKER, accelerator, domain_xml, linux_guest
from tests.guest.linux import BARS, FB_HEIGHT, FB_WIDTH, PATTERN_FIRST_ROW
from widgets.vm_window import VMWindow

pytestmark = pytest.mark.integration

BOOT_TIMEOUT_MS = 90_000
STATE_TIMEOUT_MS = 60_000
BAR_ROW = PATTERN_FIRST_ROW + 80


def in_serial(path: Path, text: str) -> bool:
    """Whether the guest wrote ``text`` to its serial log (read without blocking the event
    loop, which keeps reading the display meanwhile)."""
    try:
        return text.encode() in path.read_bytes()
    except FileNotFoundError:
        return False


def bars_in_framebuffer(view) -> bool:
    session = view.canvas.session
    if session is None or (session.width, session.height) != (FB_WIDTH, FB_HEIGHT):
        return False
    fb = session.framebuffer
    return all(
        fb.pixel((2 * i + 1) * FB_WIDTH // 16, BAR_ROW) == colour for i, colour in enumerate(BARS)
    )


def bars_on_screen(view) -> bool:
    """The same bars in what the widget painted (scaled to fit)."""
    canvas = view.canvas
    image = canvas.grab().toImage()
    pl = canvas.placement
    dpr = image.devicePixelRatio()
    for i, colour in enumerate(BARS):
        x, y, _, _ = pl.to_widget((2 * i + 1) * FB_WIDTH // 16, BAR_ROW, 1, 1)
        c = image.pixelColor(int(x * dpr), int(y * dpr))
        if max(abs(a - b) for a, b in zip((c.red(), c.green(), c.blue()), colour, strict=True)) > 6:
            return False
    return True


def text_area(view) -> bytes:
    """The pixels of the guest's text console, above the colour bars."""
    return view.canvas.session.framebuffer.array()[:PATTERN_FIRST_ROW].tobytes()


def save_shot(vmw, tmp_path: Path, name: str) -> Path:
    """A picture of the VM window for people (NIDO_SHOTS=dir keeps a copy there)."""
    path = tmp_path / name
    vmw.grab().save(str(path))
    keep = os.environ.get("NIDO_SHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        vmw.grab().save(str(Path(keep) / name))
    return path


@pytest.mark.qt_log_ignore("This plugin does not support grabbing the (keyboard|mouse)")
def test_live_console_of_a_real_guest(this_computer, qtbot, tmp_path: Path) -> None:
    hub, model, conn = this_computer.hub, this_computer.model, this_computer.conn
    name = "nido-it-display"
    serial = tmp_path / "serial.log"
    conn.virconn.defineXML(domain_xml(name, linux_guest(), accelerator(), serial_log=serial))
    qtbot.waitUntil(lambda: model.find_vm_by_name(name) is not None, timeout=5000)
    vmw = VMWindow(hub, model, model.find_vm_by_name(name))
    vmw.resize(1000, 720)
    vmw.show()
    view = vmw.display
    try:
        qtbot.waitUntil(lambda: view.state is DisplayState.NOT_RUNNING, timeout=5000)
        assert view.overlay.isVisible() and view.overlay.start_button.isVisible()

        t0 = time.monotonic()
        view.overlay.start_button.click()
        qtbot.waitUntil(lambda: view.state is DisplayState.CONNECTED, timeout=STATE_TIMEOUT_MS)
        connected = time.monotonic() - t0
        assert not view.showing_fallback and not view.overlay.isVisible()
        qtbot.waitUntil(lambda: in_serial(serial, READY_MARKER), timeout=BOOT_TIMEOUT_MS)
        qtbot.waitUntil(lambda: bars_in_framebuffer(view), timeout=30_000)
        qtbot.waitUntil(lambda: bars_on_screen(view), timeout=10_000)
        print(f"\nstart -> display connected {connected:.1f} s, bars {time.monotonic() - t0:.1f} s")

        # Keys typed into the widget reach the guest's shell as scancodes.
        session = view.canvas.session
        qtbot.waitUntil(lambda: session.extended_keys, timeout=5000)
        canvas = view.canvas
        qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=QPoint(200, 200))
        assert canvas.grabbed
        assert not session.absolute_pointer  # a PS/2 mouse: relative, pointer grabbed
        assert canvas.cursor().shape() == Qt.CursorShape.BlankCursor
        before = text_area(view)
        qtbot.keyClicks(canvas, "echo nido-display_typed > /dev/ttyS0")
        qtbot.keyClick(canvas, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: in_serial(serial, "nido-display_typed"), timeout=30_000)
        # ... and the guest's echo of the command line comes back on the display.
        qtbot.waitUntil(lambda: text_area(view) != before, timeout=10_000)
        qtbot.wait(200)
        save_shot(vmw, tmp_path, "vm-window-console.png")
        # The Screenshot command saves the guest's screen at its own size.
        shot = tmp_path / "guest.png"
        assert view.save_screenshot(shot)
        saved = QImage(str(shot))
        assert (saved.width(), saved.height()) == (FB_WIDTH, FB_HEIGHT)
        # The console asked for the view's size, and a standard VGA cannot take one: QEMU
        # said so, the session stopped asking, and the picture is scaled instead.
        assert session.resize_refused
        c = saved.pixelColor(FB_WIDTH // 16, BAR_ROW)
        assert (c.red(), c.green(), c.blue()) == BARS[0]

        # Ctrl+Alt lets go of keyboard and pointer.
        ctrl, alt = Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.AltModifier
        for kind, key, mods in (
            (QEvent.Type.KeyPress, Qt.Key.Key_Control, Qt.KeyboardModifier.NoModifier),
            (QEvent.Type.KeyPress, Qt.Key.Key_Alt, ctrl),
            (QEvent.Type.KeyRelease, Qt.Key.Key_Alt, ctrl | alt),
        ):
            QApplication.sendEvent(canvas, QKeyEvent(kind, key, mods))
        assert not canvas.grabbed

        # The guest is forced off and started again: the display follows by itself.
        dom = conn.virconn.lookupByName(name)
        dom.destroy()
        qtbot.waitUntil(lambda: view.state is DisplayState.NOT_RUNNING, timeout=STATE_TIMEOUT_MS)
        assert view.overlay.start_button.isVisible()
        serial.unlink(missing_ok=True)
        dom.create()
        qtbot.waitUntil(lambda: view.state is DisplayState.CONNECTED, timeout=STATE_TIMEOUT_MS)
        qtbot.waitUntil(lambda: in_serial(serial, READY_MARKER), timeout=BOOT_TIMEOUT_MS)
        qtbot.waitUntil(lambda: bars_in_framebuffer(view), timeout=30_000)
    finally:
        vmw.close()
