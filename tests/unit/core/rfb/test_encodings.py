"""Each encoding and pseudo-encoding, from hand-built server byte streams: the framebuffer
must end up with exactly the image the scripted server encoded."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from app.core.rfb import Encoding, RFBClient, events, pixels
from app.core.rfb.pixels import gradient_unfilter
from app.core.rfb.tight import read_compact_length
from tests.unit.core.rfb import server
from tests.unit.core.rfb.conftest import connected, screen_after

W, H = 64, 48


def test_raw_full_screen() -> None:
    img = server.random_image(H, W, 1)
    s = screen_after(server.update(server.raw_rect(0, 0, img, pad=0x5A)))
    assert np.array_equal(s.rgb(), img)
    assert np.all(s.fb.array()[..., 3] == 255)  # alpha forced opaque whatever the pad
    assert isinstance(s.events[-1], events.UpdateEnd)


def test_raw_partial_rect_and_pixel_layout() -> None:
    img = np.array([[[0x11, 0x22, 0x33], [0x44, 0x55, 0x66]]], np.uint8)
    s = screen_after(server.update(server.raw_rect(5, 7, img)))
    # Memory layout: B, G, R, 0xFF per pixel, stride = width * 4 (QImage.Format_RGB32).
    off = 7 * s.fb.stride + 5 * 4
    assert s.fb.data[off : off + 8] == bytes([0x33, 0x22, 0x11, 0xFF, 0x66, 0x55, 0x44, 0xFF])
    assert s.fb.pixel(5, 7) == (0x11, 0x22, 0x33)
    assert s.fb.stride == W * 4 and len(s.fb.data) == W * H * 4


def test_raw_streams_rows_as_they_arrive() -> None:
    img = server.random_image(10, 8, 2)
    client = connected(8, 10)
    data = server.update(server.raw_rect(0, 0, img))
    head, body = data[:16], data[16:]
    assert client.receive_data(head) == []
    first = client.receive_data(body[: 8 * 4 * 3 + 5])  # three rows and a bit
    assert [(e.y, e.height) for e in first] == [(0, 3)]
    rest = client.receive_data(body[8 * 4 * 3 + 5 :])
    assert [(e.y, e.height) for e in rest if isinstance(e, events.RectPixels)] == [(3, 1), (4, 6)]


def test_copy_rect_and_overlap() -> None:
    img = server.random_image(H, W, 3)
    s = screen_after(
        server.update(server.raw_rect(0, 0, img), server.copy_rect(4, 6, 20, 10, 0, 0))
    )
    expected = img.copy()
    expected[6:16, 4:24] = img[0:10, 0:20]
    assert np.array_equal(s.rgb(), expected)
    assert s.events[-2] == events.CopyRect(4, 6, 20, 10, 0, 0)


@pytest.mark.parametrize(("dx", "dy"), [(3, 0), (-3, 0), (0, 2), (0, -2), (2, 2), (-2, -1)])
def test_copy_rect_overlapping_in_every_direction(dx: int, dy: int) -> None:
    img = server.random_image(H, W, 4)
    sx, sy = 10, 10
    s = screen_after(
        server.update(
            server.raw_rect(0, 0, img), server.copy_rect(sx + dx, sy + dy, 20, 15, sx, sy)
        )
    )
    expected = img.copy()
    expected[sy + dy : sy + dy + 15, sx + dx : sx + dx + 20] = img[sy : sy + 15, sx : sx + 20]
    assert np.array_equal(s.rgb(), expected)


def test_zlib_persistent_stream() -> None:
    d = server.Deflater()
    a, b = server.random_image(H, W, 5, colours=4), server.random_image(10, 12, 6)
    s = screen_after(
        server.update(server.zlib_rect(0, 0, a, d)) + server.update(server.zlib_rect(30, 20, b, d))
    )
    expected = a.copy()
    expected[20:30, 30:42] = b
    assert np.array_equal(s.rgb(), expected)


# --- Tight -------------------------------------------------------------------------------


def test_tight_fill() -> None:
    t = server.TightEncoder()
    s = screen_after(server.update(t.fill(2, 3, 10, 5, (200, 100, 50))))
    assert s.events[1] == events.FillRect(2, 3, 10, 5, bytes([50, 100, 200, 255]))
    assert s.fb.pixel(2, 3) == (200, 100, 50) and s.fb.pixel(11, 7) == (200, 100, 50)
    assert s.fb.pixel(12, 7) == (0, 0, 0)


def test_tight_jpeg_passes_bytes_through() -> None:
    t = server.TightEncoder()
    fake_jpeg = b"\xff\xd8" + bytes(range(256)) * 3 + b"\xff\xd9"
    s = screen_after(server.update(t.jpeg(1, 2, 30, 20, fake_jpeg)))
    assert s.events[1] == events.JpegRect(1, 2, 30, 20, fake_jpeg)


@pytest.mark.parametrize("stream", [0, 1, 2, 3])
@pytest.mark.parametrize("explicit", [False, True])
def test_tight_copy_filter(stream: int, explicit: bool) -> None:
    t = server.TightEncoder()
    a, b = server.random_image(16, 20, 7), server.random_image(16, 20, 8)
    s = screen_after(
        server.update(t.copy(0, 0, a, stream, explicit), t.copy(20, 16, b, stream, explicit))
    )
    assert np.array_equal(s.rgb()[:16, :20], a) and np.array_equal(s.rgb()[16:32, 20:40], b)


def test_tight_small_data_is_uncompressed() -> None:
    t = server.TightEncoder()
    img = server.random_image(1, 3, 9)  # 9 bytes < 12: sent as is
    data = server.update(t.copy(0, 0, img))
    assert img.tobytes() in data
    assert np.array_equal(screen_after(data).rgb()[:1, :3], img)


def test_tight_stream_reset() -> None:
    t = server.TightEncoder()
    a, b = server.random_image(8, 8, 10), server.random_image(8, 8, 11)
    data = server.update(t.copy(0, 0, a, stream=1), t.copy(8, 0, b, stream=1, reset=0b0010))
    s = screen_after(data)
    assert np.array_equal(s.rgb()[:8, 8:16], b)
    # Without the reset the client's stream would be mid-way and the data would not inflate.
    t2 = server.TightEncoder()
    t2.copy(0, 0, a, stream=1)
    s2 = screen_after(server.update(t2.copy(8, 0, b, stream=1)))
    assert isinstance(s2.events[-1], events.ProtocolError)


@pytest.mark.parametrize("colours", [1, 2, 3, 16, 200, 256])
def test_tight_palette(colours: int) -> None:
    rng = np.random.default_rng(colours)
    pal = rng.integers(0, 256, (colours, 3), np.uint8)
    idx = rng.integers(0, colours, (13, 21))
    t = server.TightEncoder()
    s = screen_after(server.update(t.palette(3, 4, idx, [tuple(c) for c in pal])))
    assert np.array_equal(s.rgb()[4:17, 3:24], pal[idx])


def test_tight_gradient() -> None:
    img = server.random_image(9, 11, 12)
    yy, xx = np.mgrid[0:9, 0:11]
    img[:4] = np.stack([xx[:4] * 20, yy[:4] * 30, (xx[:4] + yy[:4]) * 9], -1).astype(np.uint8)
    t = server.TightEncoder()
    s = screen_after(server.update(t.gradient(5, 5, img)))
    assert np.array_equal(s.rgb()[5:14, 5:16], img)


def _gradient_images(h: int, w: int) -> list[np.ndarray]:
    yy, xx = np.mgrid[0:h, 0:w]
    smooth = np.stack([xx * 3 % 256, yy * 5 % 256, (xx + yy) % 256], -1).astype(np.uint8)
    extreme = np.random.default_rng(h).choice([0, 255], (h, w, 3)).astype(np.uint8)
    return [server.random_image(h, w, h * 100 + w), smooth, extreme]


@pytest.mark.parametrize(("h", "w"), [(1, 1), (1, 7), (7, 1), (5, 9), (40, 33), (3, 300)])
def test_gradient_unfilter_exact(h: int, w: int, monkeypatch: pytest.MonkeyPatch) -> None:
    for img in _gradient_images(h, w):
        data = server.gradient_filter_reference(img)
        assert server.gradient_filter(img) == data
        assert np.array_equal(gradient_unfilter(data, w, h), img)
        # The anti-diagonal path alone, in bands of 16 rows.
        monkeypatch.setattr(pixels, "_GRADIENT_BAND_BYTES", 1)
        out = np.zeros_like(img)
        pixels._unfilter_diagonals(
            np.frombuffer(data, np.uint8).reshape(h, w, 3), out, 0, np.zeros((w, 3), np.int16)
        )
        monkeypatch.undo()
        assert np.array_equal(out, img)


def test_gradient_noise_switches_to_diagonals() -> None:
    img = np.random.default_rng(1).choice([0, 255], (64, 200, 3)).astype(np.uint8)
    assert np.array_equal(gradient_unfilter(server.gradient_filter(img), 200, 64), img)


@pytest.mark.parametrize("n", [0, 1, 127, 128, 300, 16383, 16384, 4_194_303])
def test_tight_compact_length(n: int) -> None:
    data = server.compact_length(n)
    gen = read_compact_length()
    req = next(gen)
    try:
        for b in data:
            assert req == 1
            req = gen.send(bytes([b]))
        raise AssertionError("did not finish")
    except StopIteration as stop:
        assert stop.value == n


# --- ZRLE --------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["raw", "rle"])
def test_zrle_whole_rect(mode: str) -> None:
    img = server.blocky_image(H, W, 13) if mode == "rle" else server.random_image(H, W, 13)
    s = screen_after(server.update(server.zrle_rect(0, 0, img, server.Deflater(), mode)))
    assert np.array_equal(s.rgb(), img)


@pytest.mark.parametrize("colours", [2, 3, 4, 5, 16])
def test_zrle_packed_palette(colours: int) -> None:
    img = server.random_image(30, 37, colours, colours=colours)
    while len(np.unique(img.reshape(-1, 3), axis=0)) != colours:  # make sure all appear
        img = server.random_image(30, 37, colours + 100, colours=colours)
    s = screen_after(server.update(server.zrle_rect(2, 1, img, server.Deflater(), "packed")))
    assert np.array_equal(s.rgb()[1:31, 2:39], img)


@pytest.mark.parametrize("colours", [2, 9, 127])
def test_zrle_palette_rle(colours: int) -> None:
    img = server.blocky_image(40, 50, colours, colours=colours)
    if len(np.unique(img.reshape(-1, 3), axis=0)) < 2:
        img[0, 0] = (img[0, 0] + 1) % 256
    s = screen_after(server.update(server.zrle_rect(0, 0, img, server.Deflater(), "prle")))
    assert np.array_equal(s.rgb()[:40, :50], img)


def test_zrle_long_runs_and_mixed_tiles_over_several_rects() -> None:
    w, h = 150, 70  # 3 x 2 tiles with partial ones at the edges
    img = np.zeros((h, w, 3), np.uint8)
    img[:, :64] = (10, 20, 30)  # solid tile column
    img[:, 64:128] = server.blocky_image(h, 64, 1, colours=3)
    img[:, 128:] = server.random_image(h, 22, 2)
    modes = ["solid", "prle", "raw", "rle", "packed", "raw"]
    d = server.Deflater()
    first = server.zrle_rect(0, 0, img, d, modes=modes)
    second = server.zrle_rect(0, 0, img[:10, :10], d, "rle")
    s = screen_after(server.update(first) + server.update(second), w, h)
    assert np.array_equal(s.rgb(), img)


def test_zrle_run_of_exactly_255_and_256() -> None:
    img = np.zeros((64, 64, 3), np.uint8)
    img.reshape(-1, 3)[:255] = (1, 2, 3)
    img.reshape(-1, 3)[255:511] = (4, 5, 6)
    s = screen_after(server.update(server.zrle_rect(0, 0, img, server.Deflater(), "rle")), 64, 64)
    assert np.array_equal(s.rgb(), img)


# --- Pseudo-encodings and other messages --------------------------------------------------


def test_desktop_size() -> None:
    client = connected(W, H, auto_update=True)
    evs = client.receive_data(server.update(server.pseudo(Encoding.DESKTOP_SIZE, 0, 0, 100, 80)))
    assert evs == [events.DesktopResized(100, 80), events.UpdateEnd()]
    assert (client.width, client.height) == (100, 80)
    # The next request is a full one, of the new size.
    assert client.data_to_send() == struct.pack(">BBHHHH", 3, 0, 0, 0, 100, 80)
    client.receive_data(server.update())
    assert client.data_to_send() == struct.pack(">BBHHHH", 3, 1, 0, 0, 100, 80)


def test_extended_desktop_size() -> None:
    client = connected(W, H)
    screens = (
        struct.pack(">B3x", 2)
        + struct.pack(">IHHHHI", 1, 0, 0, 50, 40, 0)
        + struct.pack(">IHHHHI", 2, 50, 0, 50, 40, 0)
    )
    evs = client.receive_data(
        server.update(server.pseudo(Encoding.EXTENDED_DESKTOP_SIZE, 0, 0, 100, 40) + screens)
    )
    assert evs[0] == events.DesktopResized(
        100, 40, (events.ScreenLayout(1, 0, 0, 50, 40, 0), events.ScreenLayout(2, 50, 0, 50, 40, 0))
    )
    assert client.can_set_desktop_size
    assert client.set_desktop_size(1024, 768)
    assert client.data_to_send() == struct.pack(">BxHHBx", 251, 1024, 768, 1) + struct.pack(
        ">IHHHHI", 1, 0, 0, 1024, 768, 0
    )
    # The server's answer to our request: refused (status 3), no resize.
    one = struct.pack(">B3x", 1) + struct.pack(">IHHHHI", 1, 0, 0, 100, 40, 0)
    evs = client.receive_data(
        server.update(server.pseudo(Encoding.EXTENDED_DESKTOP_SIZE, 1, 3, 1024, 768) + one)
    )
    assert evs == [events.DesktopSizeStatus(3), events.UpdateEnd()]
    assert (client.width, client.height) == (100, 40)


def test_set_desktop_size_needs_server_support(client: RFBClient) -> None:
    assert not client.set_desktop_size(800, 600)
    assert client.data_to_send() == b""


def test_cursor_shape() -> None:
    w, h = 10, 3
    img = server.random_image(h, w, 20)
    mask_bits = np.zeros((h, 16), np.uint8)
    mask_bits[0, :10] = 1
    mask_bits[1, 3] = 1
    mask = np.packbits(mask_bits, axis=1).tobytes()
    client = connected()
    evs = client.receive_data(
        server.update(server.pseudo(Encoding.CURSOR, 4, 1, w, h) + server.bgrx(img) + mask)
    )
    cur = evs[0]
    assert isinstance(cur, events.CursorShape)
    assert (cur.width, cur.height, cur.hotspot_x, cur.hotspot_y, cur.mask) == (w, h, 4, 1, mask)
    argb = np.frombuffer(cur.pixels, np.uint8).reshape(h, w, 4)
    assert np.array_equal(argb[0, :, :3], img[0, :, ::-1]) and np.all(argb[0, :, 3] == 255)
    assert np.array_equal(argb[1, 3], [*img[1, 3, ::-1], 255])
    assert not argb[1, :3].any() and not argb[2].any()  # transparent = all zero (premultiplied)


def test_empty_cursor() -> None:
    client = connected()
    evs = client.receive_data(server.update(server.pseudo(Encoding.CURSOR, 0, 0, 0, 0)))
    assert evs[0] == events.CursorShape(0, 0, 0, 0, b"", b"")


def test_cursor_hotspot_clamped() -> None:
    client = connected()
    evs = client.receive_data(
        server.update(server.pseudo(Encoding.CURSOR, 50, 50, 2, 2) + bytes(16) + b"\xc0\xc0")
    )
    assert (evs[0].hotspot_x, evs[0].hotspot_y) == (1, 1)


def test_qemu_pseudo_encodings(client: RFBClient) -> None:
    evs = client.receive_data(
        server.update(
            server.pseudo(Encoding.QEMU_EXTENDED_KEY_EVENT),
            server.pseudo(Encoding.QEMU_POINTER_MOTION_CHANGE, 0, 0, W, H),
            server.pseudo(Encoding.QEMU_LED_STATE, 0, 0, 1, 1) + b"\x05",
        )
    )
    assert evs == [
        events.ExtendedKeyEventSupported(),
        events.PointerModeChanged(absolute=False),
        events.LedState(scroll_lock=True, num_lock=False, caps_lock=True),
        events.UpdateEnd(),
    ]
    assert client.extended_keys and not client.absolute_pointer
    evs = client.receive_data(
        server.update(server.pseudo(Encoding.QEMU_POINTER_MOTION_CHANGE, 1, 0, W, H))
    )
    assert evs[0] == events.PointerModeChanged(absolute=True)


def test_desktop_name(client: RFBClient) -> None:
    evs = client.receive_data(
        server.update(server.pseudo(Encoding.DESKTOP_NAME) + server.string("héllo".encode()))
    )
    assert evs[0] == events.DesktopNameChanged("héllo") and client.name == "héllo"


def test_last_rect_ends_update_early(client: RFBClient) -> None:
    t = server.TightEncoder()
    data = server.update(
        t.fill(0, 0, 4, 4, (1, 2, 3)), server.pseudo(Encoding.LAST_RECT), count=0xFFFF
    )
    evs = client.receive_data(data + struct.pack(">B", 2))
    assert [type(e) for e in evs] == [events.FillRect, events.UpdateEnd, events.Bell]


def test_bell_cut_text_colour_map(client: RFBClient) -> None:
    evs = client.receive_data(
        b"\x02"
        + b"\x03\x00\x00\x00"
        + server.string("naïve\n".encode("latin-1"))
        + struct.pack(">BxHH", 1, 0, 2)
        + bytes(12)
        + b"\x02"
    )
    assert evs == [events.Bell(), events.ServerCutText("naïve\n"), events.Bell()]


def test_zero_sized_rects_are_no_ops(client: RFBClient) -> None:
    t = server.TightEncoder()
    d = server.Deflater()
    evs = client.receive_data(
        server.update(
            server.rect_header(W, H, 0, 0, 0),
            server.copy_rect(0, 0, 0, 0, W, H),
            t.fill(0, 0, 0, 5, (1, 2, 3)),
            server.zlib_rect(3, 3, np.zeros((0, 4, 3), np.uint8), d),
            server.zrle_rect(0, 0, np.zeros((0, 0, 3), np.uint8), server.Deflater()),
        )
    )
    assert evs == [events.UpdateEnd()]
    assert not client.closed
