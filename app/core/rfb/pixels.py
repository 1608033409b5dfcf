"""Vectorised pixel conversions into the client layout (B, G, R, 0xFF), with NumPy.

Tight sends 3-byte pixels as R, G, B; ZRLE's 3-byte CPIXELs are the low bytes of the
little-endian client pixel, so B, G, R. Palettes become (n, 4) arrays that index arrays
pick from. Nothing here loops over pixels in Python.
"""

from __future__ import annotations

import numpy as np

from app.core.rfb.protocol import ProtocolViolation

OPAQUE = np.uint32(0xFF000000)


def as_bytes(array: np.ndarray) -> memoryview:
    """A flat byte view of a C-contiguous array (no copy)."""
    return memoryview(np.ascontiguousarray(array)).cast("B")


def rgb_to_bgrx(rgb: bytes | bytearray | memoryview, count: int) -> np.ndarray:
    """``count`` R, G, B triplets → a (count, 4) array of B, G, R, 0xFF."""
    src = np.frombuffer(rgb, np.uint8, count * 3).reshape(count, 3)
    out = np.empty((count, 4), np.uint8)
    out[:, 0] = src[:, 2]
    out[:, 1] = src[:, 1]
    out[:, 2] = src[:, 0]
    out[:, 3] = 255
    return out


def bgr_to_bgrx(bgr: bytes | bytearray | memoryview, count: int, offset: int = 0) -> np.ndarray:
    """``count`` B, G, R triplets (ZRLE CPIXELs) → a (count, 4) array of B, G, R, 0xFF."""
    src = np.frombuffer(bgr, np.uint8, count * 3, offset).reshape(count, 3)
    out = np.empty((count, 4), np.uint8)
    out[:, :3] = src
    out[:, 3] = 255
    return out


def unpack_indices(packed: np.ndarray, bits: int, width: int, height: int) -> np.ndarray:
    """Rows of ``bits``-bit indices, most significant first, each row padded to a byte
    (Tight 2-colour palettes, ZRLE packed palettes) → a (height, width) uint8 array."""
    rows = packed.reshape(height, -1)
    if bits == 8:
        return rows[:, :width]
    allbits = np.unpackbits(rows, axis=1)[:, : width * bits]
    if bits == 1:
        return allbits
    groups = allbits.reshape(height, width, bits)
    weights = (1 << np.arange(bits - 1, -1, -1)).astype(np.uint8)
    return (groups * weights).sum(axis=2, dtype=np.uint8)


def apply_palette(palette: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """Look indices up in a (n, 4) palette; an index past the palette closes the
    connection rather than reading past it."""
    if indices.size and int(indices.max()) >= len(palette):
        raise ProtocolViolation(
            f"palette index {int(indices.max())} is beyond the {len(palette)}-colour palette"
        )
    return palette[indices]


def gradient_unfilter(diffs: bytes | bytearray | memoryview, width: int, height: int) -> np.ndarray:
    """Undo Tight's gradient filter over R, G, B triplets → (height, width, 3) uint8, R, G, B.

    Each component is predicted as clamp(left + up - upper_left) (0 outside the image) and
    the wire carries value - prediction mod 256. The prediction depends on the pixel to
    the left and the row above, so pixels on one anti-diagonal (x + y = d) depend only on
    earlier anti-diagonals: the work goes diagonal by diagonal, each one a NumPy step. In
    a zero-padded (height + 1) x (width + 1) array flattened row-major, one anti-diagonal
    is a slice with step ``width``.
    """
    if width == 0 or height == 0:
        return np.zeros((height, width, 3), np.uint8)
    stride = width + 1
    pad = np.zeros(((height + 1) * stride, 3), np.int16)
    d = np.zeros_like(pad)
    d.reshape(height + 1, stride, 3)[1:, 1:] = np.frombuffer(
        diffs, np.uint8, width * height * 3
    ).reshape(height, width, 3)
    step = width  # from (y, x) to (y + 1, x - 1) in the padded flat layout
    for diag in range(width + height - 1):
        y0 = max(0, diag - width + 1)
        y1 = min(height - 1, diag)
        start = (y0 + 1) * stride + (diag - y0 + 1)
        stop = (y1 + 1) * stride + (diag - y1 + 1) + 1
        cur = slice(start, stop, step)
        left = slice(start - 1, stop - 1, step)
        up = slice(start - stride, stop - stride, step)
        upleft = slice(start - stride - 1, stop - stride - 1, step)
        pred = pad[left] + pad[up] - pad[upleft]
        np.clip(pred, 0, 255, out=pred)
        pred += d[cur]
        pred &= 0xFF
        pad[cur] = pred
    return pad.reshape(height + 1, stride, 3)[1:, 1:].astype(np.uint8)
