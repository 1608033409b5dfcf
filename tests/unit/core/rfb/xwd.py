"""Reading and writing X window dumps (XWD, the format of ``xwd``/``xwud``), for TrueColor
32-bit ZPixmaps only: what Xvnc's screen dumps are, and what the recorder shows with
``xwud`` to give servers many-coloured content.
"""

from __future__ import annotations

import struct
import subprocess

import numpy as np

_HEADER = struct.Struct(">25I")


def write(rgb: np.ndarray, name: str = "nido") -> bytes:
    """An XWD file of an (h, w, 3) uint8 R, G, B image."""
    h, w, _ = rgb.shape
    title = name.encode() + b"\0"
    header = _HEADER.pack(
        _HEADER.size + len(title),
        7,
        2,
        24,
        w,
        h,
        0,
        0,
        32,
        0,
        32,
        32,
        w * 4,
        4,
        0xFF0000,
        0xFF00,
        0xFF,
        8,
        256,
        0,
        w,
        h,
        0,
        0,
        0,
    )
    pixels = np.zeros((h, w, 4), np.uint8)
    pixels[..., 0] = rgb[..., 2]
    pixels[..., 1] = rgb[..., 1]
    pixels[..., 2] = rgb[..., 0]
    return header + title + pixels.tobytes()


def read(data: bytes) -> np.ndarray:
    """An (h, w, 3) uint8 R, G, B array from a 32-bit TrueColor XWD dump."""
    f = _HEADER.unpack_from(data)
    header_size, _, fmt, _depth, w, h, _, byte_order = f[:8]
    bpp, bytes_per_line, _cls, rmask, gmask, bmask = f[11:17]
    ncolors = f[19]
    if fmt != 2 or bpp != 32:
        raise ValueError("only 32-bit ZPixmap dumps are supported")
    start = header_size + ncolors * 12
    raw = np.frombuffer(data, np.uint8, h * bytes_per_line, start).reshape(h, bytes_per_line)
    px = raw[:, : w * 4].copy().view("<u4" if byte_order == 0 else ">u4").reshape(h, w)
    out = np.empty((h, w, 3), np.uint8)
    for i, mask in enumerate((rmask, gmask, bmask)):
        shift = (mask & -mask).bit_length() - 1
        out[..., i] = (px & mask) >> shift
    return out


def screenshot(display: str) -> np.ndarray:
    """The root window of an X display as R, G, B."""
    dump = subprocess.run(
        ["xwd", "-root", "-silent", "-display", display], capture_output=True, check=True
    ).stdout
    return read(dump)


def test_image(width: int = 160, height: int = 72, seed: int = 1) -> np.ndarray:
    """Many colours: smooth gradients above, a strip of noise (an eighth) below."""
    yy, xx = np.mgrid[0:height, 0:width]
    img = np.empty((height, width, 3), np.uint8)
    img[..., 0] = (xx * 255 // max(width - 1, 1)).astype(np.uint8)
    img[..., 1] = (yy * 255 // max(height - 1, 1)).astype(np.uint8)
    img[..., 2] = ((xx + yy) * 2 % 256).astype(np.uint8)
    rng = np.random.default_rng(seed)
    strip = height // 8
    img[height - strip :] = rng.integers(0, 256, (strip, width, 3), np.uint8)
    return img
