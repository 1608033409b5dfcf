"""A hostile or broken server: every malformed-input class ends in one ProtocolError event
(never an exception, never unbounded memory), after which the client takes no input.

The classes are those behind gtk-vnc's CVE-2017-5884 and CVE-2017-5885 and their kin:
rectangles outside the framebuffer, colour-map (palette) indexes beyond the map, huge
sizes, truncated or garbage messages, zlib bombs, unknown message types and encodings.
"""

from __future__ import annotations

import struct
import tracemalloc
import zlib

import numpy as np
import pytest

from app.core.rfb import Encoding, RFBClient, RFBOptions, events
from tests.unit.core.rfb import server
from tests.unit.core.rfb.conftest import connected

W, H = 64, 48


def assert_protocol_error(client: RFBClient, data: bytes, *words: str) -> str:
    evs = client.receive_data(data)
    assert evs, "no event"
    last = evs[-1]
    assert isinstance(last, events.ProtocolError), evs
    assert all(w in last.reason for w in words), last.reason
    assert client.closed
    # Refuses further input and sends nothing more.
    assert client.receive_data(server.update()) == []
    client.key_event(0x61, True)
    assert client.data_to_send() == b""
    return last.reason


# --- Rectangles outside the framebuffer ---------------------------------------------------


@pytest.mark.parametrize(
    ("x", "y", "w", "h"),
    [
        (0, 0, W + 1, 1),
        (0, 0, 1, H + 1),
        (W, 0, 1, 1),
        (0, H, 1, 1),
        (60, 40, 5, 5),
        (65535, 65535, 65535, 65535),
        (1, 0, 65535, 1),
    ],
)
@pytest.mark.parametrize("encoding", [0, 1, 6, 7, 16])
def test_rect_outside_framebuffer(x: int, y: int, w: int, h: int, encoding: int) -> None:
    client = connected(W, H)
    data = server.update(server.rect_header(x, y, w, h, encoding) + bytes(64))
    assert_protocol_error(client, data, "outside")


@pytest.mark.parametrize(("sx", "sy"), [(W - 9, 0), (0, H - 9), (65535, 0)])
def test_copy_rect_source_outside(sx: int, sy: int) -> None:
    client = connected(W, H)
    assert_protocol_error(client, server.update(server.copy_rect(0, 0, 10, 10, sx, sy)), "source")


def test_rect_checked_against_size_after_resize() -> None:
    client = connected(W, H)
    img = server.random_image(10, 10)
    data = server.update(
        server.pseudo(Encoding.DESKTOP_SIZE, 0, 0, 8, 8), server.raw_rect(0, 0, img)
    )
    assert_protocol_error(client, data, "outside the 8x8")


# --- Colour-map / palette indexes beyond the map -----------------------------------------


def test_tight_palette_index_beyond_palette() -> None:
    t = server.TightEncoder()
    idx = np.zeros((4, 4), np.uint8)
    idx[2, 3] = 3  # a 3-colour palette: indexes 0-2
    data = server.update(t.palette(0, 0, idx, [(1, 1, 1), (2, 2, 2), (3, 3, 3)]))
    assert_protocol_error(connected(), data, "palette index 3")


def test_tight_palette_index_beyond_palette_uncompressed() -> None:
    # 1 colour, 2x2 rect: 4 index bytes, under 12 so sent raw; index 200.
    body = bytes([0x40 | 0x10, 1, 0, 9, 9, 9, 0, 0, 200, 0])
    data = server.update(server.rect_header(0, 0, 2, 2, 7) + body)
    assert_protocol_error(connected(), data, "palette index 200")


def test_zrle_packed_index_beyond_palette() -> None:
    # A 2x1 tile, 3-colour packed palette (2 bits a pixel), second index 3.
    tile = bytes([3]) + bytes(9) + bytes([0b00110000])
    data = server.update(server.zrle_raw_payload(0, 0, 2, 1, tile, server.Deflater()))
    assert_protocol_error(connected(), data, "palette index 3")


def test_zrle_palette_rle_index_beyond_palette() -> None:
    tile = bytes([130]) + bytes(6) + bytes([0x85, 1])  # index 5 of 2, run of 2
    data = server.update(server.zrle_raw_payload(0, 0, 2, 1, tile, server.Deflater()))
    assert_protocol_error(connected(), data, "palette index 5")


# --- Huge sizes ---------------------------------------------------------------------------


@pytest.mark.parametrize(("w", "h"), [(65535, 65535), (16385, 1), (8192, 8192), (1, 20000)])
def test_huge_server_init(w: int, h: int) -> None:
    client = RFBClient()
    data = server.greeting() + b"\x01\x01" + struct.pack(">I", 0) + server.server_init(w, h)
    (ev,) = client.receive_data(data)
    assert isinstance(ev, events.ProtocolError) and "over the limit" in ev.reason


def test_8k_fits_the_cap() -> None:
    client = connected(7680, 4320)
    assert (client.width, client.height) == (7680, 4320)


@pytest.mark.parametrize("encoding", [Encoding.DESKTOP_SIZE, Encoding.EXTENDED_DESKTOP_SIZE])
def test_huge_desktop_resize(encoding: int) -> None:
    payload = struct.pack(">B3x", 1) + struct.pack(">IHHHHI", 0, 0, 0, 1, 1, 0)
    data = server.update(
        server.pseudo(encoding, 0, 0, 60000, 60000)
        + (payload if encoding == Encoding.EXTENDED_DESKTOP_SIZE else b"")
    )
    assert_protocol_error(connected(), data, "over the limit")


def test_size_cap_is_an_option() -> None:
    client = RFBClient(RFBOptions(max_pixels=100))
    (ev,) = client.receive_data(server.handshake(11, 10))
    assert isinstance(ev, events.ProtocolError)


def test_huge_cursor() -> None:
    data = server.update(server.pseudo(Encoding.CURSOR, 0, 0, 4000, 4000))
    assert_protocol_error(connected(), data, "cursor")


def test_huge_cut_text_is_streamed_and_truncated() -> None:
    client = connected()
    size = 50 * 1024 * 1024
    header = b"\x03\x00\x00\x00" + struct.pack(">I", size)
    chunk = b"a" * (1 << 20)
    tracemalloc.start()
    try:
        evs = client.receive_data(header)
        for _ in range(size // len(chunk)):
            evs += client.receive_data(chunk)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert evs == [events.ServerCutText("a" * (1 << 20), truncated=True)]
    assert peak < 12 * (1 << 20)


def test_announced_but_unsent_sizes_cost_nothing() -> None:
    """A server announcing 4 GiB of zlib data or cut text and sending little."""
    some = server.Deflater()(bytes(1000))
    for data in (
        server.update(server.rect_header(0, 0, W, H, 6) + struct.pack(">I", 0xFFFFFFFF)) + some,
        b"\x03\x00\x00\x00" + struct.pack(">I", 0xFFFFFFFF) + bytes(1000),
        server.update(server.rect_header(0, 0, W, H, 16) + struct.pack(">I", 0xFFFFFFFF)) + some,
    ):
        client = connected()
        tracemalloc.start()
        try:
            assert client.receive_data(data) == []
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < 1 << 20


# --- Zlib bombs and broken zlib -----------------------------------------------------------


_c = zlib.compressobj(9)
BOMB = _c.compress(bytes(32 << 20)) + _c.flush(zlib.Z_SYNC_FLUSH)  # 32 MiB of zeros in ~32 KiB


@pytest.mark.parametrize("kind", ["zlib", "tight", "zrle"])
def test_zlib_bomb(kind: str) -> None:
    bomb = BOMB
    if kind == "zlib":
        rect = server.rect_header(0, 0, W, H, 6) + struct.pack(">I", len(bomb)) + bomb
    elif kind == "tight":
        rect = server.rect_header(0, 0, W, H, 7) + b"\x00" + server.compact_length(len(bomb)) + bomb
    else:
        rect = server.rect_header(0, 0, W, H, 16) + struct.pack(">I", len(bomb)) + bomb
    client = connected()
    tracemalloc.start()
    try:
        evs = client.receive_data(server.update(rect))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert isinstance(evs[-1], events.ProtocolError) and "more than" in evs[-1].reason
    assert peak < 4 << 20


@pytest.mark.parametrize("kind", ["zlib", "tight"])
def test_zlib_data_too_short(kind: str) -> None:
    z = server.Deflater()(bytes(100))
    if kind == "zlib":
        rect = server.rect_header(0, 0, W, H, 6) + struct.pack(">I", len(z)) + z
    else:
        rect = server.rect_header(0, 0, W, H, 7) + b"\x00" + server.compact_length(len(z)) + z
    assert_protocol_error(connected(), server.update(rect), "inflated to 100")


@pytest.mark.parametrize("kind", ["zlib", "tight", "zrle"])
def test_garbage_zlib(kind: str) -> None:
    junk = b"\x12\x34" * 50
    if kind == "zlib":
        rect = server.rect_header(0, 0, W, H, 6) + struct.pack(">I", len(junk)) + junk
    elif kind == "tight":
        rect = server.rect_header(0, 0, W, H, 7) + b"\x00" + server.compact_length(len(junk)) + junk
    else:
        rect = server.rect_header(0, 0, W, H, 16) + struct.pack(">I", len(junk)) + junk
    assert_protocol_error(connected(), server.update(rect), "zlib")


def test_finished_zlib_stream() -> None:
    z = zlib.compress(bytes(W * H * 4))  # Z_FINISH: the stream ends, which it must not
    rect = server.rect_header(0, 0, W, H, 6) + struct.pack(">I", len(z)) + z
    assert_protocol_error(connected(), server.update(rect), "ended")


# --- Truncated tiles and bad sub-encodings ------------------------------------------------


@pytest.mark.parametrize(
    ("tile", "words"),
    [
        (b"", "ends inside"),
        (b"\x00" + bytes(5), "ends inside"),  # raw tile of 2 pixels needs 6
        (b"\x01\x01", "ends inside"),
        (b"\x03" + bytes(9), "ends inside"),
        (b"\x80" + bytes(3), "ends inside"),
        (b"\x80" + bytes(3) + b"\xff", "past the end"),
        (b"\x80" + bytes(3) + b"\x05", "past the end"),  # run of 6 in a 2-pixel tile
        (b"\x80" + bytes(3) + b"\xff" * 3 + b"\x00", "past the end"),
        (b"\x82" + bytes(6) + b"\x81\x07", "past the end"),
        (b"\x11", "subencoding 17"),
        (b"\x7f", "subencoding 127"),
        (b"\x81", "subencoding 129"),
    ],
)
def test_zrle_malformed_tiles(tile: bytes, words: str) -> None:
    data = server.update(server.zrle_raw_payload(0, 0, 2, 1, tile, server.Deflater()))
    assert_protocol_error(connected(), data, words)


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"\xa0", "TightPNG"),
        (b"\xb0", "control"),
        (b"\xf0", "control"),
        (b"\x40\x03", "filter 3"),
    ],
)
def test_tight_malformed(body: bytes, words: str) -> None:
    data = server.update(server.rect_header(0, 0, 4, 4, 7) + body)
    assert_protocol_error(connected(), data, words)


# --- Unknown messages and encodings -------------------------------------------------------


@pytest.mark.parametrize("kind", [4, 5, 150, 248, 250, 255])
def test_unknown_server_message(kind: int) -> None:
    assert_protocol_error(connected(), bytes([kind]) + bytes(20), f"message type {kind}")


@pytest.mark.parametrize("encoding", [2, 5, 8, 21, -1, -260, -309, 0x574D5669, -(2**31)])
def test_unknown_encoding(encoding: int) -> None:
    data = server.update(server.rect_header(0, 0, 1, 1, encoding) + bytes(20))
    assert_protocol_error(connected(), data, f"encoding {encoding}")


# --- Truncation: the client waits, holding only a little ----------------------------------


def test_truncated_streams_wait_quietly() -> None:
    img = server.random_image(H, W, 1)
    t = server.TightEncoder()
    for data in (
        server.update(server.raw_rect(0, 0, img)),
        server.update(server.zlib_rect(0, 0, img, server.Deflater())),
        server.update(t.copy(0, 0, img)),
        server.update(server.zrle_rect(0, 0, img, server.Deflater())),
    ):
        for cut in (1, 3, 5, 16, len(data) // 2, len(data) - 1):
            client = connected()
            evs = client.receive_data(data[:cut])
            assert not any(isinstance(e, (events.ProtocolError, events.UpdateEnd)) for e in evs)
            assert not client.closed


# --- Internal errors are contained ---------------------------------------------------------


def test_decoder_bug_becomes_protocol_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import app.core.rfb.tight as tight

    def broken(*args: object) -> None:
        raise IndexError("boom")

    monkeypatch.setattr(tight, "rgb_to_bgrx", broken)
    t = server.TightEncoder()
    reason = assert_protocol_error(
        connected(), server.update(t.copy(0, 0, server.random_image(4, 4))), "internal error"
    )
    assert "IndexError" in reason
