"""A scripted RFB server for tests: builders for the bytes a server sends (handshakes,
messages, and each encoding from an R, G, B image), written independently of the client's
decoders, per-pixel where that is clearer.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable, Sequence

import numpy as np

from app.core.rfb.protocol import CLIENT_PIXEL_FORMAT, PixelFormat

# --- Handshakes --------------------------------------------------------------------------


def greeting(version: tuple[int, int] = (3, 8)) -> bytes:
    return b"RFB %03d.%03d\n" % version


def server_init(
    width: int, height: int, name: bytes = b"test", pf: PixelFormat = CLIENT_PIXEL_FORMAT
) -> bytes:
    return struct.pack(">HH", width, height) + pf.pack() + struct.pack(">I", len(name)) + name


def string(text: bytes) -> bytes:
    return struct.pack(">I", len(text)) + text


def handshake(
    width: int = 64,
    height: int = 48,
    version: tuple[int, int] = (3, 8),
    name: bytes = b"test",
) -> bytes:
    """Everything a server sends up to and including ServerInit, with security None."""
    if version == (3, 3):
        sec = struct.pack(">I", 1)
    elif version == (3, 7):
        sec = b"\x01\x01"
    else:
        sec = b"\x01\x01" + struct.pack(">I", 0)
    return greeting(version) + sec + server_init(width, height, name)


# --- Framebuffer updates -----------------------------------------------------------------


def update(*rects: bytes, count: int | None = None) -> bytes:
    n = len(rects) if count is None else count
    return struct.pack(">BxH", 0, n) + b"".join(rects)


def rect_header(x: int, y: int, w: int, h: int, encoding: int) -> bytes:
    return struct.pack(">HHHHi", x, y, w, h, encoding)


def bgrx(rgb: np.ndarray, pad: int = 0) -> bytes:
    """An (h, w, 3) R, G, B image as client pixels, with ``pad`` in the X byte."""
    h, w, _ = rgb.shape
    out = np.full((h, w, 4), pad, np.uint8)
    out[..., 0] = rgb[..., 2]
    out[..., 1] = rgb[..., 1]
    out[..., 2] = rgb[..., 0]
    return out.tobytes()


def raw_rect(x: int, y: int, rgb: np.ndarray, pad: int = 0) -> bytes:
    h, w, _ = rgb.shape
    return rect_header(x, y, w, h, 0) + bgrx(rgb, pad)


def copy_rect(x: int, y: int, w: int, h: int, sx: int, sy: int) -> bytes:
    return rect_header(x, y, w, h, 1) + struct.pack(">HH", sx, sy)


class Deflater:
    """A persistent zlib stream flushed at each rectangle, as servers do."""

    def __init__(self, level: int = 6) -> None:
        self._c = zlib.compressobj(level)

    def __call__(self, data: bytes) -> bytes:
        return self._c.compress(data) + self._c.flush(zlib.Z_SYNC_FLUSH)


def zlib_rect(x: int, y: int, rgb: np.ndarray, deflater: Deflater) -> bytes:
    h, w, _ = rgb.shape
    data = deflater(bgrx(rgb))
    return rect_header(x, y, w, h, 6) + struct.pack(">I", len(data)) + data


def pseudo(encoding: int, x: int = 0, y: int = 0, w: int = 0, h: int = 0) -> bytes:
    return rect_header(x, y, w, h, encoding)


# --- Tight -------------------------------------------------------------------------------


def compact_length(n: int) -> bytes:
    out = bytearray([n & 0x7F])
    if n > 0x7F:
        out[0] |= 0x80
        out.append((n >> 7) & 0x7F)
        if n > 0x3FFF:
            out[1] |= 0x80
            out.append((n >> 14) & 0xFF)
    return bytes(out)


def gradient_filter(rgb: np.ndarray) -> bytes:
    """Tight's gradient filter, vectorised (all neighbours are known on the server)."""
    v = np.zeros((rgb.shape[0] + 1, rgb.shape[1] + 1, 3), np.int32)
    v[1:, 1:] = rgb
    pred = np.clip(v[1:, :-1] + v[:-1, 1:] - v[:-1, :-1], 0, 255)
    return ((v[1:, 1:] - pred) & 0xFF).astype(np.uint8).tobytes()


def gradient_filter_reference(rgb: np.ndarray) -> bytes:
    """Tight's gradient filter, per pixel, the way the TightVNC server computes it."""
    h, w, _ = rgb.shape
    v = rgb.astype(int)
    out = bytearray()
    for y in range(h):
        for x in range(w):
            for c in range(3):
                left = v[y, x - 1, c] if x else 0
                up = v[y - 1, x, c] if y else 0
                ul = v[y - 1, x - 1, c] if x and y else 0
                pred = min(max(left + up - ul, 0), 255)
                out.append((v[y, x, c] - pred) & 0xFF)
    return bytes(out)


class TightEncoder:
    def __init__(self) -> None:
        self.streams = [Deflater() for _ in range(4)]

    def _data(self, stream: int, data: bytes) -> bytes:
        if len(data) < 12:
            return data
        z = self.streams[stream](data)
        return compact_length(len(z)) + z

    def fill(self, x: int, y: int, w: int, h: int, rgb: Sequence[int]) -> bytes:
        return rect_header(x, y, w, h, 7) + bytes([0x80, *rgb])

    def jpeg(self, x: int, y: int, w: int, h: int, data: bytes) -> bytes:
        return rect_header(x, y, w, h, 7) + bytes([0x90]) + compact_length(len(data)) + data

    def copy(
        self,
        x: int,
        y: int,
        rgb: np.ndarray,
        stream: int = 0,
        explicit: bool = False,
        reset: int = 0,
    ) -> bytes:
        h, w, _ = rgb.shape
        if reset:
            for i in range(4):
                if reset & (1 << i):
                    self.streams[i] = Deflater()
        control = (stream << 4) | reset | (0x40 if explicit else 0)
        head = bytes([control]) + (b"\x00" if explicit else b"")
        return rect_header(x, y, w, h, 7) + head + self._data(stream, rgb.tobytes())

    def palette(
        self, x: int, y: int, indices: np.ndarray, colours: Sequence[Sequence[int]], stream: int = 1
    ) -> bytes:
        h, w = indices.shape
        n = len(colours)
        head = bytes([(stream << 4) | 0x40, 1, n - 1]) + b"".join(bytes(c) for c in colours)
        if n == 2:
            data = np.packbits(indices.astype(np.uint8), axis=1).tobytes()
        else:
            data = indices.astype(np.uint8).tobytes()
        return rect_header(x, y, w, h, 7) + head + self._data(stream, data)

    def gradient(self, x: int, y: int, rgb: np.ndarray, stream: int = 2) -> bytes:
        h, w, _ = rgb.shape
        head = bytes([(stream << 4) | 0x40, 2])
        return rect_header(x, y, w, h, 7) + head + self._data(stream, gradient_filter(rgb))


# --- ZRLE --------------------------------------------------------------------------------


def _cpixel(rgb: Iterable[int]) -> bytes:
    r, g, b = rgb
    return bytes((b, g, r))


def _run_length(n: int) -> bytes:
    n -= 1
    return b"\xff" * (n // 255) + bytes([n % 255])


def zrle_tile(tile: np.ndarray, mode: str) -> bytes:
    """One tile in the given subencoding: raw, solid, packed, rle or prle."""
    h, w, _ = tile.shape
    flat = [tuple(int(c) for c in p) for p in tile.reshape(-1, 3)]
    colours = list(dict.fromkeys(flat))
    if mode == "raw":
        return b"\x00" + b"".join(_cpixel(p) for p in flat)
    if mode == "solid":
        assert len(colours) == 1
        return b"\x01" + _cpixel(colours[0])
    runs: list[tuple[tuple[int, ...], int]] = []
    for p in flat:
        if runs and runs[-1][0] == p:
            runs[-1] = (p, runs[-1][1] + 1)
        else:
            runs.append((p, 1))
    if mode == "rle":
        return b"\x80" + b"".join(_cpixel(p) + _run_length(n) for p, n in runs)
    index = {c: i for i, c in enumerate(colours)}
    pal = b"".join(_cpixel(c) for c in colours)
    if mode == "packed":
        n = len(colours)
        assert 2 <= n <= 16
        bits = 1 if n == 2 else 2 if n <= 4 else 4
        out = bytearray([n]) + pal
        for y in range(h):
            acc, nbits, row = 0, 0, bytearray()
            for x in range(w):
                acc = (acc << bits) | index[flat[y * w + x]]
                nbits += bits
                if nbits == 8:
                    row.append(acc)
                    acc, nbits = 0, 0
            if nbits:
                row.append(acc << (8 - nbits))
            out += row
        return bytes(out)
    assert mode == "prle" and 2 <= len(colours) <= 127
    out = bytearray([128 + len(colours)]) + pal
    for p, n in runs:
        if n == 1:
            out.append(index[p])
        else:
            out.append(index[p] | 0x80)
            out += _run_length(n)
    return bytes(out)


def zrle_rect(
    x: int,
    y: int,
    rgb: np.ndarray,
    deflater: Deflater,
    mode: str = "raw",
    modes: Sequence[str] | None = None,
) -> bytes:
    """A ZRLE rectangle; every tile in ``mode``, or tile i in ``modes[i]``."""
    h, w, _ = rgb.shape
    tiles = bytearray()
    i = 0
    for ty in range(0, h, 64):
        for tx in range(0, w, 64):
            tile = rgb[ty : ty + 64, tx : tx + 64]
            tiles += zrle_tile(tile, modes[i] if modes else mode)
            i += 1
    data = deflater(bytes(tiles))
    return rect_header(x, y, w, h, 16) + struct.pack(">I", len(data)) + data


def zrle_raw_payload(x: int, y: int, w: int, h: int, tiles: bytes, deflater: Deflater) -> bytes:
    data = deflater(tiles)
    return rect_header(x, y, w, h, 16) + struct.pack(">I", len(data)) + data


# --- Images ------------------------------------------------------------------------------


def random_image(h: int, w: int, seed: int = 0, colours: int | None = None) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if colours is None:
        return rng.integers(0, 256, (h, w, 3), np.uint8)
    palette = rng.integers(0, 256, (colours, 3), np.uint8)
    return palette[rng.integers(0, colours, (h, w))]


def blocky_image(h: int, w: int, seed: int = 0, colours: int = 5) -> np.ndarray:
    """Few colours in horizontal runs, so RLE has something to do."""
    rng = np.random.default_rng(seed)
    palette = rng.integers(0, 256, (colours, 3), np.uint8)
    idx = np.repeat(rng.integers(0, colours, (h, (w + 6) // 7)), 7, axis=1)[:, :w]
    return palette[idx]
