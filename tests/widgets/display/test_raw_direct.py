"""Raw rows go from the socket straight into the framebuffer, or through a scratch buffer
when narrower than the screen (VncSession.get_buffer / buffer_updated): the picture is the
same as parsed, every pixel opaque, rectangles in order with the parsed ones around them,
and the bytes really take that way."""

from __future__ import annotations

import numpy as np

from tests.unit.core.rfb import server as rfb_server
from tests.widgets.display.conftest import FB_H, FB_W


def test_raw_is_read_into_the_framebuffer(qtbot, fake, monkeypatch) -> None:
    server, session = fake
    parsed: list[int] = []
    direct: list[int] = []
    data_received, buffer_updated = session.data_received, session.buffer_updated
    monkeypatch.setattr(
        session, "data_received", lambda d: (parsed.append(len(d)), data_received(d))
    )
    monkeypatch.setattr(session, "buffer_updated", lambda n: (direct.append(n), buffer_updated(n)))
    first = rfb_server.random_image(FB_H, FB_W, 1)
    narrow = rfb_server.random_image(5, 7, 2)
    band = rfb_server.random_image(10, FB_W, 3)
    data = rfb_server.update(
        rfb_server.raw_rect(0, 0, first, pad=0x5A),
        rfb_server.copy_rect(40, 30, 8, 8, 0, 0),  # reads what the direct read wrote
        rfb_server.raw_rect(3, 4, narrow, pad=0x11),
        rfb_server.raw_rect(0, 20, band, pad=0x77),
    )
    # In odd-sized pieces, each read on its own: rows split across reads, pixels too.
    piece = 1001
    base = session.transport.bytes_received
    for i in range(0, len(data), piece):
        server.send(data[i : i + piece])
        sent = min(len(data), i + piece)
        qtbot.waitUntil(lambda s=sent: session.transport.bytes_received == base + s, timeout=2000)
    qtbot.waitUntil(lambda: session.frames == 1, timeout=2000)

    # What the canvas paints from is opaque, with nothing else having read the pixels
    # first (the band after the CopyRect came straight in with X bytes of 0x77).
    img = session.image()
    x_bytes = np.frombuffer(img.constBits(), np.uint8, img.sizeInBytes())[3::4]
    assert np.all(x_bytes == 255)
    expected = first.copy()
    expected[30:38, 40:48] = first[0:8, 0:8]
    expected[4:9, 3:10] = narrow
    expected[20:30] = band
    fb = session.framebuffer
    assert np.array_equal(fb.array()[..., [2, 1, 0]], expected)
    assert np.all(fb.array()[..., 3] == 255)
    assert session.pixels_updated == FB_W * FB_H + 8 * 8 + 5 * 7 + 10 * FB_W
    raw = (FB_H * FB_W + 5 * 7 + 10 * FB_W) * 4
    assert sum(direct) > raw - 3 * piece  # all but the pieces that held a header
    assert sum(parsed) + sum(direct) == len(data)
    assert session.is_open
