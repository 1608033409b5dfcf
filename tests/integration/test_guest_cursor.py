"""The guest's pointer shape, from real QEMU to the VM window, over VNC and over SPICE.

The guest has a virtio GPU and shows a known shape on its cursor plane
(tests/guest/drm_client.c: four coloured quadrants, one of them transparent, hotspot (5, 7)).
QEMU hands that shape to its display server: VNC sends it as the Cursor pseudo-encoding,
SPICE on its cursor channel. The VM window opens the guest as a person would, and:

- the session reports exactly that shape: the size, the hotspot, each quadrant's colour,
  and the transparent one transparent (a swapped channel order, a lost alpha or a
  misread mask shows here);
- the console's pointer over the guest becomes that shape, scaled as the picture is, with
  its hotspot where the guest's is.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from tests.guest import accelerator, domain_xml, linux_guest
from tests.guest.linux import CURSOR_MARKER, CURSOR_SHAPE
from tests.integration.guest_window import start_in_vm_window
from tests.integration.test_display import in_serial

pytestmark = pytest.mark.integration

TIMEOUT_MS = 60_000


def rgba(image, x: int, y: int) -> tuple[int, int, int, int]:
    c = image.pixelColor(x, y)
    return c.red(), c.green(), c.blue(), c.alpha()


@pytest.mark.qt_log_ignore("This plugin does not support grabbing the (keyboard|mouse)")
@pytest.mark.parametrize("graphics", ["vnc", "spice"])
def test_guest_pointer_shape_reaches_the_console(
    this_computer, qtbot, tmp_path: Path, graphics: str
) -> None:
    serial = tmp_path / "serial.log"
    xml = domain_xml(
        f"nido-it-cursor-{graphics}",
        linux_guest(),
        accelerator(),
        serial_log=serial,
        graphics=graphics,
        video="virtio",
        tablet=True,  # an absolute pointer: the console shows the guest's shape unhidden
    )
    vmw, _dom = start_in_vm_window(this_computer, qtbot, xml, serial)
    view = vmw.display
    canvas = view.canvas
    try:
        qtbot.waitUntil(lambda: in_serial(serial, CURSOR_MARKER), timeout=TIMEOUT_MS)
        assert canvas.session.protocol == graphics
        qtbot.waitUntil(
            lambda: canvas.guest_cursor is not None and canvas.guest_cursor.image is not None,
            timeout=TIMEOUT_MS,
        )
        shape = canvas.guest_cursor

        side = CURSOR_SHAPE.side
        assert (shape.image.width(), shape.image.height()) == (side, side)
        assert (shape.hotspot_x, shape.hotspot_y) == CURSOR_SHAPE.hotspot
        for (x, y), colour in CURSOR_SHAPE.quadrants:
            got = rgba(shape.image, x, y)
            if colour[3] == 0:
                assert got[3] == 0, f"({x}, {y}) should be transparent, is {got}"
            else:
                assert got == colour, f"({x}, {y}) should be {colour}, is {got}"

        qtbot.waitUntil(
            lambda: canvas.cursor().shape() == Qt.CursorShape.BitmapCursor, timeout=5000
        )
        scale = canvas.placement.scale
        pixmap = canvas.cursor().pixmap()
        assert abs(pixmap.width() - side * scale) <= 1
        hot = canvas.cursor().hotSpot()
        assert (hot.x(), hot.y()) == tuple(round(v * scale) for v in CURSOR_SHAPE.hotspot)
    finally:
        vmw.close()
