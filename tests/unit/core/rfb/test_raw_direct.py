"""Raw rows read by the caller straight into its framebuffer (RFBClient.pending_raw,
take_raw_head, raw_rows_done, and RawReader over them): the parser goes on past them
exactly as if it had parsed them, says nothing about them, and refuses a count it did not
ask for; the picture is the one parsing paints, however the reads fall; a hostile stream
still writes nothing outside."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.rfb import Framebuffer, events
from app.core.rfb.direct import RawReader
from tests.unit.core.rfb import server
from tests.unit.core.rfb.conftest import Screen, connected

W, H = 16, 12


def _direct(client, fb: Framebuffer, body: bytes) -> list[events.Event]:
    """What a transport does: the held head and then ``body`` into the rows waited for."""
    x, y, w, rows = client.pending_raw()
    assert (x, w) == (0, W)
    head = client.take_raw_head()
    data = head + body
    view = fb.row_buffer(y, rows)
    view[: len(data)] = data
    fb.received(y * w, len(data) // 4)
    return client.raw_rows_done(len(data) // (w * 4))


def test_rows_read_by_the_caller_complete_the_update() -> None:
    img = server.random_image(H, W, 3)
    tail = server.random_image(2, 4, 4)
    data = server.update(server.raw_rect(0, 0, img, pad=0x5A), server.raw_rect(3, 5, tail))
    client = connected(W, H)
    screen = Screen()
    screen.fb.resize(W, H)
    row = W * 4
    split = 16 + 2 * row + 7  # the header, two rows and the start of the third
    screen.feed(client.receive_data(data[:split]))
    assert [(e.y, e.height) for e in screen.events] == [(0, 2)]
    assert client.pending_raw() == (0, 2, W, H - 2)
    rect_end = 16 + H * row
    after = _direct(client, screen.fb, data[split : rect_end - row])
    assert after == []  # no RectPixels for rows the caller put in place
    assert client.pending_raw() == (0, H - 1, W, 1)
    screen.feed(_direct(client, screen.fb, data[rect_end - row : rect_end]))
    assert client.pending_raw() is None  # the next rectangle's header is awaited
    screen.feed(client.receive_data(data[rect_end:]))
    assert isinstance(screen.events[-1], events.UpdateEnd)
    expected = img.copy()
    expected[5:7, 3:7] = tail
    assert np.array_equal(screen.rgb(), expected)
    assert np.all(screen.fb.array()[..., 3] == 255)


def test_nothing_pending_outside_raw_rows() -> None:
    client = connected(W, H)
    assert client.pending_raw() is None
    with pytest.raises(ValueError):
        client.take_raw_head()
    with pytest.raises(ValueError):
        client.raw_rows_done(1)
    client.receive_data(server.update(server.copy_rect(0, 0, 4, 4, 8, 8)))
    assert client.pending_raw() is None


@pytest.mark.parametrize("rows", [0, -1, 4])
def test_a_count_the_parser_did_not_ask_for_is_refused(rows: int) -> None:
    client = connected(W, H)
    client.receive_data(server.update(server.raw_rect(0, 0, server.random_image(3, W)))[:16])
    assert client.pending_raw() == (0, 0, W, 3)
    with pytest.raises(ValueError):
        client.raw_rows_done(rows)
    assert client.pending_raw() == (0, 0, W, 3)  # nothing moved


def test_a_closed_client_offers_nothing() -> None:
    client = connected(W, H)
    client.receive_data(server.update(server.raw_rect(0, 0, server.random_image(3, W)))[:16])
    client.close()
    assert client.pending_raw() is None


def test_framebuffer_rows_and_opacity_stay_inside() -> None:
    fb = Framebuffer(W, H)
    assert len(fb.row_buffer(H - 2, 2)) == 2 * W * 4
    for y, rows in ((H - 1, 2), (-1, 1), (0, -1)):
        with pytest.raises(ValueError):
            fb.row_buffer(y, rows)
    for start, count in ((W * H - 1, 2), (-1, 1), (0, -1)):
        with pytest.raises(ValueError):
            fb.received(start, count)


def _x_bytes(fb: Framebuffer) -> np.ndarray:
    """The X bytes as they are in memory (what a QImage over the data would read), without
    settling first as array() does."""
    return np.frombuffer(fb.data, np.uint8).reshape(fb.height, fb.width, 4)[..., 3]


def _receive_rows(fb: Framebuffer, y: int, rows: int, x_byte: int) -> None:
    view = fb.row_buffer(y, rows)
    view[:] = bytes([10, 20, 30, x_byte]) * (rows * fb.width)
    fb.received(y * fb.width, rows * fb.width)


def test_pixels_read_straight_in_are_opaque_to_every_reader() -> None:
    fb = Framebuffer(W, H)
    _receive_rows(fb, 2, 3, 0x00)
    assert np.all(fb.array()[..., 3] == 255)
    assert np.all(_x_bytes(fb) == 255)  # settled in place, for a QImage over the data too
    assert fb.pixel(0, 3) == (30, 20, 10)


def test_a_copy_from_pixels_read_straight_in_lands_opaque() -> None:
    # The copy's destination lies outside what was received: were the source copied
    # unsettled, its X bytes would stay 0 there for good.
    fb = Framebuffer(W, H)
    _receive_rows(fb, 0, 2, 0x00)
    fb.copy(0, 0, 0, 8, W, 2)
    assert np.all(_x_bytes(fb)[8:10] == 255)


def test_a_resize_keeps_pixels_read_straight_in_opaque() -> None:
    fb = Framebuffer(W, H)
    _receive_rows(fb, 0, H, 0x11)
    fb.resize(W + 4, H + 4)
    assert np.all(_x_bytes(fb) == 255)
    assert fb.pixel(W - 1, H - 1) == (30, 20, 10)


# --- RawReader: what a transport does with it ---------------------------------------------


def drive(client, screen: Screen, data: bytes, sizes: list[int]) -> int:
    """Deliver ``data`` as a socket transport would, each read at most the next of
    ``sizes`` (cycled): into RawReader's buffer when it offers one, else parsed. Events are
    applied as they come. Returns the bytes that went into buffers."""
    reader = RawReader()
    pos = direct = i = 0
    while pos < len(data) and not client.closed:
        size = sizes[i % len(sizes)]
        i += 1
        target = reader.buffer(client, screen.fb)
        if target is None:
            screen.feed(client.receive_data(data[pos : pos + size]))
            pos += size
            continue
        n = min(size, len(target), len(data) - pos)
        target[:n] = data[pos : pos + n]
        target.release()
        pos += n
        direct += n
        rect, evs = reader.commit(client, screen.fb, n)
        if rect is not None:
            x, y, w, h = rect
            assert x >= 0 and x + w <= screen.fb.width and y >= 0 and y + h <= screen.fb.height
        screen.feed(evs)
    return direct


RECT = st.one_of(
    st.tuples(st.just("raw"), st.integers(0, W - 1), st.integers(0, H - 1), st.integers(1, W),
              st.integers(1, H), st.integers(0, 255)),
    st.tuples(st.just("copy"), st.integers(0, W - 1), st.integers(0, H - 1), st.integers(1, W),
              st.integers(1, H), st.integers(0, 255)),
)  # fmt: skip


def build(rects: list[tuple]) -> bytes:
    out = []
    for i, (kind, x, y, w, h, seed) in enumerate(rects):
        w, h = min(w, W - x), min(h, H - y)
        if kind == "raw":
            if seed % 2:  # half the rectangles as wide as the screen
                x, w = 0, W
            out.append(server.raw_rect(x, y, server.random_image(h, w, seed + i), pad=seed))
        else:
            out.append(server.copy_rect(x, y, w, h, (seed * 7) % (W - w + 1), seed % (H - h + 1)))
    return server.update(*out)


@given(
    st.lists(st.lists(RECT, min_size=1, max_size=6), min_size=1, max_size=3),
    st.lists(st.integers(1, 3 * W * 4 + 5), min_size=1, max_size=8),
)
@settings(max_examples=150, deadline=None, database=None)
def test_reading_into_the_framebuffer_paints_what_parsing_paints(updates, sizes) -> None:
    data = b"".join(build(u) for u in updates)
    parsed = Screen()
    parsed.fb.resize(W, H)
    parsed.feed(connected(W, H).receive_data(data))
    fast = Screen()
    fast.fb.resize(W, H)
    client = connected(W, H)
    drive(client, fast, data, sizes)
    assert not client.closed, client.error
    assert np.array_equal(fast.fb.array(), parsed.fb.array())
    assert np.all(fast.fb.array()[..., 3] == 255)
    ends = [e for e in fast.events if isinstance(e, events.UpdateEnd)]
    assert len(ends) == len(updates)


def test_the_fast_path_takes_nearly_all_raw_bytes() -> None:
    img = server.random_image(H, W, 5)
    narrow = server.random_image(H, 5, 6)
    data = server.update(server.raw_rect(0, 0, img), server.raw_rect(3, 0, narrow))
    screen = Screen()
    screen.fb.resize(W, H)
    direct = drive(connected(W, H), screen, data, [100])
    assert direct >= len(data) - 4 - 2 * 100  # all but the reads that held a header
    expected = img.copy()
    expected[:, 3:8] = narrow
    assert np.array_equal(screen.rgb(), expected)


@given(
    st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=6),
    st.lists(st.integers(1, 200), min_size=1, max_size=5),
)
@settings(max_examples=150, deadline=None, database=None)
def test_a_hostile_stream_read_into_the_framebuffer_stays_inside(flips, sizes) -> None:
    data = bytearray(
        build([("raw", 0, 0, W, H, 1), ("raw", 2, 3, 5, 4, 2), ("copy", 1, 1, 4, 4, 3)])
        + build([("raw", 4, 0, 3, H, 4)])
    )
    for pos, value in flips:
        data[pos % len(data)] = value
    client = connected(W, H)
    screen = Screen()
    screen.fb.resize(W, H)
    drive(client, screen, bytes(data), sizes)  # raises if anything lands outside
    if client.closed:
        assert client.error
