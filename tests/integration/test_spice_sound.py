"""The guest's sound, from real QEMU to Nido, over SPICE.

The guest has an HD Audio card and plays noise on it without pause; libvirt gives the card
SPICE's audio back-end. The VM window opens the guest as a person would, and:

- the playback channel is connected and the guest's sound arrives (more than a second of
  it: the guest plays 8,000 bytes a second);
- the record channel (the guest's microphone input) is never connected: Nido does not
  open the host's microphone unasked.

Whether the sound is heard depends on the desktop's GStreamer output, which this machine
lacks; spice-client-glib then says so on stderr and drops the samples.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from app.qt.display.spice_gi import load
from tests.guest import accelerator, domain_xml, linux_guest
from tests.guest.linux import SOUND_MARKER
from tests.integration.guest_window import start_in_vm_window
from tests.integration.test_display import in_serial

pytestmark = pytest.mark.integration

TIMEOUT_MS = 60_000


@pytest.mark.qt_log_ignore("This plugin does not support grabbing the (keyboard|mouse)")
def test_the_guests_sound_arrives_and_the_microphone_stays_closed(
    this_computer, qtbot, tmp_path: Path
) -> None:
    serial = tmp_path / "serial.log"
    xml = domain_xml(
        "nido-it-spice-sound",
        linux_guest(),
        accelerator(),
        serial_log=serial,
        graphics="spice",
        sound=True,
    )
    vmw, _dom = start_in_vm_window(this_computer, qtbot, xml, serial)
    try:
        qtbot.waitUntil(lambda: in_serial(serial, SOUND_MARKER), timeout=TIMEOUT_MS)
        session = vmw.display.canvas.session
        assert session.protocol == "spice"
        qtbot.waitUntil(lambda: session.sound_bytes > 8000, timeout=TIMEOUT_MS)
        channels = session._channels
        record = [c for c in channels if isinstance(c, load()[1].RecordChannel)]
        assert record, "the guest's card offers input: a record channel should exist"
        assert all(c.props.total_read_bytes == 0 and c.props.socket is None for c in record)
        print(f"\nsound received: {session.sound_bytes} bytes")
    finally:
        vmw.close()
