"""The SPICE display against real QEMU, in process through spice-client-glib.

The test guest runs on "This computer" (the embedded driver) with ``<graphics
type='spice'>`` and no TCP port: every SPICE channel gets its own descriptor from
``virDomainOpenGraphicsFD``, opened on the connection's workers (the autouse guard fails
the test if Nido's Qt code calls libvirt on the GUI thread). The guest's colour bars
must appear in the primary surface and in what the canvas paints, and text typed into
the canvas must reach the guest's shell as scancodes (it echoes to the serial port). The
guest has only a PS/2 mouse, so SPICE stays in server mouse mode: relative. When the
guest is forced off, the session closes with a reason, and no descriptor is left open.

Then the same guest is shown under the display controller (injected through its ``opener``
and ``factories`` parameters, the way the composition root wires SPICE): the display
connects by itself, follows the guest when it is forced off, and comes back when it
starts again.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt

from app.qt.display.controller import DisplayController, DisplayState
from app.qt.display.spice import SpiceSession
from app.qt.display.spice_gi import libvirt_fd_request
from tests.guest import READY_MARKER, accelerator, domain_xml, linux_guest
from tests.guest.linux import BARS, FB_HEIGHT, FB_WIDTH, PATTERN_FIRST_ROW
from widgets.display.canvas import DisplayCanvas

pytestmark = pytest.mark.integration

BAR_ROW = PATTERN_FIRST_ROW + 80


def spice_domain_xml(name: str, serial: Path) -> str:
    return domain_xml(name, linux_guest(), accelerator(), serial_log=serial, graphics="spice")


def rgb(image, x: int, y: int) -> tuple[int, int, int]:
    c = image.pixelColor(x, y)
    return c.red(), c.green(), c.blue()


def bars_in_surface(session: SpiceSession) -> bool:
    if (session.width, session.height) != (FB_WIDTH, FB_HEIGHT):
        return False
    image = session.image()
    return all(
        rgb(image, (2 * i + 1) * FB_WIDTH // 16, BAR_ROW) == colour for i, colour in enumerate(BARS)
    )


def bars_on_screen(canvas: DisplayCanvas) -> bool:
    """The same bars in what the canvas painted (scaled to fit)."""
    image = canvas.grab().toImage()
    pl = canvas.placement
    dpr = image.devicePixelRatio()
    for i, colour in enumerate(BARS):
        x, y, _, _ = pl.to_widget((2 * i + 1) * FB_WIDTH // 16, BAR_ROW, 1, 1)
        got = rgb(image, int(x * dpr), int(y * dpr))
        if max(abs(a - b) for a, b in zip(got, colour, strict=True)) > 6:
            return False
    return True


def in_serial(path: Path, text: str) -> bool:
    """Whether ``text`` is in the serial log (checked from qtbot.waitUntil, so that the
    GUI thread, where SPICE's channels run, keeps running meanwhile)."""
    try:
        return text.encode() in path.read_bytes()
    except FileNotFoundError:
        return False


def prompt_area(session: SpiceSession) -> bytes:
    """The pixels of the text lines under the guest's banner."""
    return session.image().copy(0, 150, 800, 150).constBits().tobytes()


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.qt_log_ignore("This plugin does not support grabbing the (keyboard|mouse)")
def test_spice_display_of_a_real_guest(this_computer, qtbot, tmp_path: Path) -> None:
    """One guest: a SpiceSession on its own, then the display controller as the VM window
    uses it (the app's opener and session factories), across a forced off and a restart."""
    local = this_computer
    conn, model = local.conn, local.model
    name = "nido-it-spice"
    serial = tmp_path / "serial.log"
    dom = conn.virconn.defineXML(spice_domain_xml(name, serial))
    t0 = time.monotonic()
    dom.create()
    canvas = DisplayCanvas()
    qtbot.addWidget(canvas)
    canvas.resize(960, 560)
    with qtbot.waitExposed(canvas):
        canvas.show()
    fds_before = open_fds()

    # -- a session on the canvas ---------------------------------------------------------
    session = SpiceSession(libvirt_fd_request(conn.workers, conn.virconn, dom.UUIDString()))
    closed: list[str] = []
    session.closed.connect(closed.append)
    canvas.set_session(session)
    try:
        with qtbot.waitSignal(session.ready, timeout=30_000):
            pass
        ready = time.monotonic() - t0
        qtbot.waitUntil(lambda: in_serial(serial, READY_MARKER), timeout=30_000)
        qtbot.waitUntil(lambda: bars_in_surface(session), timeout=30_000)
        qtbot.waitUntil(lambda: bars_on_screen(canvas), timeout=5000)
        print(f"\nstart -> SPICE ready {ready:.1f} s, bars {time.monotonic() - t0:.1f} s")
        # One descriptor each for the main, display, cursor and inputs channels.
        assert session.fds_opened == 4
        assert session.invalidations > 0 and closed == []
        # No agent in this guest: its resolution cannot follow, and the menu says why.
        assert session.resize_hint == "Needs the SPICE agent in the guest"

        # A PS/2 mouse only: SPICE's server mouse mode, so the canvas grabs the pointer.
        assert not session.absolute_pointer
        qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=QPoint(200, 200))
        assert canvas.grabbed
        # Keys typed into the canvas reach the guest's shell as scancodes ...
        before = prompt_area(session)
        qtbot.keyClicks(canvas, "echo nido-spice_typed > /dev/ttyS0")
        qtbot.keyClick(canvas, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: in_serial(serial, "nido-spice_typed"), timeout=20_000)
        # ... and the shell's echo of them comes back on the display.
        qtbot.waitUntil(lambda: prompt_area(session) != before, timeout=10_000)
        qtbot.wait(300)
        shot = canvas.grab()
        shot.save(str(tmp_path / "spice-console.png"))
        keep = os.environ.get("NIDO_SHOTS")
        if keep:
            Path(keep).mkdir(parents=True, exist_ok=True)
            shot.save(str(Path(keep) / "spice-console.png"))

        # The guest is forced off: the session closes and says why.
        dom.destroy()
        qtbot.waitUntil(lambda: bool(closed), timeout=10_000)
        assert closed[0] and not session.is_open, closed
        assert session.image().isNull()
    finally:
        canvas.set_session(None)
        session.close()
        session.deleteLater()
    # Every channel's descriptor went with the session.
    qtbot.waitUntil(lambda: open_fds() <= fds_before, timeout=5000)

    # -- the display controller follows the guest, with the app's own opener and factories
    qtbot.waitUntil(lambda: model.find_vm_by_name(name) is not None, timeout=5000)
    controller = DisplayController(local.hub, model.find_vm_by_name(name))
    sessions: list[SpiceSession] = []
    controller.sessionChanged.connect(lambda s: s is not None and sessions.append(s))
    controller.start()
    try:
        qtbot.waitUntil(lambda: controller.state is DisplayState.NOT_RUNNING, timeout=5000)
        serial.unlink(missing_ok=True)
        dom.create()
        qtbot.waitUntil(lambda: controller.state is DisplayState.CONNECTED, timeout=30_000)
        assert isinstance(controller.session, SpiceSession)
        qtbot.waitUntil(lambda: bars_in_surface(controller.session), timeout=30_000)

        # Forced off and started again: the display follows, with a fresh session.
        dom.destroy()
        qtbot.waitUntil(lambda: controller.state is DisplayState.NOT_RUNNING, timeout=30_000)
        assert controller.session is None and not sessions[0].is_open
        serial.unlink(missing_ok=True)
        dom.create()
        qtbot.waitUntil(lambda: controller.state is DisplayState.CONNECTED, timeout=30_000)
        assert len(sessions) == 2  # a fresh session for the new QEMU
        qtbot.waitUntil(lambda: in_serial(serial, READY_MARKER), timeout=30_000)
        qtbot.waitUntil(lambda: bars_in_surface(controller.session), timeout=30_000)
    finally:
        controller.stop()
        # Deleted while the hub it listens to lives (a parentless controller, kept only by
        # its session's signal connections, would be freed inside the session's deletion).
        with qtbot.waitSignal(controller.destroyed, timeout=2000):
            controller.deleteLater()
    qtbot.waitUntil(lambda: open_fds() <= fds_before, timeout=5000)
