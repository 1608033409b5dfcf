"""The ZRLE encoding (number 16): a zlib stream of 64x64 tiles, each raw, solid, packed
palette, plain RLE or palette RLE.

With the client pixel format, pixels on the wire are 3-byte CPIXELs, the low three bytes
of the little-endian pixel: B, G, R. A rectangle's zlib data is inflated whole (streamed
as it arrives, bounded by the most its tiles could take) and then parsed. Runs are parsed
in Python, one step per run, and expanded with NumPy; everything else is vectorised.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from app.core.rfb.events import Event, RectPixels
from app.core.rfb.inflate import ZlibStream
from app.core.rfb.pixels import apply_palette, as_bytes, bgr_to_bgrx, unpack_indices
from app.core.rfb.protocol import ProtocolViolation
from app.core.rfb.reader import Parser, read_u32

TILE = 64
_CPIXEL = 3
_BGR = np.arange(_CPIXEL)
#: Per tile, at most: the subencoding byte and a 127-colour palette...
_TILE_OVERHEAD = 1 + 127 * _CPIXEL
#: ...and per pixel at most 4 bytes (an RLE run of one: a CPIXEL and a length byte).
_PER_PIXEL = 4


def max_inflated_size(w: int, h: int) -> int:
    """The most bytes a w x h ZRLE rectangle can inflate to."""
    tiles = ((w + TILE - 1) // TILE) * ((h + TILE - 1) // TILE)
    return tiles * _TILE_OVERHEAD + w * h * _PER_PIXEL


class ZRLEDecoder:
    """Decodes ZRLE rectangles; holds the connection's one zlib stream."""

    def __init__(self) -> None:
        self.stream = ZlibStream()

    def decode(self, x: int, y: int, w: int, h: int, emit: Callable[[Event], None]) -> Parser:
        length = yield from read_u32()
        data = yield from self.stream.inflate(length, max_inflated_size(w, h))
        if w and h:
            emit(RectPixels(x, y, w, h, as_bytes(decode_tiles(bytes(data), w, h))))


def _truncated() -> ProtocolViolation:
    return ProtocolViolation("ZRLE data ends inside a tile")


def _runs(data: bytes, pos: int, pixels: int, palette_size: int) -> tuple[list, list, int]:
    """Parse RLE runs covering ``pixels`` pixels. With ``palette_size`` 0 each run is a
    CPIXEL and a length; otherwise an index byte whose top bit says a length follows.
    Returns (colour offsets or indices, run lengths, new position)."""
    colours: list[int] = []
    lengths: list[int] = []
    end = len(data)
    left = pixels
    while left > 0:
        if palette_size:
            if pos >= end:
                raise _truncated()
            index = data[pos]
            pos += 1
            colours.append(index & 0x7F)
            if not index & 0x80:
                lengths.append(1)
                left -= 1
                continue
        else:
            if pos + _CPIXEL > end:
                raise _truncated()
            colours.append(pos)
            pos += _CPIXEL
        run = 1
        while True:
            if pos >= end:
                raise _truncated()
            b = data[pos]
            pos += 1
            run += b
            if b != 255:
                break
            if run > left:
                break
        if run > left:
            raise ProtocolViolation("a ZRLE run goes past the end of its tile")
        lengths.append(run)
        left -= run
    return colours, lengths, pos


def decode_tiles(data: bytes, w: int, h: int) -> np.ndarray:
    """Decode the inflated data of a w x h ZRLE rectangle → (h, w, 4) uint8, B, G, R, 0xFF.
    Extra bytes after the last tile are ignored (as TigerVNC's client does)."""
    out = np.empty((h, w, 4), np.uint8)
    raw = np.frombuffer(data, np.uint8)
    end = len(data)
    pos = 0
    for ty in range(0, h, TILE):
        th = min(TILE, h - ty)
        for tx in range(0, w, TILE):
            tw = min(TILE, w - tx)
            count = tw * th
            tile = out[ty : ty + th, tx : tx + tw]
            if pos >= end:
                raise _truncated()
            sub = data[pos]
            pos += 1
            if sub == 0:
                size = count * _CPIXEL
                if pos + size > end:
                    raise _truncated()
                tile[...] = bgr_to_bgrx(data, count, pos).reshape(th, tw, 4)
                pos += size
            elif sub == 1:
                if pos + _CPIXEL > end:
                    raise _truncated()
                tile[..., :3] = raw[pos : pos + 3]
                tile[..., 3] = 255
                pos += _CPIXEL
            elif sub <= 16:
                if pos + sub * _CPIXEL > end:
                    raise _truncated()
                palette = bgr_to_bgrx(data, sub, pos)
                pos += sub * _CPIXEL
                bits = 1 if sub == 2 else 2 if sub <= 4 else 4
                size = ((tw * bits + 7) // 8) * th
                if pos + size > end:
                    raise _truncated()
                indices = unpack_indices(raw[pos : pos + size], bits, tw, th)
                pos += size
                tile[...] = apply_palette(palette, indices)
            elif sub == 128:
                offsets, lengths, pos = _runs(data, pos, count, 0)
                colours = np.empty((len(offsets), 4), np.uint8)
                colours[:, :3] = raw[np.add.outer(np.array(offsets), _BGR)]
                colours[:, 3] = 255
                tile[...] = np.repeat(colours, lengths, axis=0).reshape(th, tw, 4)
            elif sub >= 130:
                size = sub - 128
                if pos + size * _CPIXEL > end:
                    raise _truncated()
                palette = bgr_to_bgrx(data, size, pos)
                pos += size * _CPIXEL
                indices, lengths, pos = _runs(data, pos, count, size)
                colours = apply_palette(palette, np.array(indices, np.uint8))
                tile[...] = np.repeat(colours, lengths, axis=0).reshape(th, tw, 4)
            else:
                raise ProtocolViolation(f"unknown ZRLE tile subencoding {sub}")
    return out
