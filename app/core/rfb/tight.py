"""The Tight encoding (number 7): fill, JPEG and basic compression with the copy, palette
and gradient filters over four persistent zlib streams.

With the client pixel format (32 bpp, depth 24, 8 bits a colour) Tight sends pixels as
3-byte TPIXELs in R, G, B order. Data shorter than 12 bytes comes uncompressed; longer
data is a compact length and zlib data on the stream the control byte names. JPEG data is
passed on whole, as a :class:`~app.core.rfb.events.JpegRect`, for the Qt layer to decode.
TightPNG (control 0xA) is not asked for and closes the connection if it comes.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from app.core.rfb.events import Event, FillRect, JpegRect, RectPixels
from app.core.rfb.inflate import ZlibStream
from app.core.rfb.pixels import (
    apply_palette,
    as_bytes,
    gradient_unfilter,
    rgb_to_bgrx,
    unpack_indices,
)
from app.core.rfb.protocol import ProtocolViolation
from app.core.rfb.reader import Parser, read_streamed, read_u8

MIN_TO_COMPRESS = 12
FILTER_COPY = 0
FILTER_PALETTE = 1
FILTER_GRADIENT = 2
FILL = 0x8
JPEG = 0x9
PNG = 0xA


def read_compact_length() -> Parser:
    """Tight's 1-3 byte length: 7 bits a byte, low first, the high bit says 'more'."""
    b = yield from read_u8()
    length = b & 0x7F
    if b & 0x80:
        b = yield from read_u8()
        length |= (b & 0x7F) << 7
        if b & 0x80:
            b = yield from read_u8()
            length |= b << 14
    return length


class TightDecoder:
    """Decodes Tight rectangles; holds the four zlib streams of one connection."""

    def __init__(self) -> None:
        self.streams = [ZlibStream() for _ in range(4)]

    def decode(self, x: int, y: int, w: int, h: int, emit: Callable[[Event], None]) -> Parser:
        control = yield from read_u8()
        for i in range(4):
            if control & (1 << i):
                self.streams[i].reset()
        kind = control >> 4
        if kind == FILL:
            rgb = yield 3
            if w and h:
                emit(FillRect(x, y, w, h, bytes((rgb[2], rgb[1], rgb[0], 255))))
            return
        if kind == JPEG:
            length = yield from read_compact_length()
            data = yield from read_streamed(length)
            if w and h:
                emit(JpegRect(x, y, w, h, data))
            return
        if kind == PNG:
            raise ProtocolViolation("the server sent TightPNG, which was not asked for")
        if kind > PNG:
            raise ProtocolViolation(f"bad Tight compression control 0x{control:02x}")
        stream = self.streams[kind & 3]
        filter_id = (yield from read_u8()) if kind & 4 else FILTER_COPY
        count = w * h
        if filter_id in (FILTER_COPY, FILTER_GRADIENT):
            size = count * 3
        elif filter_id == FILTER_PALETTE:
            colours = (yield from read_u8()) + 1
            palette = rgb_to_bgrx((yield colours * 3), colours)
            size = ((w + 7) // 8) * h if colours == 2 else count
        else:
            raise ProtocolViolation(f"unknown Tight filter {filter_id}")
        if size < MIN_TO_COMPRESS:
            data = yield size
        else:
            length = yield from read_compact_length()
            data = yield from stream.inflate_exact(length, size)
        if not count:
            return
        if filter_id == FILTER_COPY:
            pixels = rgb_to_bgrx(data, count)
        elif filter_id == FILTER_GRADIENT:
            pixels = rgb_to_bgrx(as_bytes(gradient_unfilter(data, w, h)), count)
        else:
            packed = np.frombuffer(data, np.uint8, size)
            indices = unpack_indices(packed, 1 if colours == 2 else 8, w, h)
            pixels = apply_palette(palette, indices)
        emit(RectPixels(x, y, w, h, as_bytes(pixels)))
