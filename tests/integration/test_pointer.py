"""A click lands where it was aimed: the pointer against real QEMU, read back in the guest.

The test guest gets a virtio tablet (``domain_xml(tablet=True)``); its init loads the
driver and writes every event of the tablet to the serial port, so the test reads what the
guest's kernel saw: ABS_X/ABS_Y on QEMU's 0..32767 scale over the framebuffer, and
BTN_LEFT. Once the guest drives the tablet, QEMU's VNC server says the pointer is absolute
(the Pointer Motion Change pseudo-encoding) and the console sends positions, not motions.

The VM window shows the guest shrunk to fit (the widget is not the framebuffer's size, and
the picture is letterboxed), and the colour bars are checked where the placement says they
are painted. Then qtbot clicks at the widget positions of two framebuffer points far apart
(upper left, and near the bottom-right corner): the guest must see the button go down and
up at the framebuffer point under the click, within a pixel or two. Then the same guest's
second display, SPICE, on a canvas scaled up to fill it (its client mouse mode, given by
the tablet), with the same two clicks.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt

from app.qt.display.spice import SpiceSession
from app.qt.display.spice_gi import libvirt_fd_request
from tests.guest import accelerator, domain_xml, linux_guest
from tests.guest.linux import FB_HEIGHT, FB_WIDTH
from tests.guest.reports import (
    ABS_X,
    ABS_Y,
    BTN_LEFT,
    EV_ABS,
    EV_KEY,
    EV_SYN,
    TABLET_MAX,
    pointer_events,
)
from tests.integration.guest_window import start_in_vm_window
from tests.integration.test_display import bars_in_framebuffer, bars_on_screen
from tests.integration.test_spice_display import bars_in_surface
from tests.integration.test_spice_display import bars_on_screen as spice_bars_on_screen
from widgets.display.canvas import DisplayCanvas
from widgets.display.geometry import Scaling

pytestmark = pytest.mark.integration

TIMEOUT_MS = 60_000
#: Framebuffer points to click: upper left, and near the bottom-right corner.
TARGETS = [(480, 300), (1880, 1050)]
#: How far (framebuffer pixels) the guest's idea of the click may be from the aim.
TOLERANCE_PX = 2.0


def guest_events(serial: Path) -> list[tuple[int, int, int]]:
    try:
        return pointer_events(serial.read_bytes())
    except FileNotFoundError:
        return []


def button_changes(events: list[tuple[int, int, int]]) -> list[tuple[int, float, float]]:
    """Each BTN_LEFT change (1 down, 0 up) with the tablet's position in that input frame,
    in framebuffer pixels. A frame (up to EV_SYN) is one report: QEMU's VNC server queues
    the buttons before the axes, and the guest's kernel keeps only changed axes."""
    x = y = 0
    frame: list[tuple[int, int, int]] = []
    changes = []
    for event in events:
        if event[0] != EV_SYN:
            frame.append(event)
            continue
        for kind, code, value in frame:
            if (kind, code) == (EV_ABS, ABS_X):
                x = value
            elif (kind, code) == (EV_ABS, ABS_Y):
                y = value
        for kind, code, value in frame:
            if (kind, code) == (EV_KEY, BTN_LEFT):
                changes.append((value, x * FB_WIDTH / TABLET_MAX, y * FB_HEIGHT / TABLET_MAX))
        frame = []
    return changes


def aim(canvas: DisplayCanvas, fx: int, fy: int) -> tuple[QPoint, tuple[float, float]]:
    """The widget position (whole logical pixels) over framebuffer point (fx, fy), and the
    framebuffer point under that position, from the placement of the painted picture."""
    pl = canvas.placement
    wx, wy, _, _ = pl.to_widget(fx, fy, 1, 1)
    pos = QPoint(math.floor(wx + pl.scale / 2), math.floor(wy + pl.scale / 2))
    under = ((pos.x() - pl.x) / pl.width * FB_WIDTH, (pos.y() - pl.y) / pl.height * FB_HEIGHT)
    return pos, under


def click_and_check(qtbot, canvas: DisplayCanvas, serial: Path, fx: int, fy: int) -> None:
    """Click over framebuffer point (fx, fy); the guest sees BTN_LEFT go down, then up, at
    the point under the click."""
    pos, (ux, uy) = aim(canvas, fx, fy)
    seen = len(button_changes(guest_events(serial)))
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=pos)
    qtbot.waitUntil(lambda: len(button_changes(guest_events(serial))) >= seen + 2, timeout=10_000)
    changes = button_changes(guest_events(serial))[seen:]
    print(f"aim ({fx}, {fy}) -> widget {pos.toTuple()} -> guest saw", changes)
    assert [value for value, _, _ in changes] == [1, 0], changes
    for _, gx, gy in changes:
        assert abs(gx - ux) <= TOLERANCE_PX and abs(gy - uy) <= TOLERANCE_PX, (
            f"aimed at ({fx}, {fy}); the widget point {pos.toTuple()} shows ({ux:.1f}, "
            f"{uy:.1f}); the guest saw ({gx:.1f}, {gy:.1f})"
        )


@pytest.mark.qt_log_ignore("This plugin does not support grabbing the (keyboard|mouse)")
def test_a_click_lands_where_it_was_aimed(this_computer, qtbot, tmp_path: Path) -> None:
    conn = this_computer.conn
    name = "nido-it-pointer"
    serial = tmp_path / "serial.log"
    xml = domain_xml(
        name,
        linux_guest(),
        accelerator(),
        serial_log=serial,
        graphics=("vnc", "spice"),
        tablet=True,
    )
    t0 = time.monotonic()
    vmw, dom = start_in_vm_window(this_computer, qtbot, xml, serial)
    view = vmw.display
    try:
        qtbot.waitUntil(lambda: bars_in_framebuffer(view), timeout=30_000)
        qtbot.waitUntil(lambda: bars_on_screen(view), timeout=10_000)
        session = view.canvas.session
        qtbot.waitUntil(lambda: session.absolute_pointer, timeout=10_000)
        canvas = view.canvas
        pl = canvas.placement
        assert pl.scale < 1 and (pl.x > 0 or pl.y > 0), pl  # shrunk and letterboxed
        print(f"\nstart -> VNC absolute pointer {time.monotonic() - t0:.1f} s, placement {pl}")
        for fx, fy in TARGETS:
            click_and_check(qtbot, canvas, serial, fx, fy)
    finally:
        vmw.close()

    # -- SPICE, the same guest's second display, scaled up to fill the canvas -------------
    canvas = DisplayCanvas()
    qtbot.addWidget(canvas)
    canvas.set_scaling(Scaling.ALWAYS)
    canvas.resize(700, 600)
    with qtbot.waitExposed(canvas):
        canvas.show()
    session = SpiceSession(libvirt_fd_request(conn.workers, conn.virconn, dom.UUIDString(), 1))
    canvas.set_session(session)
    try:
        with qtbot.waitSignal(session.ready, timeout=30_000):
            pass
        qtbot.waitUntil(lambda: bars_in_surface(session), timeout=30_000)
        qtbot.waitUntil(lambda: spice_bars_on_screen(canvas), timeout=5000)
        qtbot.waitUntil(lambda: session.absolute_pointer, timeout=10_000)  # client mouse mode
        # The picture and the mouse mode come on the display and main channels; a click
        # before the inputs channel opens is dropped (seen on a loaded machine), so wait.
        qtbot.waitUntil(lambda: session.inputs.channel is not None, timeout=10_000)
        pl = canvas.placement
        assert pl.scale != 1 and (pl.x > 0 or pl.y > 0), pl
        for fx, fy in TARGETS:
            click_and_check(qtbot, canvas, serial, fx, fy)
        print(f"start -> SPICE clicks checked {time.monotonic() - t0:.1f} s")
    finally:
        canvas.set_session(None)
        session.close()
        session.deleteLater()
