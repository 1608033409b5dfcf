"""Client messages: bytes on the wire for each, and when the client sends them."""

from __future__ import annotations

import struct

import pytest

from app.core.rfb import CLIENT_PIXEL_FORMAT, Encoding, RFBClient, RFBOptions, events
from app.core.rfb import messages as m
from app.core.rfb.protocol import BUTTON_LEFT, WHEEL_DOWN
from tests.unit.core.rfb import server
from tests.unit.core.rfb.conftest import connected


def test_set_pixel_format_bytes() -> None:
    assert m.set_pixel_format(CLIENT_PIXEL_FORMAT) == bytes(
        [0, 0, 0, 0, 32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0]
    )


def test_set_encodings_bytes() -> None:
    assert m.set_encodings([7, -258]) == b"\x02\x00\x00\x02" + struct.pack(">ii", 7, -258)


def test_default_encodings_announce_the_pseudo_encodings() -> None:
    encs = RFBOptions(jpeg_quality=8, compress_level=2).all_encodings()
    assert encs[:5] == [7, 16, 6, 1, 0]
    for e in (-23 - 1, -254, -223, -308, -239, -258, -257, -261, -224, -307):
        assert e in encs
    assert RFBOptions(encodings=[16]).all_encodings()[:2] == [16, 0]  # Raw always there


def test_update_request(client: RFBClient) -> None:
    client.request_update()
    client.request_update(incremental=False, x=10, y=20, width=5, height=6)
    assert client.data_to_send() == struct.pack(">BBHHHH", 3, 1, 0, 0, 64, 48) + struct.pack(
        ">BBHHHH", 3, 0, 10, 20, 5, 6
    )


def test_auto_update_after_each_update() -> None:
    client = connected(auto_update=True)
    client.receive_data(server.update())
    assert client.data_to_send() == struct.pack(">BBHHHH", 3, 1, 0, 0, 64, 48)


def test_key_events(client: RFBClient) -> None:
    client.key_event(0xFF0D, True)
    assert client.data_to_send() == b"\x04\x01\x00\x00\x00\x00\xff\x0d"
    # No extended keys until the server says so: key() falls back to the keysym.
    client.qemu_key_event(0x61, 0x1E, True)
    assert client.data_to_send() == b""
    client.key(False, 0x61, 0x1E)
    assert client.data_to_send() == b"\x04\x00\x00\x00\x00\x00\x00\x61"
    client.receive_data(server.update(server.pseudo(Encoding.QEMU_EXTENDED_KEY_EVENT)))
    client.key(True, 0x61, 0x1E)
    client.key(True, 0xFF52, 0xC8)  # Up: E0 48 in QEMU numbering
    client.key(True, 0x62, None)  # no scancode known: keysym
    assert client.data_to_send() == (
        b"\xff\x00\x00\x01\x00\x00\x00\x61\x00\x00\x00\x1e"
        + b"\xff\x00\x00\x01\x00\x00\xff\x52\x00\x00\x00\xc8"
        + b"\x04\x01\x00\x00\x00\x00\x00\x62"
    )


def test_pointer_events_clamped(client: RFBClient) -> None:
    client.pointer_event(10, 20, BUTTON_LEFT)
    client.pointer_event(-5, 1000, WHEEL_DOWN)
    assert client.data_to_send() == b"\x05\x01\x00\x0a\x00\x14" + b"\x05\x10\x00\x00\x00\x2f"


def test_relative_pointer(client: RFBClient) -> None:
    client.relative_pointer_event(5, -3, 0)
    client.relative_pointer_event(-100_000, 100_000, 0)
    assert client.data_to_send() == struct.pack(
        ">BBHH", 5, 0, 0x7FFF + 5, 0x7FFF - 3
    ) + struct.pack(">BBHH", 5, 0, 0, 0xFFFF)


def test_client_cut_text(client: RFBClient) -> None:
    client.client_cut_text("café ✓")
    assert client.data_to_send() == b"\x06\x00\x00\x00" + struct.pack(">I", 6) + b"caf\xe9 ?"


def test_messages_dropped_before_connected_and_after_close() -> None:
    client = RFBClient()
    client.receive_data(server.greeting())
    client.data_to_send()
    client.key_event(1, True)
    client.pointer_event(1, 1, 0)
    client.request_update()
    client.client_cut_text("x")
    client.set_encodings([0])
    assert client.data_to_send() == b""
    client = connected()
    client.close("bye")
    client.key_event(1, True)
    assert client.data_to_send() == b"" and client.closed and client.error == "bye"
    assert client.receive_data(server.update()) == []


def test_send_password_when_not_asked_is_ignored(client: RFBClient) -> None:
    assert client.send_password("x") == []
    assert client.data_to_send() == b""


@pytest.mark.parametrize("bad", [-1, 65536])
def test_encoders_reject_out_of_range(bad: int) -> None:
    with pytest.raises(ValueError):
        m.framebuffer_update_request(True, bad, 0, 1, 1)
    with pytest.raises(ValueError):
        m.set_desktop_size(bad, 1, [events.ScreenLayout(0, 0, 0, 1, 1, 0)])


def test_set_desktop_size_needs_a_screen() -> None:
    with pytest.raises(ValueError):
        m.set_desktop_size(10, 10, [])


def test_receive_data_accepts_any_bytes_like() -> None:
    client = RFBClient()
    client.receive_data(bytearray(b"RFB 003.008\n"))
    assert client.data_to_send() == b"RFB 003.008\n"
    client = RFBClient()
    client.receive_data(memoryview(b"RFB 003.008\n"))
    assert client.data_to_send() == b"RFB 003.008\n"
