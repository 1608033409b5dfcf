"""VNC in the display seam: :class:`~app.core.rfb.RFBClient` fed by a
:class:`~app.qt.display.transport.SocketTransport`, painting into a
:class:`~app.core.rfb.Framebuffer` that a QImage maps without a copy.

Everything runs on the GUI thread: the parser's costly paths are vectorised, and a local
socket delivers at most a few dozen frames a second, so a thread would buy little and cost
a lock around the framebuffer the widget paints from.

Raw rectangles (what QEMU sends on a local socket) are read from the socket straight into
the framebuffer, or through a scratch buffer when narrower than the screen
(:mod:`app.core.rfb.direct`): no copy of the read, no parse, and a few lines of Python per
read. A libvirt graphics socket hands over at most about 212 KB a read (the socket's
default send buffer), so a 1080p frame takes some 40 of them.

The guest's resolution follows the view where the server can ask the guest
(ExtendedDesktopSize's SetDesktopSize): QEMU hands the size to a display device that takes
one as the monitor's new preferred mode (virtio GPU), which a guest's desktop then sets,
and answers "invalid screen layout" for one that cannot (standard VGA), after which the
session stops asking. QXL takes the size too, but heeds it only through the SPICE agent.
A window being dragged asks once it rests; a view larger than QEMU serves asks for
:data:`MAX_REQUEST` at most, in the view's shape.
"""

from __future__ import annotations

import logging
import socket
import time

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QImage

from app.core.rfb import Framebuffer, RFBClient, RFBOptions, events
from app.core.rfb.client import COMPRESSED_ENCODINGS, LOCAL_ENCODINGS
from app.core.rfb.direct import RawReader
from app.qt.display.session import (
    CursorImage,
    DisplaySession,
    coalesce_damage,
    guest_resolution,
)
from app.qt.display.transport import SocketTransport

log = logging.getLogger(__name__)

#: Past this many damaged rectangles in one batch, report their bounding box instead.
#: While one framebuffer update is still arriving (a slow link), show what came at most
#: this often; a finished update is shown at once.
PARTIAL_DAMAGE_S = 1 / 30
#: A view being resized asks the guest for its size once it has rested this long.
RESIZE_SETTLE_MS = 250
#: The largest resolution asked of a guest over VNC: QEMU's VNC server (7.2, Debian 12's;
#: raised only in QEMU 9.1) serves at most 2560x2048 (VNC_MAX_WIDTH/HEIGHT) and crops a
#: larger guest screen, pointer positions included, so a larger view is shown scaled.
MAX_REQUEST = (2560, 2048)
#: ExtendedDesktopSize answers that mean the server does what it was asked, or handed it
#: on (4: QEMU forwards it to the display device; the guest may or may not follow).
_RESIZE_TAKEN = (0, 4)
_RESIZE_ANSWERS = {
    1: "resizing is prohibited",
    2: "out of resources",
    3: "the display device cannot change resolution",
}


def local_options(password: str | None = None) -> RFBOptions:
    """For libvirt's graphics fd (a local socket): Raw costs the least CPU on both ends."""
    return RFBOptions(password=password, encodings=LOCAL_ENCODINGS)


def remote_options(password: str | None = None) -> RFBOptions:
    """For TCP or a tunnel, where bandwidth matters: Tight with JPEG first."""
    return RFBOptions(password=password, encodings=COMPRESSED_ENCODINGS, jpeg_quality=7)


class VncSession(DisplaySession):
    """A VNC connection over an already connected socket."""

    protocol = "vnc"

    def __init__(
        self,
        sock: socket.socket,
        options: RFBOptions | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.client = RFBClient(options or local_options())
        self.framebuffer = Framebuffer()
        self._image = QImage()
        self._damage: list[tuple[int, int, int, int]] = []
        self._damage_reported = 0.0
        self._ready = False
        self._close_reason: str | None = None
        self._raw_reader = RawReader()
        self._wanted_size: tuple[int, int] | None = None
        self._asked_size: tuple[int, int] | None = None
        #: The server said it cannot change the guest's resolution: stop asking.
        self.resize_refused = False
        self._resize_timer = QTimer(self)
        self._resize_timer.setSingleShot(True)
        self._resize_timer.setInterval(RESIZE_SETTLE_MS)
        self._resize_timer.timeout.connect(self._ask_size)
        #: Counters for status displays and benchmarks.
        self.frames = 0
        self.pixels_updated = 0
        self.transport = SocketTransport(sock, self, self)

    # -- DisplaySession --------------------------------------------------------------------
    @property
    def width(self) -> int:
        return self.framebuffer.width

    @property
    def height(self) -> int:
        return self.framebuffer.height

    @property
    def absolute_pointer(self) -> bool:
        return self.client.absolute_pointer

    @property
    def extended_keys(self) -> bool:
        return self.client.extended_keys

    @property
    def takes_scancodes(self) -> bool:
        return self.client.extended_keys

    @property
    def is_open(self) -> bool:
        return self.transport.is_open

    def image(self) -> QImage:
        self.framebuffer.settle()  # Raw pixels read straight in get their X byte now
        return self._image

    def key(self, down: bool, keysym: int, scancode: int | None) -> None:
        self.client.key(down, keysym, scancode)
        self._flush()

    def pointer(self, x: int, y: int, buttons: int) -> None:
        self.client.pointer_event(x, y, buttons)
        self._flush()

    def relative_pointer(self, dx: int, dy: int, buttons: int) -> None:
        self.client.relative_pointer_event(dx, dy, buttons)
        self._flush()

    def send_password(self, password: str) -> None:
        self._handle(self.client.send_password(password))
        self._flush()

    @property
    def resize_hint(self) -> str:
        if self.resize_refused:
            return "This guest's video card cannot change resolution"
        return ""

    def set_preferred_size(self, width: int, height: int) -> None:
        self._wanted_size = guest_resolution(width, height, MAX_REQUEST)
        self._resize_timer.start()

    def clear_preferred_size(self) -> None:
        self._resize_timer.stop()
        self._wanted_size = None

    def close(self) -> None:
        self._resize_timer.stop()
        self.transport.close()

    # -- StreamProtocol ----------------------------------------------------------------------
    def data_received(self, data: bytes) -> None:
        self._handle(self.client.receive_data(data))
        self._flush()

    def get_buffer(self) -> memoryview | None:
        """Where the next read goes while the parser waits for Raw rows (see
        :mod:`app.core.rfb.direct`); None: the read is parsed."""
        return self._raw_reader.buffer(self.client, self.framebuffer)

    def buffer_updated(self, nbytes: int) -> None:
        rect, evs = self._raw_reader.commit(self.client, self.framebuffer, nbytes)
        if rect is None:
            return
        self._damage.append(rect)
        self.pixels_updated += rect[2] * rect[3]
        if evs:  # the rectangle is complete: what follows it
            self._handle(evs)
            self._flush()
        else:
            self._report_damage(False)

    def connection_lost(self, reason: str | None) -> None:
        self.client.close(reason or "closed")
        reason = self._close_reason or reason or ""
        self.closed.emit(reason)

    # -- internals ------------------------------------------------------------------------------
    def _flush(self) -> None:
        out = self.client.data_to_send()
        if out:
            self.transport.send(out)

    def _handle(self, evs: list[events.Event]) -> None:
        fb = self.framebuffer
        ended = False
        for ev in evs:
            kind = type(ev)
            if kind is events.RectPixels or kind is events.FillRect or kind is events.CopyRect:
                fb.apply(ev)
                self._damage.append((ev.x, ev.y, ev.width, ev.height))
                self.pixels_updated += ev.width * ev.height
            elif kind is events.UpdateEnd:
                self.frames += 1
                ended = True
            elif kind is events.JpegRect:
                if not self._jpeg(ev):
                    return
            elif kind is events.DesktopResized:
                self._resize(ev.width, ev.height)
                if self._wanted_size != self._asked_size:  # now the server may take it
                    self._resize_timer.start()
            elif kind is events.DesktopSizeStatus:
                self._size_answered(ev.status)
            elif kind is events.ServerInit:
                self._resize(ev.width, ev.height)
                self._ready = True
                log.info("VNC %s: %dx%d, RFB %d.%d", ev.name, ev.width, ev.height, *ev.version)
                self.ready.emit()
            elif kind is events.CursorShape:
                self.cursorChanged.emit(_cursor(ev))
            elif kind is events.PointerModeChanged:
                self.pointerModeChanged.emit(ev.absolute)
            elif kind is events.AuthRequired:
                self.passwordRequired.emit()
            elif kind is events.Bell:
                self.bell.emit()
            elif kind is events.AuthFailed or kind is events.ProtocolError:
                self.auth_failed = kind is events.AuthFailed
                self._close_reason = ev.reason
                log.warning("VNC connection ended: %s", ev.reason)
                self.transport.close()
                return
        self._report_damage(ended)

    def _ask_size(self) -> None:
        wanted = self._wanted_size
        if wanted is None or wanted == self._asked_size or self.resize_refused:
            return
        if not self.transport.is_open or not self.client.set_desktop_size(*wanted):
            return  # not yet: asked again when the server says it can take sizes
        self._asked_size = wanted
        log.debug("VNC: asked the guest for %dx%d", *wanted)
        self._flush()

    def _size_answered(self, status: int) -> None:
        if status in _RESIZE_TAKEN:
            return
        self.resize_refused = True
        log.info(
            "VNC: the guest's resolution cannot follow the window (the server answered %d:"
            " %s); the picture is scaled instead",
            status,
            _RESIZE_ANSWERS.get(status, "unknown"),
        )

    def _report_damage(self, update_ended: bool) -> None:
        """Say what changed once a framebuffer update is complete — one repaint per update,
        not one per socket read (a 1080p Raw update arrives in dozens of reads) — and, while
        a long update is still arriving, at most every :data:`PARTIAL_DAMAGE_S`."""
        damage = self._damage
        if not damage or not self.transport.is_open:
            return
        now = time.monotonic()
        if not update_ended and now - self._damage_reported < PARTIAL_DAMAGE_S:
            return
        self._damage_reported = now
        self._damage = []
        self.damaged.emit(coalesce_damage(damage))

    def _resize(self, width: int, height: int) -> None:
        self._image = QImage()  # never left pointing at the buffer about to be replaced
        self.framebuffer.resize(width, height)
        fb = self.framebuffer
        if width and height:
            self._image = QImage(fb.data, width, height, fb.stride, QImage.Format.Format_RGB32)
        self._damage = [(0, 0, width, height)]
        self.resized.emit(width, height)

    def _jpeg(self, ev: events.JpegRect) -> bool:
        img = QImage.fromData(ev.data, "JPEG")
        if img.isNull() or (img.width(), img.height()) != (ev.width, ev.height):
            self._close_reason = "the server sent a JPEG rectangle that does not decode"
            self.transport.close()
            return False
        img = img.convertToFormat(QImage.Format.Format_RGB32)
        self.framebuffer.put_pixels(
            ev.x, ev.y, ev.width, ev.height, img.constBits(), img.bytesPerLine()
        )
        self._damage.append((ev.x, ev.y, ev.width, ev.height))
        self.pixels_updated += ev.width * ev.height
        return True


def _cursor(ev: events.CursorShape) -> CursorImage:
    if not ev.width or not ev.height:
        return CursorImage(None)
    img = QImage(
        ev.pixels, ev.width, ev.height, ev.width * 4, QImage.Format.Format_ARGB32_Premultiplied
    ).copy()
    return CursorImage(img, ev.hotspot_x, ev.hotspot_y)
