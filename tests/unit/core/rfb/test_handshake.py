"""Handshakes: RFB 3.3, 3.7 and 3.8 with security None and VNC Authentication, refusals,
version negotiation, and what the client sends at each step."""

from __future__ import annotations

import struct

import pytest

from app.core.rfb import CLIENT_PIXEL_FORMAT, RFBClient, RFBOptions, State, events
from app.core.rfb.des import vnc_auth_response
from app.core.rfb.messages import set_encodings, set_pixel_format
from tests.unit.core.rfb import server

CHALLENGE = bytes(range(16))
# DES-ECB of the challenge under the bit-reversed key of "password", by OpenSSL:
# printf '\x00..\x0f' | openssl enc -des-ecb -provider legacy -K 0e86ceceeef64e26 -nopad
PASSWORD_RESPONSE = bytes.fromhex("b866924125c8eebb9debc1db61c538e2")
INIT = server.server_init(800, 600, b"guest")


def run(client: RFBClient, *chunks: bytes) -> tuple[list[events.Event], bytes]:
    evs: list[events.Event] = []
    for c in chunks:
        evs += client.receive_data(c)
    return evs, client.data_to_send()


def test_vnc_auth_response_matches_openssl() -> None:
    assert vnc_auth_response("password", CHALLENGE) == PASSWORD_RESPONSE


@pytest.mark.parametrize("version", [(3, 3), (3, 7), (3, 8)])
def test_security_none(version: tuple[int, int]) -> None:
    client = RFBClient(RFBOptions(auto_update=False))
    evs, out = run(client, server.greeting(version))
    assert evs == [] and out == server.greeting(version)
    if version == (3, 3):
        evs, out = run(client, struct.pack(">I", 1))
        assert out == b"\x01"  # ClientInit (shared)
    else:
        evs, out = run(client, b"\x02\x02\x01")  # offers VNC auth and None: None wins
        if version == (3, 7):  # no SecurityResult for None before 3.8: ClientInit follows
            assert out == b"\x01\x01"
        else:
            assert out == b"\x01"
            evs, out = run(client, struct.pack(">I", 0))
            assert out == b"\x01"
    evs, out = run(client, INIT)
    assert evs == [events.ServerInit(800, 600, "guest", CLIENT_PIXEL_FORMAT, version)]
    assert client.state is State.CONNECTED and client.version == version
    assert out == set_pixel_format(CLIENT_PIXEL_FORMAT) + set_encodings(
        client.options.all_encodings()
    )


@pytest.mark.parametrize("version", [(3, 3), (3, 7), (3, 8)])
def test_vnc_auth(version: tuple[int, int]) -> None:
    client = RFBClient(RFBOptions(password="password", auto_update=False))
    run(client, server.greeting(version))
    sec = struct.pack(">I", 2) if version == (3, 3) else b"\x01\x02"
    evs, out = run(client, sec + CHALLENGE)
    assert evs == []
    assert out == (b"" if version == (3, 3) else b"\x02") + PASSWORD_RESPONSE
    evs, out = run(client, struct.pack(">I", 0))
    assert out == b"\x01"
    evs, _ = run(client, INIT)
    assert isinstance(evs[0], events.ServerInit)


def test_password_asked_for_when_missing() -> None:
    client = RFBClient(RFBOptions(auto_update=False))
    evs, out = run(client, server.greeting() + b"\x01\x02" + CHALLENGE)
    assert evs == [events.AuthRequired()]
    assert out == server.greeting() + b"\x02"
    assert client.state is State.WAITING_FOR_PASSWORD
    # Input while waiting is held, not parsed.
    assert client.receive_data(struct.pack(">I", 0)) == []
    assert client.send_password("password") == []
    assert client.data_to_send() == PASSWORD_RESPONSE + b"\x01"
    evs, _ = run(client, INIT)
    assert isinstance(evs[0], events.ServerInit)


def test_server_flooding_during_password_wait_is_an_error() -> None:
    client = RFBClient()
    run(client, server.greeting() + b"\x01\x02" + CHALLENGE)
    evs = client.receive_data(bytes(100_000))
    assert isinstance(evs[0], events.ProtocolError) and client.closed


@pytest.mark.parametrize(
    ("version", "failure", "reason"),
    [
        ((3, 8), struct.pack(">I", 1) + server.string(b"wrong password"), "wrong password"),
        ((3, 8), struct.pack(">I", 1) + server.string(b""), "authentication failed"),
        ((3, 7), struct.pack(">I", 1), "authentication failed"),
        ((3, 3), struct.pack(">I", 2), "too many authentication failures"),
    ],
)
def test_auth_failed(version: tuple[int, int], failure: bytes, reason: str) -> None:
    client = RFBClient(RFBOptions(password="nope"))
    sec = struct.pack(">I", 2) if version == (3, 3) else b"\x01\x02"
    evs, _ = run(client, server.greeting(version), sec + CHALLENGE, failure)
    assert evs == [events.AuthFailed(reason)]
    assert client.closed and client.error == reason
    assert client.receive_data(INIT) == []  # refuses further input
    assert client.data_to_send() == b""


def test_security_none_failure_in_38() -> None:
    client = RFBClient()
    evs, _ = run(
        client, server.greeting() + b"\x01\x01" + struct.pack(">I", 1) + server.string(b"no")
    )
    assert evs == [events.AuthFailed("no")]


@pytest.mark.parametrize(
    "data",
    [
        server.greeting((3, 3)) + struct.pack(">I", 0) + server.string(b"go away"),
        server.greeting((3, 8)) + b"\x00" + server.string(b"go away"),
    ],
)
def test_server_refuses_connection(data: bytes) -> None:
    client = RFBClient()
    assert client.receive_data(data) == [events.AuthFailed("go away")]


def test_no_supported_security_type() -> None:
    client = RFBClient()
    (ev,) = client.receive_data(server.greeting() + b"\x02\x13\x10")
    assert isinstance(ev, events.AuthFailed) and "19, 16" in ev.reason


def test_unknown_security_type_in_33() -> None:
    client = RFBClient()
    (ev,) = client.receive_data(server.greeting((3, 3)) + struct.pack(">I", 16))
    assert isinstance(ev, events.ProtocolError)


@pytest.mark.parametrize(
    ("server_version", "spoken"),
    [
        ((3, 3), (3, 3)),
        ((3, 5), (3, 3)),
        ((3, 7), (3, 7)),
        ((3, 8), (3, 8)),
        ((3, 889), (3, 8)),
        ((4, 1), (3, 8)),
    ],
)
def test_version_negotiation(server_version: tuple[int, int], spoken: tuple[int, int]) -> None:
    client = RFBClient()
    client.receive_data(server.greeting(server_version))
    assert client.data_to_send() == b"RFB 003.%03d\n" % spoken[1]
    assert client.version == spoken


def test_max_version_option() -> None:
    client = RFBClient(RFBOptions(max_version=(3, 7)))
    client.receive_data(server.greeting((3, 8)))
    assert client.data_to_send() == b"RFB 003.007\n"


@pytest.mark.parametrize(
    "greeting", [b"HTTP/1.1 200", b"RFB 002.002\n", b"RFB 3.8\n\n\n\n\n", b"\0" * 12]
)
def test_not_an_rfb_server(greeting: bytes) -> None:
    client = RFBClient()
    (ev,) = client.receive_data(greeting)
    assert isinstance(ev, events.ProtocolError)


def test_exclusive_connection() -> None:
    client = RFBClient(RFBOptions(shared=False))
    client.receive_data(server.greeting((3, 3)) + struct.pack(">I", 1))
    assert client.data_to_send().endswith(b"\x00")


def test_auto_update_requests_full_screen_after_init() -> None:
    client = RFBClient()
    client.receive_data(server.handshake(320, 200))
    out = client.data_to_send()
    assert out.endswith(struct.pack(">BBHHHH", 3, 0, 0, 0, 320, 200))


def test_server_name_is_bounded_and_decoded() -> None:
    client = RFBClient()
    name = "café".encode() + b"x" * 10_000
    evs = client.receive_data(
        server.greeting((3, 3)) + struct.pack(">I", 1) + server.server_init(8, 8, name)
    )
    assert evs[0].name.startswith("café") and len(evs[0].name) <= 4096


def test_server_init_with_server_pixel_format_reported() -> None:
    from app.core.rfb.protocol import PixelFormat

    pf = PixelFormat(16, 16, True, True, 31, 63, 31, 11, 5, 0)
    client = RFBClient()
    evs = client.receive_data(
        server.greeting((3, 3)) + struct.pack(">I", 1) + server.server_init(8, 8, b"x", pf)
    )
    assert evs[0].pixel_format == pf
    # The client asks for its own format regardless.
    assert set_pixel_format(CLIENT_PIXEL_FORMAT) in client.data_to_send()
