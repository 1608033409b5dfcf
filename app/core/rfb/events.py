"""The events :meth:`RFBClient.receive_data` returns: plain frozen dataclasses.

Pixel data is always in the client pixel format: 4 bytes a pixel, B, G, R, X, rows packed
(stride = width * 4). The X byte is undefined in :class:`RectPixels` (servers usually send
0); :class:`~app.core.rfb.framebuffer.Framebuffer` writes it as 0xFF. Rectangle events
always lie inside the framebuffer as it stands after the events before them: the client
checks that before it emits one. Apply them in order; a later :class:`CopyRect` may read
what an earlier rectangle (a :class:`JpegRect` too) wrote.

:class:`ProtocolError` and :class:`AuthFailed` are terminal: the client accepts no more
input after either, and the connection should be closed.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.core.rfb.protocol import PixelFormat

#: Read-only pixel bytes: ``bytes``, or a ``memoryview`` over immutable bytes (zero-copy
#: slices of what was passed to ``receive_data``). Either can be given to QImage or NumPy.
Pixels = bytes | bytearray | memoryview


class Event:
    """Base class of everything the client reports."""

    __slots__ = ()


# --- Connection life ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ServerInit(Event):
    """The handshake is done. ``pixel_format`` is the server's own; the client has already
    queued a SetPixelFormat for :data:`~app.core.rfb.protocol.CLIENT_PIXEL_FORMAT`."""

    width: int
    height: int
    name: str
    pixel_format: PixelFormat
    version: tuple[int, int]


@dataclass(frozen=True, slots=True)
class AuthRequired(Event):
    """The server wants VNC authentication and no password was given: call
    :meth:`RFBClient.send_password`."""


@dataclass(frozen=True, slots=True)
class AuthFailed(Event):
    """Authentication failed or the server refused the connection (terminal)."""

    reason: str


@dataclass(frozen=True, slots=True)
class ProtocolError(Event):
    """The server broke the protocol, or sent something over a limit (terminal)."""

    reason: str


# --- Framebuffer updates -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RectPixels(Event):
    """Pixels for a rectangle: ``width * height * 4`` bytes, B, G, R, X."""

    x: int
    y: int
    width: int
    height: int
    pixels: Pixels


@dataclass(frozen=True, slots=True)
class FillRect(Event):
    """A rectangle of one colour; ``pixel`` is 4 bytes B, G, R, 0xFF."""

    x: int
    y: int
    width: int
    height: int
    pixel: bytes


@dataclass(frozen=True, slots=True)
class CopyRect(Event):
    """Copy the ``width`` x ``height`` area at (``src_x``, ``src_y``) to (``x``, ``y``).
    Source and destination may overlap; copy as if through a temporary."""

    x: int
    y: int
    width: int
    height: int
    src_x: int
    src_y: int


@dataclass(frozen=True, slots=True)
class JpegRect(Event):
    """A Tight JPEG rectangle: ``data`` is a complete JPEG image of ``width`` x
    ``height`` for the Qt layer to decode and blit (core has no image library)."""

    x: int
    y: int
    width: int
    height: int
    data: bytes


@dataclass(frozen=True, slots=True)
class UpdateEnd(Event):
    """The last rectangle of a FramebufferUpdate has arrived: repaint now."""


@dataclass(frozen=True, slots=True)
class ScreenLayout:
    """One screen of an ExtendedDesktopSize layout."""

    id: int
    x: int
    y: int
    width: int
    height: int
    flags: int


@dataclass(frozen=True, slots=True)
class DesktopResized(Event):
    """The framebuffer has a new size (DesktopSize or ExtendedDesktopSize). The content
    is undefined until the server repaints; the client asks for a full update."""

    width: int
    height: int
    screens: tuple[ScreenLayout, ...] = ()


@dataclass(frozen=True, slots=True)
class DesktopSizeStatus(Event):
    """The server's answer to a SetDesktopSize the client sent (ExtendedDesktopSize with
    reason 1). ``status`` 0 is success; 1 prohibited, 2 out of resources, 3 invalid
    layout (QEMU's answer when the display device cannot change resolution), 4 handed on
    (QEMU: to the display device, the guest may follow). A success also comes with a
    :class:`DesktopResized`."""

    status: int


# --- Pseudo-encodings and other server messages ------------------------------------------


@dataclass(frozen=True, slots=True)
class CursorShape(Event):
    """A new pointer shape. ``pixels`` is ``width * height * 4`` bytes of premultiplied
    ARGB32 (B, G, R, A; A is 0 or 255 and transparent pixels are all zero), ready for
    QImage.Format_ARGB32_Premultiplied or Format_ARGB32. ``mask`` is the server's
    1-bit-a-pixel mask, rows padded to a byte. A 0x0 shape means "no cursor"."""

    width: int
    height: int
    hotspot_x: int
    hotspot_y: int
    pixels: bytes
    mask: bytes


@dataclass(frozen=True, slots=True)
class PointerModeChanged(Event):
    """QEMU Pointer Motion Change: ``absolute`` True for a tablet, False for a relative
    mouse (send :meth:`RFBClient.relative_pointer_event` and grab the pointer)."""

    absolute: bool


@dataclass(frozen=True, slots=True)
class ExtendedKeyEventSupported(Event):
    """The server takes QEMU Extended Key Events: keys can go as scancodes."""


@dataclass(frozen=True, slots=True)
class LedState(Event):
    """QEMU LED state of the guest's keyboard."""

    scroll_lock: bool
    num_lock: bool
    caps_lock: bool


@dataclass(frozen=True, slots=True)
class DesktopNameChanged(Event):
    name: str


@dataclass(frozen=True, slots=True)
class Bell(Event):
    pass


@dataclass(frozen=True, slots=True)
class ServerCutText(Event):
    """Clipboard text from the server (Latin-1 on the wire). ``truncated`` says the
    server sent more than :data:`~app.core.rfb.protocol.MAX_CUT_TEXT` bytes."""

    text: str
    truncated: bool = False


#: Events after which the client takes no more input.
TERMINAL_EVENTS = (ProtocolError, AuthFailed)
#: Events that change framebuffer pixels.
RECT_EVENTS = (RectPixels, FillRect, CopyRect, JpegRect)
