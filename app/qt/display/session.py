"""What a display widget needs from a remote-display protocol, whatever the protocol.

:class:`DisplaySession` is the seam between the widgets and a protocol: VNC today
(:class:`~app.qt.display.vnc.VncSession`), SPICE later, each turning its own protocol into
these signals and taking input through these methods. The widget paints :meth:`image`
— a QImage over the session's own pixel buffer, Format_RGB32 — where :attr:`damaged`
says the guest changed it, and never asks which protocol it talks to.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from app.core.rfb.protocol import MAX_FRAMEBUFFER_PIXELS, MAX_FRAMEBUFFER_SIDE


@dataclass(frozen=True)
class CursorImage:
    """The guest's pointer shape; ``image`` is None for "no pointer"."""

    image: QImage | None
    hotspot_x: int = 0
    hotspot_y: int = 0


class DisplaySession(QObject):
    """One live connection to a guest's display. Lives on the GUI thread.

    Coordinates are framebuffer pixels. Keys travel as QEMU scancodes ("qnum", see
    :mod:`app.core.rfb.keymap`) with an X keysym alongside for servers that only take
    keysyms; ``scancode`` may be None when the key has none.
    """

    #: The handshake is done: :meth:`image` is valid and input is taken.
    ready = Signal()
    #: (width, height): the framebuffer has a new size; :meth:`image` is a new QImage.
    resized = Signal(int, int)
    #: list[(x, y, w, h)]: what changed since the last signal (at most once per batch
    #: of frames read).
    damaged = Signal(list)
    #: CursorImage
    cursorChanged = Signal(object)
    #: bool: True when the guest has an absolute pointer (a tablet), False for a relative
    #: mouse that the widget must grab.
    pointerModeChanged = Signal(bool)
    #: The server wants a password (VNC authentication): answer with send_password().
    passwordRequired = Signal()
    bell = Signal()
    #: str: the connection ended; "" when this side closed it.
    closed = Signal(str)

    protocol = "none"
    #: Set when the server refused the password (the session then closes).
    auth_failed = False

    # Subclasses implement the rest.
    @property
    def width(self) -> int:
        raise NotImplementedError

    @property
    def height(self) -> int:
        raise NotImplementedError

    @property
    def absolute_pointer(self) -> bool:
        return True

    @property
    def takes_scancodes(self) -> bool:
        """Whether keys reach the guest as scancodes (else as keysyms alone)."""
        return True

    @property
    def is_open(self) -> bool:
        raise NotImplementedError

    def image(self) -> QImage:
        """A QImage over the current pixels (valid until the next :attr:`resized`). Ask
        again each time before reading it: a session may finish the pixels (VNC sets the
        X byte of Raw pixels read straight in) only when asked."""
        raise NotImplementedError

    def key(self, down: bool, keysym: int, scancode: int | None) -> None:
        raise NotImplementedError

    def pointer(self, x: int, y: int, buttons: int) -> None:
        """An absolute position in framebuffer pixels; ``buttons`` is the RFB mask
        (1 left, 2 middle, 4 right, 8/16 wheel up/down, 32/64 wheel left/right)."""
        raise NotImplementedError

    def relative_pointer(self, dx: int, dy: int, buttons: int) -> None:
        raise NotImplementedError

    def send_password(self, password: str) -> None:
        raise NotImplementedError

    @property
    def resize_hint(self) -> str:
        """Why the guest's resolution does not follow the view, in a few words for a menu;
        empty where it does (or may yet)."""
        return "This display cannot change the guest's resolution"

    def set_preferred_size(self, width: int, height: int) -> None:
        """The guest resolution, in device pixels, that would fill the view. Protocols
        that can ask the guest for it do (SPICE through its agent, VNC with
        SetDesktopSize); others ignore it."""

    def clear_preferred_size(self) -> None:
        """Ask nothing more of the guest's resolution (the person turned following off);
        the guest keeps the one it has."""

    def close(self) -> None:
        raise NotImplementedError


#: The smallest resolution asked of a guest, and the largest by default (the VNC
#: framebuffer's caps, see :mod:`app.core.rfb.framebuffer`).
MIN_WIDTH, MIN_HEIGHT = 320, 200
MAX_SIZE = (MAX_FRAMEBUFFER_SIDE, MAX_FRAMEBUFFER_SIDE)
MAX_PIXELS = MAX_FRAMEBUFFER_PIXELS


def guest_resolution(
    width: float, height: float, largest: tuple[int, int] = MAX_SIZE
) -> tuple[int, int]:
    """The resolution to ask of a guest for a view of ``width`` x ``height`` device
    pixels: the view's, at least the smallest, and shrunk to fit within ``largest`` and
    :data:`MAX_PIXELS` with the view's shape kept (a guest shown scaled then fills the
    view's width or height, with no bars on both)."""
    w, h = max(1.0, float(width)), max(1.0, float(height))
    shrink = min(1.0, largest[0] / w, largest[1] / h, math.sqrt(MAX_PIXELS / (w * h)))
    return (
        min(max(MIN_WIDTH, int(w * shrink)), largest[0]),
        min(max(MIN_HEIGHT, int(h * shrink)), largest[1]),
    )


#: More changed rectangles than this in one batch are reported as their bounding box: one
#: repaint of a region is cheaper than hundreds of small ones.
MAX_DAMAGE_RECTS = 256

Rect = tuple[int, int, int, int]


def coalesce_damage(rects: list[Rect]) -> list[Rect]:
    """``rects`` with each one that continues the one before straight downwards (same
    columns: the bands of rows a Raw rectangle arrives in) joined to it, or their bounding
    box when there are still too many."""
    joined: list[Rect] = []
    for r in rects:
        if joined:
            x, y, w, h = joined[-1]
            if r[0] == x and r[2] == w and r[1] == y + h:
                joined[-1] = (x, y, w, h + r[3])
                continue
        joined.append(r)
    if len(joined) <= MAX_DAMAGE_RECTS:
        return joined
    x0 = min(r[0] for r in joined)
    y0 = min(r[1] for r in joined)
    x1 = max(r[0] + r[2] for r in joined)
    y1 = max(r[1] + r[3] for r in joined)
    return [(x0, y0, x1 - x0, y1 - y0)]
