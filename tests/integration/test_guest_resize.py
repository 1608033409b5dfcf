"""The guest's resolution following the VM window over VNC, on real QEMU.

The guest has a virtio GPU, and its DRM client (tests/guest/drm_client.c) sets the
monitor's preferred mode whenever it changes, as a desktop session does. The VM window
opens the guest as a person would; then the person makes the window smaller, and larger:

- the console asks for the view's size, and QEMU hands it to the virtio GPU: over VNC as
  SetDesktopSize; over SPICE as a monitor config, which spice-client-glib sends only
  while the guest's agent runs, and which the SPICE server then gives the display device,
  not the agent. The guest sets that mode, and the display becomes exactly the view's
  size: the picture is shown 1:1, unscaled;
- what the guest draws in the new mode reaches the widget (its fill colour, at the centre).

A standard VGA, which cannot follow, is covered by test_display's live console test.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.exceptions import TimeoutError as WaitTimeout

from tests.guest import accelerator, domain_xml, linux_guest
from tests.guest.linux import CURSOR_MARKER, MODE_COLOUR
from tests.guest.reports import mode_lines
from tests.integration.guest_window import start_in_vm_window
from tests.integration.test_display import in_serial

pytestmark = pytest.mark.integration

TIMEOUT_MS = 60_000


def _follows(qtbot, view, serial: Path) -> tuple[int, int]:
    """Wait until the guest shows the view's size; returns that size."""
    session = view.canvas.session
    want = view.area.view_size()
    w, h = want
    try:
        qtbot.waitUntil(lambda: (session.width, session.height) == want, timeout=TIMEOUT_MS)
    except WaitTimeout:
        raise AssertionError(
            f"the guest stayed at {session.width}x{session.height}, not {w}x{h}; it said "
            f"{mode_lines(serial.read_bytes())}"
        ) from None
    # The size shows as soon as the mode is set; the guest says so a moment later.
    qtbot.waitUntil(lambda: f"set {w}x{h}" in mode_lines(serial.read_bytes()), timeout=10_000)
    return want


@pytest.mark.qt_log_ignore("This plugin does not support grabbing the (keyboard|mouse)")
@pytest.mark.parametrize("protocol", ["vnc", "spice"])
def test_the_guest_resolution_follows_the_window(
    this_computer, qtbot, tmp_path: Path, protocol: str
) -> None:
    serial = tmp_path / "serial.log"
    xml = domain_xml(
        f"nido-it-resize-{protocol}",
        linux_guest(),
        accelerator(),
        serial_log=serial,
        video="virtio",
        graphics=protocol,
        spice_agent=protocol == "spice",
    )
    vmw, _dom = start_in_vm_window(this_computer, qtbot, xml, serial, size=(1000, 720))
    view = vmw.display
    canvas = view.canvas
    try:
        # The guest's DRM client runs (and has noted the preferred mode it started with).
        qtbot.waitUntil(lambda: in_serial(serial, CURSOR_MARKER), timeout=TIMEOUT_MS)
        session = canvas.session
        assert session.protocol == protocol
        for size in ((840, 600), (1100, 780)):
            vmw.resize(*size)
            w, h = _follows(qtbot, view, serial)
            assert not getattr(session, "resize_refused", False)  # VNC's server said no
            assert canvas.placement.scale == 1.0  # shown 1:1, filling the view
            image = session.image()
            assert (image.width(), image.height()) == (w, h)
            qtbot.waitUntil(
                lambda i=image, x=w // 2, y=h // 2: i.pixelColor(x, y).getRgb()[:3] == MODE_COLOUR,
                timeout=TIMEOUT_MS,
            )
    finally:
        vmw.close()
