"""Reaching a display: which connections can hand over the graphics socket, and that a
remote one is refused before any call that could wait for a descriptor."""

from __future__ import annotations

import socket

import pytest

from app.core.errors import ErrorKind
from app.qt.display.opener import VNC, NoDisplay, open_display, passes_descriptors

VNC_XML = """<domain type='qemu'><name>g</name><devices>
<graphics type='vnc' autoport='yes'><listen type='none'/></graphics>
</devices></domain>"""


class FakeDomain:
    def __init__(self) -> None:
        self.opened: list[tuple[int, int]] = []
        self.peers: list[socket.socket] = []

    def XMLDesc(self, flags: int) -> str:
        return VNC_XML

    def openGraphicsFD(self, idx: int, flags: int) -> int:
        self.opened.append((idx, flags))
        mine, theirs = socket.socketpair()
        self.peers.append(theirs)
        return mine.detach()


class FakeConnection:
    def __init__(self, uri: str) -> None:
        self.uri = uri
        self.domain = FakeDomain()

    def getURI(self) -> str:
        return self.uri

    def lookupByUUIDString(self, uuid: str) -> FakeDomain:
        return self.domain


@pytest.mark.parametrize(
    ("uri", "passes"),
    [
        ("qemu:///system", True),
        ("qemu:///embed?root=/tmp/x", True),
        ("qemu+unix:///system?socket=/run/libvirt/libvirt-sock", True),
        ("test:///default", True),
        ("qemu+ssh://me@server/system", False),
        ("qemu+ssh://me@localhost/system", False),
        ("qemu+tcp://server/system", False),
        ("qemu://server/system", False),  # TLS
        ("qemu+libssh2://me@server/system?known_hosts=/x", False),
    ],
)
def test_which_connections_pass_descriptors(uri: str, passes: bool) -> None:
    assert passes_descriptors(uri) is passes


def test_local_connection_opens_the_graphics_socket() -> None:
    conn = FakeConnection("qemu+unix:///system?socket=/run/libvirt/libvirt-sock")
    endpoint = open_display(conn, "uuid")
    try:
        assert endpoint.protocol == VNC and conn.domain.opened == [(0, 1)]  # SKIPAUTH
        endpoint.sock.sendall(b"RFB")
        assert conn.domain.peers[0].recv(3) == b"RFB"
    finally:
        endpoint.sock.close()
        conn.domain.peers[0].close()


def test_remote_connection_is_refused_before_any_descriptor_call() -> None:
    conn = FakeConnection("qemu+ssh://me@server/system")
    with pytest.raises(NoDisplay) as caught:
        open_display(conn, "uuid")
    assert caught.value.kind is ErrorKind.UNSUPPORTED
    assert "another computer" in caught.value.summary
    assert conn.domain.opened == []
