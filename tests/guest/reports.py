"""What the test guest reports on its serial port, line by line: the prefix each of its
programs starts a report line with (filled into its /init, and known to its C programs),
and the parsers the tests read the serial log with. A line still being written (no newline
yet) is left for the next read.
"""

from __future__ import annotations

from dataclasses import dataclass

#: The start of each serial line that reports one event of the virtio tablet.
POINTER_PREFIX = "nido-ptr"
#: The absolute axes of QEMU's tablets run from 0 to this, over the whole framebuffer.
TABLET_MAX = 0x7FFF
#: The start of each serial line the guest's SPICE agent writes.
AGENT_PREFIX = "nido-agent"
#: The start of each serial line nido-drm writes about the monitor's mode: "preferred WxH"
#: when the preferred mode changed, then "set WxH" once it shows it (or "failed: why").
MODE_PREFIX = "nido-mode"
#: The start of each serial line that reports a USB device or disc coming or going.
USB_PREFIX = "nido-usb"

#: ``struct input_event`` types and codes the tablet reports (linux/input-event-codes.h).
EV_SYN, EV_KEY, EV_ABS = 0, 1, 3
ABS_X, ABS_Y = 0, 1
BTN_LEFT = 0x110


def _prefixed_lines(serial: bytes, prefix: str) -> list[str]:
    """The serial lines that carry ``prefix``, oldest first, each without it."""
    mark = prefix.encode() + b" "
    lines = []
    for line in serial.split(b"\n")[:-1]:
        at = line.find(mark)
        if at >= 0:
            lines.append(line[at + len(mark) :].decode(errors="replace").strip())
    return lines


def pointer_events(serial: bytes) -> list[tuple[int, int, int]]:
    """The tablet events (type, code, value) in a serial log, oldest first."""
    events = []
    for line in _prefixed_lines(serial, POINTER_PREFIX):
        try:
            kind, code, value = (int(f) for f in line.split())
        except ValueError:  # not three numbers: another writer's text got in the way
            continue
        events.append((kind, code, value))
    return events


def agent_lines(serial: bytes) -> list[str]:
    """What the guest's SPICE agent reported, oldest first, each line without its prefix
    (``monitors 1 1000x700+0+0``, ``host-text 6869``, ...)."""
    return _prefixed_lines(serial, AGENT_PREFIX)


def mode_lines(serial: bytes) -> list[str]:
    """What the guest's DRM client said about the monitor's mode, oldest first, without
    its prefix (``preferred 1000x640``, ``set 1000x640``)."""
    return _prefixed_lines(serial, MODE_PREFIX)


@dataclass(frozen=True)
class UsbEvent:
    """One line of the guest's USB report: a USB device (``ident`` is its
    ``vvvv:pppp``, ``where`` its sysfs name such as ``1-1``, ``text`` its product string)
    or a SCSI disc (``ident`` is ``"block"``, ``where`` its name such as ``sr0``, ``text``
    its size in 512-byte sectors) that was added or removed (``action``)."""

    action: str
    ident: str
    where: str
    text: str = ""


def usb_events(serial: bytes) -> list[UsbEvent]:
    """The USB devices and discs that came and went in the guest, oldest first."""
    events = []
    for line in _prefixed_lines(serial, USB_PREFIX):
        fields = line.split(" ", 3)
        if len(fields) >= 3 and fields[0] in ("add", "remove"):
            events.append(UsbEvent(*fields))
    return events
