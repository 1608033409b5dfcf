"""Encoders for client-to-server messages (RFC 6143 section 7.5 plus the QEMU and
ExtendedDesktopSize extensions). Pure functions from values to bytes; they check ranges
so a bad caller gets a ValueError here rather than a corrupt stream on the wire.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence

from app.core.rfb.events import ScreenLayout
from app.core.rfb.protocol import (
    QEMU_EXTENDED_KEY_EVENT_SUBTYPE,
    ClientMessage,
    PixelFormat,
)


def _u16(value: int, what: str) -> int:
    if not 0 <= value <= 0xFFFF:
        raise ValueError(f"{what} {value} is out of range 0-65535")
    return value


def set_pixel_format(pf: PixelFormat) -> bytes:
    return struct.pack(">B3x", ClientMessage.SET_PIXEL_FORMAT) + pf.pack()


def set_encodings(encodings: Sequence[int]) -> bytes:
    if len(encodings) > 0xFFFF:
        raise ValueError("too many encodings")
    return struct.pack(
        f">BxH{len(encodings)}i", ClientMessage.SET_ENCODINGS, len(encodings), *encodings
    )


def framebuffer_update_request(incremental: bool, x: int, y: int, w: int, h: int) -> bytes:
    return struct.pack(
        ">BBHHHH",
        ClientMessage.FRAMEBUFFER_UPDATE_REQUEST,
        int(incremental),
        _u16(x, "x"),
        _u16(y, "y"),
        _u16(w, "width"),
        _u16(h, "height"),
    )


def key_event(keysym: int, down: bool) -> bytes:
    return struct.pack(">BB2xI", ClientMessage.KEY_EVENT, int(down), keysym & 0xFFFFFFFF)


def qemu_extended_key_event(keysym: int, keycode: int, down: bool) -> bytes:
    """QEMU Extended Key Event: ``keycode`` is the XT scancode, with 0xE0-prefixed keys
    as 0x80 | code (QEMU's "qnum")."""
    return struct.pack(
        ">BBHII",
        ClientMessage.QEMU,
        QEMU_EXTENDED_KEY_EVENT_SUBTYPE,
        int(down),
        keysym & 0xFFFFFFFF,
        keycode & 0xFFFFFFFF,
    )


def pointer_event(x: int, y: int, buttons: int) -> bytes:
    return struct.pack(
        ">BBHH", ClientMessage.POINTER_EVENT, buttons & 0xFF, _u16(x, "x"), _u16(y, "y")
    )


def client_cut_text(text: str) -> bytes:
    """Clipboard text; RFB carries Latin-1, so other characters become '?'."""
    data = text.encode("latin-1", "replace")
    return struct.pack(">B3xI", ClientMessage.CLIENT_CUT_TEXT, len(data)) + data


def set_desktop_size(width: int, height: int, screens: Iterable[ScreenLayout]) -> bytes:
    screens = list(screens)
    if not 1 <= len(screens) <= 255:
        raise ValueError("SetDesktopSize needs 1-255 screens")
    out = [
        struct.pack(
            ">BxHHBx",
            ClientMessage.SET_DESKTOP_SIZE,
            _u16(width, "width"),
            _u16(height, "height"),
            len(screens),
        )
    ]
    for s in screens:
        out.append(
            struct.pack(
                ">IHHHHI",
                s.id & 0xFFFFFFFF,
                _u16(s.x, "x"),
                _u16(s.y, "y"),
                _u16(s.width, "width"),
                _u16(s.height, "height"),
                s.flags & 0xFFFFFFFF,
            )
        )
    return b"".join(out)
