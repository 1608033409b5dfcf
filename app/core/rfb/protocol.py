"""RFB wire vocabulary: message types, encodings, security types, the pixel format record,
the limits that bound what a server can make the client allocate, and the one exception
type the parser raises internally (it never leaves :class:`~app.core.rfb.client.RFBClient`).
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass


class ProtocolViolation(Exception):
    """Raised inside the parser for anything a server got wrong; the client turns it into a
    :class:`~app.core.rfb.events.ProtocolError` event and closes."""


class Encoding(enum.IntEnum):
    """Rectangle encodings and pseudo-encodings (RFC 6143 section 7.7 and the community
    registry). Pseudo-encodings have negative numbers."""

    RAW = 0
    COPY_RECT = 1
    RRE = 2
    HEXTILE = 5
    ZLIB = 6
    TIGHT = 7
    ZRLE = 16
    JPEG_QUALITY_0 = -32  # ... -23 for quality 9 (Tight JPEG)
    DESKTOP_SIZE = -223
    LAST_RECT = -224
    CURSOR = -239
    COMPRESS_LEVEL_0 = -256  # ... -247 for level 9
    QEMU_POINTER_MOTION_CHANGE = -257
    QEMU_EXTENDED_KEY_EVENT = -258
    QEMU_AUDIO = -259
    QEMU_LED_STATE = -261
    DESKTOP_NAME = -307
    EXTENDED_DESKTOP_SIZE = -308


def jpeg_quality_encoding(level: int) -> int:
    """The Tight JPEG quality pseudo-encoding for ``level`` 0 (worst) to 9 (best)."""
    if not 0 <= level <= 9:
        raise ValueError(f"JPEG quality level must be 0-9, not {level}")
    return Encoding.JPEG_QUALITY_0 + level


def compress_level_encoding(level: int) -> int:
    """The compression-level pseudo-encoding for ``level`` 0 (fastest) to 9 (smallest)."""
    if not 0 <= level <= 9:
        raise ValueError(f"compression level must be 0-9, not {level}")
    return Encoding.COMPRESS_LEVEL_0 + level


class SecurityType(enum.IntEnum):
    INVALID = 0
    NONE = 1
    VNC_AUTH = 2


class ServerMessage(enum.IntEnum):
    FRAMEBUFFER_UPDATE = 0
    SET_COLOUR_MAP_ENTRIES = 1
    BELL = 2
    SERVER_CUT_TEXT = 3


class ClientMessage(enum.IntEnum):
    SET_PIXEL_FORMAT = 0
    SET_ENCODINGS = 2
    FRAMEBUFFER_UPDATE_REQUEST = 3
    KEY_EVENT = 4
    POINTER_EVENT = 5
    CLIENT_CUT_TEXT = 6
    SET_DESKTOP_SIZE = 251
    QEMU = 255


#: QEMU client message 255 sub-types.
QEMU_EXTENDED_KEY_EVENT_SUBTYPE = 0

#: Pointer button-mask bits (QEMU also maps bits 5 and 6 to horizontal wheel).
BUTTON_LEFT = 1 << 0
BUTTON_MIDDLE = 1 << 1
BUTTON_RIGHT = 1 << 2
WHEEL_UP = 1 << 3
WHEEL_DOWN = 1 << 4
WHEEL_LEFT = 1 << 5
WHEEL_RIGHT = 1 << 6

#: In QEMU's relative pointer mode (after a Pointer Motion Change to relative), a pointer
#: event carries ``RELATIVE_POINTER_CENTRE + delta`` on each axis.
RELATIVE_POINTER_CENTRE = 0x7FFF


# --- Limits ------------------------------------------------------------------------------
#
# What a server can make the client allocate is bounded by these numbers. The framebuffer
# is the largest thing: at most MAX_FRAMEBUFFER_PIXELS pixels of 4 bytes (128 MiB), and no
# side longer than MAX_FRAMEBUFFER_SIDE. 7680x4320 (8K UHD) fits. Every other buffer is
# bounded by the rectangle it belongs to, which lies inside the framebuffer.

MAX_FRAMEBUFFER_SIDE = 16384
MAX_FRAMEBUFFER_PIXELS = 32 * 1024 * 1024
#: The largest cursor shape accepted (a side); larger ones close the connection.
MAX_CURSOR_SIDE = 512
#: Cut text beyond this many bytes is read and dropped; the event says it was truncated.
MAX_CUT_TEXT = 1024 * 1024
#: Desktop names and failure reasons beyond this many bytes are read and dropped.
MAX_SHORT_STRING = 4096


def check_framebuffer_size(
    width: int,
    height: int,
    max_side: int = MAX_FRAMEBUFFER_SIDE,
    max_pixels: int = MAX_FRAMEBUFFER_PIXELS,
) -> None:
    """Raise :class:`ProtocolViolation` if a framebuffer of this size is over the caps."""
    if width > max_side or height > max_side or width * height > max_pixels:
        raise ProtocolViolation(
            f"framebuffer size {width}x{height} is over the limit "
            f"({max_side} a side, {max_pixels} pixels)"
        )


@dataclass(frozen=True, slots=True)
class PixelFormat:
    """The 16-byte PIXEL_FORMAT record of RFC 6143 section 7.4."""

    bits_per_pixel: int
    depth: int
    big_endian: bool
    true_colour: bool
    red_max: int
    green_max: int
    blue_max: int
    red_shift: int
    green_shift: int
    blue_shift: int

    _STRUCT = struct.Struct(">BBBBHHHBBB3x")

    def pack(self) -> bytes:
        return self._STRUCT.pack(
            self.bits_per_pixel,
            self.depth,
            int(self.big_endian),
            int(self.true_colour),
            self.red_max,
            self.green_max,
            self.blue_max,
            self.red_shift,
            self.green_shift,
            self.blue_shift,
        )

    @classmethod
    def unpack(cls, data: bytes | memoryview) -> PixelFormat:
        bpp, depth, be, tc, rm, gm, bm, rs, gs, bs = cls._STRUCT.unpack(data)
        return cls(bpp, depth, be != 0, tc != 0, rm, gm, bm, rs, gs, bs)


#: The one pixel format the client asks for: 32 bits, little-endian, true colour, red at
#: bit 16, green at 8, blue at 0. In memory each pixel is the bytes B, G, R, X, which is
#: QImage.Format_RGB32 (and ARGB32 once X is 0xFF) on a little-endian machine. Tight and
#: ZRLE then send 3-byte pixels (Tight as R, G, B; ZRLE as B, G, R).
CLIENT_PIXEL_FORMAT = PixelFormat(
    bits_per_pixel=32,
    depth=24,
    big_endian=False,
    true_colour=True,
    red_max=255,
    green_max=255,
    blue_max=255,
    red_shift=16,
    green_shift=8,
    blue_shift=0,
)
