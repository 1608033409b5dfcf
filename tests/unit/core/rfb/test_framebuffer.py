"""The framebuffer helper: layout, stride, caps, resizing, and refusing what does not fit."""

from __future__ import annotations

import numpy as np
import pytest

from app.core.rfb import MAX_FRAMEBUFFER_PIXELS, Framebuffer, events


def test_layout_is_qimage_rgb32() -> None:
    fb = Framebuffer(3, 2)
    assert fb.stride == 12 and len(fb.data) == 24 and isinstance(fb.data, bytearray)
    assert fb.data == b"\x00\x00\x00\xff" * 6  # opaque black
    fb.fill(1, 1, 1, 1, b"\x01\x02\x03\x00")
    assert fb.data[16:20] == b"\x01\x02\x03\xff" and fb.pixel(1, 1) == (3, 2, 1)
    # As a little-endian uint32 that is 0xFFRRGGBB, QImage.Format_RGB32's definition.
    assert int.from_bytes(fb.data[16:20], "little") == 0xFF030201


def test_put_pixels_with_stride_and_alpha() -> None:
    fb = Framebuffer(4, 4)
    src = bytes(range(2 * 10))  # 2 rows of 2 pixels, 10-byte stride (2 bytes padding)
    fb.put_pixels(1, 2, 2, 2, src, stride=10)
    a = fb.array()
    assert a[2, 1].tolist() == [0, 1, 2, 255] and a[2, 2].tolist() == [4, 5, 6, 255]
    assert a[3, 1].tolist() == [10, 11, 12, 255] and a[3, 2].tolist() == [14, 15, 16, 255]
    fb.put_pixels(0, 0, 1, 2, bytes(range(12)), stride=6)  # stride not a multiple of 4
    assert a[1, 0].tolist() == [6, 7, 8, 255]


def test_put_pixels_from_unaligned_memoryview() -> None:
    fb = Framebuffer(2, 1)
    buf = memoryview(b"\x00" + bytes([9, 8, 7, 0, 6, 5, 4, 0]))
    fb.put_pixels(0, 0, 2, 1, buf[1:])
    assert fb.pixel(0, 0) == (7, 8, 9) and fb.pixel(1, 0) == (4, 5, 6)


@pytest.mark.parametrize(
    ("x", "y", "w", "h"), [(-1, 0, 1, 1), (0, 0, 5, 1), (4, 0, 1, 1), (0, 3, 1, 2), (0, 0, -1, 1)]
)
def test_out_of_bounds_raises(x: int, y: int, w: int, h: int) -> None:
    fb = Framebuffer(4, 4)
    with pytest.raises(ValueError):
        fb.put_pixels(x, y, w, h, bytes(64))
    with pytest.raises(ValueError):
        fb.fill(x, y, w, h, bytes(4))
    with pytest.raises(ValueError):
        fb.copy(0, 0, x, y, w, h)
    with pytest.raises(ValueError):
        fb.copy(x, y, 0, 0, w, h)


def test_short_pixel_data_raises() -> None:
    with pytest.raises(ValueError):
        Framebuffer(4, 4).put_pixels(0, 0, 2, 2, bytes(15))


def test_caps() -> None:
    with pytest.raises(ValueError):
        Framebuffer(16385, 1)
    with pytest.raises(ValueError):
        Framebuffer(8192, 8192)  # 64 Mi pixels > 32 Mi
    with pytest.raises(ValueError):
        Framebuffer(10, 10, max_pixels=99)
    assert MAX_FRAMEBUFFER_PIXELS * 4 == 128 << 20


def test_resize_keeps_overlap() -> None:
    fb = Framebuffer(4, 4)
    fb.fill(0, 0, 4, 4, b"\x10\x20\x30\x00")
    old = fb.data
    assert fb.apply(events.DesktopResized(6, 2)) == (0, 0, 6, 2)
    assert fb.data is not old and fb.stride == 24
    assert fb.pixel(3, 1) == (0x30, 0x20, 0x10) and fb.pixel(5, 1) == (0, 0, 0)
    same = fb.data
    fb.resize(6, 2)
    assert fb.data is same


def test_apply_returns_damage() -> None:
    fb = Framebuffer(8, 8)
    assert fb.apply(events.FillRect(1, 2, 3, 4, bytes(4))) == (1, 2, 3, 4)
    assert fb.apply(events.CopyRect(0, 0, 2, 2, 5, 5)) == (0, 0, 2, 2)
    assert fb.apply(events.RectPixels(0, 0, 1, 1, bytes(4))) == (0, 0, 1, 1)
    assert fb.apply(events.JpegRect(0, 0, 1, 1, b"")) is None
    assert fb.apply(events.Bell()) is None


def test_array_is_a_view() -> None:
    fb = Framebuffer(2, 2)
    fb.array()[1, 1] = (1, 2, 3, 255)
    assert fb.pixel(1, 1) == (3, 2, 1)
    assert np.shares_memory(fb.array(), np.frombuffer(fb.data, np.uint8))
