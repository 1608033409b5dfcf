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
    the wire carries value - prediction mod 256. Two exact, vectorised ways, chosen by the
    data:

    - Row by row. While the clamp does not bite, a row is linear mod 256:
      value[x] = value[s-1] + up[x] - up[s-1] + sum(diff[s..x]), one cumulative sum. Where
      the clamp does bite, that pixel is computed on its own and the sum restarts after
      it. Smooth images (what the server picks this filter for) need a pass or two a row.
    - By anti-diagonals, for the rest of the rectangle once restarts get too many (noise,
      or a hostile server): pixels on one anti-diagonal depend only on earlier ones.
    """
    out = np.zeros((height, width, 3), np.uint8)
    if width == 0 or height == 0:
        return out
    d_all = np.frombuffer(diffs, np.uint8, width * height * 3).reshape(height, width, 3)
    budget = (width + height) // 4 + 16  # a restart costs about two diagonal steps
    above = np.zeros((width, 3), np.int32)
    y = 0
    while y < height and budget > 0:
        row, restarts = _unfilter_row(above, d_all[y].astype(np.int32))
        budget -= restarts
        out[y] = row
        above = row
        y += 1
    if y < height:
        _unfilter_diagonals(d_all, out, y, above.astype(np.int16))
    return out


def _unfilter_row(up: np.ndarray, diff: np.ndarray) -> tuple[np.ndarray, int]:
    """One row, given the row above (int32, (w, 3)); returns the row and the restarts.

    With ``inc[x] = diff[x] + up[x] - up[x-1]`` and ``c`` its running sum, a linear stretch
    from ``s`` is ``value[x] = value[s-1] + c[x] - c[s-1]`` mod 256. Stretches are checked
    in windows that grow while no clamp is found."""
    width = len(up)
    du = up.copy()
    du[1:] -= up[:-1]
    c = np.cumsum(diff + du, axis=0)
    row = np.empty_like(up)
    start, restarts, window = 0, 0, 64
    prev = np.zeros(3, np.int32)  # value[start - 1]
    base = np.zeros(3, np.int32)  # c[start - 1]
    while start < width:
        end = min(width, start + window)
        lin = (prev - base + c[start:end]) & 0xFF
        pred = du[start:end].copy()
        pred[0] += prev
        pred[1:] += lin[:-1]
        clamped = ((pred < 0) | (pred > 255)).any(axis=1)
        if not clamped.any():
            row[start:end] = lin
            prev, base = lin[-1], c[end - 1]
            start, window = end, window * 4
            continue
        bad = int(clamped.argmax())
        row[start : start + bad] = lin[:bad]
        x = start + bad
        row[x] = (np.clip(pred[bad], 0, 255) + diff[x]) & 0xFF
        prev, base = row[x], c[x]
        start, window = x + 1, 64
        restarts += 1
    return row, restarts


def _unfilter_diagonals(d_all: np.ndarray, out: np.ndarray, top: int, above: np.ndarray) -> None:
    """Rows ``top``.. of ``out`` by anti-diagonals, in bands that bound the memory to about
    :data:`_GRADIENT_BAND_BYTES`. In a zero-padded (rows + 1) x (width + 1) array flattened
    row-major, one anti-diagonal is a slice with step ``width``."""
    height, width, _ = d_all.shape
    stride = width + 1
    band = max(16, _GRADIENT_BAND_BYTES // (stride * 3 * 2 * 2))
    for y in range(top, height, band):
        rows = min(band, height - y)
        pad = np.zeros(((rows + 1) * stride, 3), np.int16)
        grid = pad.reshape(rows + 1, stride, 3)
        grid[0, 1:] = above
        d = np.zeros_like(pad)
        d.reshape(rows + 1, stride, 3)[1:, 1:] = d_all[y : y + rows]
        _unfilter_band(pad, d, width, rows)
        out[y : y + rows] = grid[1:, 1:]
        above = grid[rows, 1:].copy()


_GRADIENT_BAND_BYTES = 16 << 20


def _unfilter_band(pad: np.ndarray, d: np.ndarray, width: int, rows: int) -> None:
    stride = width + 1
    step = width  # from (y, x) to (y + 1, x - 1) in the padded flat layout
    for diag in range(width + rows - 1):
        y0 = max(0, diag - width + 1)
        y1 = min(rows - 1, diag)
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
