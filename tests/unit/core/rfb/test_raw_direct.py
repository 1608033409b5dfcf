"""Raw rows read by the caller straight into its framebuffer (RFBClient.pending_raw,
take_raw_head, raw_rows_done): the parser goes on past them exactly as if it had parsed
them, says nothing about them, and refuses a count it did not ask for."""

from __future__ import annotations

import numpy as np
import pytest

from app.core.rfb import Framebuffer, events
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
    fb.make_opaque(y * w, len(data) // 4)
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
            fb.make_opaque(start, count)
