"""Pseudo-encodings that carry a payload: Cursor (a shape and its mask),
ExtendedDesktopSize (a screen layout), QEMU LED state and DesktopName.
"""

from __future__ import annotations

import struct

import numpy as np

from app.core.rfb.events import CursorShape, LedState, ScreenLayout
from app.core.rfb.protocol import MAX_CURSOR_SIDE, MAX_SHORT_STRING, ProtocolViolation
from app.core.rfb.reader import Parser, read_string, read_u8

_SCREEN = struct.Struct(">IHHHHI")


def read_cursor(hot_x: int, hot_y: int, w: int, h: int) -> Parser:
    """The Cursor pseudo-rectangle: w*h client pixels, then a 1-bit mask."""
    if w > MAX_CURSOR_SIDE or h > MAX_CURSOR_SIDE:
        raise ProtocolViolation(f"cursor of {w}x{h} is over the {MAX_CURSOR_SIDE} limit")
    pixels = yield w * h * 4
    mask_row = (w + 7) // 8
    mask = bytes((yield mask_row * h))
    if not w or not h:
        return CursorShape(0, 0, 0, 0, b"", b"")
    argb = np.frombuffer(pixels, np.uint8).reshape(h, w, 4).copy()
    opaque = np.unpackbits(np.frombuffer(mask, np.uint8).reshape(h, mask_row), axis=1)[:, :w]
    argb[..., 3] = 255
    argb[opaque == 0] = 0
    return CursorShape(w, h, min(hot_x, w - 1), min(hot_y, h - 1), argb.tobytes(), mask)


def read_screens() -> Parser:
    """The ExtendedDesktopSize payload: a screen count and that many screens."""
    count = yield from read_u8()
    data = yield 3 + count * _SCREEN.size
    return tuple(
        ScreenLayout(*_SCREEN.unpack_from(data, 3 + i * _SCREEN.size)) for i in range(count)
    )


def read_led_state() -> Parser:
    bits = yield from read_u8()
    return LedState(scroll_lock=bool(bits & 1), num_lock=bool(bits & 2), caps_lock=bool(bits & 4))


def read_desktop_name() -> Parser:
    raw, _ = yield from read_string(MAX_SHORT_STRING)
    return raw.decode("utf-8", "replace")
