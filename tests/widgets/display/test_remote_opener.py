"""Reaching a display on another computer: which way (TCP, an SSH tunnel, or refused with
the reason) for each connection URI and graphics XML, the ssh command line, and the
opener end to end over a stand-in ``ssh`` and a local TCP server (no remote host needed).
"""

from __future__ import annotations

import os
import signal
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from app.core.errors import ErrorKind, NidoError
from app.core.xml import Domain
from app.qt.display import tunnel
from app.qt.display.opener import SPICE, VNC, DisplayEndpoint, connected, open_display
from app.qt.display.route import SSH, TCP, RemoteDisplayRefused, plan_route, ssh_target
from app.qt.display.tunnel import TunnelSocket
from tests.widgets.display.fakessh import FakeSsh, GreetingServer, install_fake_ssh, pid_alive

GREETING = b"RFB 003.008\n"


def graphics(inner: str) -> Domain:
    return Domain.from_xml(f"<domain type='qemu'><name>g</name><devices>{inner}</devices></domain>")


def vnc(port: int = 5901, listen: str | None = "127.0.0.1", kind: str = "vnc") -> str:
    if listen is None:
        return f"<graphics type='{kind}' port='{port}' autoport='yes'/>"
    return (
        f"<graphics type='{kind}' port='{port}' autoport='yes' listen='{listen}'>"
        f"<listen type='address' address='{listen}'/></graphics>"
    )


def route_for(uri: str, xml: str):
    return plan_route(uri, graphics(xml).devices.graphics[0])


BASE_SSH = ("ssh", "-T", "-e", "none", "-o", "BatchMode=yes", "-o", "ConnectTimeout=8")


# -- the decision ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("uri", "xml", "kind", "host", "port"),
    [
        # SSH: the tunnel reaches whatever the server listens on, seen from the host.
        ("qemu+ssh://me@server/system", vnc(5901), SSH, "127.0.0.1", 5901),
        ("qemu+ssh://server/system", vnc(5902, "0.0.0.0"), SSH, "127.0.0.1", 5902),
        ("qemu+ssh://server/system", vnc(5903, "::"), SSH, "::1", 5903),
        ("qemu+ssh://server/system", vnc(5904, "192.168.1.5"), SSH, "192.168.1.5", 5904),
        ("qemu+ssh://server/system", vnc(5905, None), SSH, "127.0.0.1", 5905),
        ("qemu+libssh2://me@server/system", vnc(5906), SSH, "127.0.0.1", 5906),
        # TCP and TLS: straight to an address reachable from here.
        ("qemu+tcp://server/system", vnc(5910, "0.0.0.0"), TCP, "server", 5910),
        ("qemu://server/system", vnc(5911, "192.168.1.5"), TCP, "192.168.1.5", 5911),
        ("qemu+tcp://localhost/system", vnc(5912, "127.0.0.1"), TCP, "127.0.0.1", 5912),
        (
            "qemu+tcp://server/system",
            "<graphics type='spice' port='5913'>"
            "<listen type='network' address='10.0.0.7' network='lan'/></graphics>",
            TCP,
            "10.0.0.7",
            5913,
        ),
    ],
)
def test_reachable_displays_get_a_route(uri: str, xml: str, kind: str, host: str, port: int):
    route = route_for(uri, xml)
    assert (route.kind, route.host, route.port) == (kind, host, port)
    assert (route.ssh is not None) is (kind == SSH)
    assert bool(route.argv) is (kind == SSH)


@pytest.mark.parametrize(
    ("uri", "xml", "words"),
    [
        (
            "qemu+ssh://server/system",
            "<graphics type='vnc'><listen type='socket' socket='/run/g.vnc'/></graphics>",
            ["file socket", "listen address"],
        ),
        (
            "qemu+ssh://server/system",
            "<graphics type='vnc' autoport='yes'><listen type='none'/></graphics>",
            ["no network address", "another computer", "listen address"],
        ),
        (
            "qemu+tcp://server/system",
            vnc(5901, "127.0.0.1"),
            ["listens only to the computer it runs on", "over SSH"],
        ),
        ("qemu://server/system", vnc(5901, "::1"), ["(::1)", "TLS connection"]),
        (
            "qemu+ssh://server/system",
            "<graphics type='spice' port='-1' tlsPort='5901' autoport='yes'/>",
            ["only TLS", "plain port"],
        ),
        (
            "qemu+ssh://server/system",
            "<graphics type='vnc' port='-1' autoport='no'/>",
            ["no network port on server"],
        ),
    ],
)
def test_unreachable_displays_are_refused_with_the_reason(uri: str, xml: str, words: list[str]):
    with pytest.raises(RemoteDisplayRefused) as caught:
        route_for(uri, xml)
    assert caught.value.kind is ErrorKind.UNSUPPORTED
    for word in words:
        assert word in caught.value.summary
    assert uri in caught.value.details


def test_an_autoport_not_assigned_yet_is_worth_retrying() -> None:
    with pytest.raises(NidoError) as caught:
        route_for("qemu+ssh://server/system", vnc(-1))
    assert not isinstance(caught.value, RemoteDisplayRefused)
    assert caught.value.kind is ErrorKind.INVALID_STATE
    assert "no port yet" in caught.value.summary


def test_ssh_command_line() -> None:
    route = route_for("qemu+ssh://me@server/system", vnc(5901))
    assert route.argv == (*BASE_SSH, "-l", "me", "-W", "127.0.0.1:5901", "--", "server")


def test_ssh_command_line_honours_libvirts_ssh_parameters() -> None:
    uri = (
        "qemu+ssh://j%40doe@server.example:2222/system"
        "?keyfile=/home/j/.ssh/id_vm&no_verify=1&command=/opt/bin/ssh&no_tty=1"
    )
    route = route_for(uri, vnc(5903, "::"))
    assert route.argv == (
        "/opt/bin/ssh",
        *BASE_SSH[1:],
        "-o",
        "StrictHostKeyChecking=no",
        "-i",
        "/home/j/.ssh/id_vm",
        "-p",
        "2222",
        "-l",
        "j@doe",
        "-W",
        "[::1]:5903",
        "--",
        "server.example",
    )
    assert ssh_target("qemu+ssh://server/system?no_verify=0").no_verify is False


# -- the opener, end to end --------------------------------------------------------------------
class FakeDomain:
    def __init__(self, xml: str) -> None:
        self.xml = xml
        self.fd_calls = 0
        self.peers: list[socket.socket] = []

    def XMLDesc(self, flags: int) -> str:
        return f"<domain type='qemu'><name>g</name><devices>{self.xml}</devices></domain>"

    def openGraphicsFD(self, idx: int, flags: int) -> int:
        self.fd_calls += 1
        mine, theirs = socket.socketpair()
        self.peers.append(theirs)
        return mine.detach()


class FakeConnection:
    def __init__(self, uri: str, xml: str) -> None:
        self.uri = uri
        self.domain = FakeDomain(xml)

    def getURI(self) -> str:
        return self.uri

    def lookupByUUIDString(self, uuid: str) -> FakeDomain:
        return self.domain


def open_vnc(conn: FakeConnection) -> DisplayEndpoint:
    """open_display of a VNC display, then its network connect, as the controller does
    (on the connection's lane, then on the network pool)."""
    endpoint = open_display(conn, "uuid")
    assert endpoint.sock is None and endpoint.connect is not None  # not on the lane
    return connected(endpoint)


def eventually(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Poll ``condition`` until it holds or ``timeout`` passes; its last answer."""
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)
    return condition()


@pytest.fixture
def fake_ssh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeSsh:
    return install_fake_ssh(tmp_path / "bin", monkeypatch)


@pytest.fixture
def server() -> Iterator[GreetingServer]:
    s = GreetingServer(GREETING)
    yield s
    s.close()


def test_ssh_tunnel_carries_the_display_and_ends_with_its_socket(fake_ssh, server) -> None:
    conn = FakeConnection("qemu+ssh://me@server/system", vnc(server.port))
    endpoint = open_vnc(conn)
    sock = endpoint.sock
    assert isinstance(sock, TunnelSocket) and sock.tunnel is not None
    try:
        assert (endpoint.protocol, endpoint.remote, conn.domain.fd_calls) == (VNC, True, 0)
        [run] = fake_ssh.runs()
        assert run["pid"] == sock.tunnel.pid
        forward = f"127.0.0.1:{server.port}"
        assert run["argv"] == [*BASE_SSH[1:], "-l", "me", "-W", forward, "--", "server"]
        # The server's greeting was only peeked at: the session reads it whole.
        assert sock.recv(64) == GREETING
        sock.sendall(b"RFB 003.008\n")
        assert eventually(lambda: bytes(server.received) == GREETING)
    finally:
        sock.close()
    # ssh saw the end of its stdin and exited; the tunnel reaped it (no zombie left).
    assert eventually(lambda: sock.tunnel.exited)
    assert sock.tunnel.process.returncode == 0 and not pid_alive(run["pid"])
    assert server.client_closed.wait(10)


def test_a_lingering_ssh_is_terminated_then_killed(fake_ssh, server, monkeypatch) -> None:
    monkeypatch.setattr(tunnel, "EXIT_GRACE_S", 0.2)
    monkeypatch.setenv("FAKE_SSH_MODE", "stubborn")  # ignores both EOF and SIGTERM
    sock = open_vnc(FakeConnection("qemu+ssh://server/system", vnc(server.port))).sock
    assert isinstance(sock, TunnelSocket)
    assert sock.recv(64) == GREETING
    sock.close()
    assert eventually(lambda: sock.tunnel.exited)
    assert sock.tunnel.process.returncode == -signal.SIGKILL


def test_ssh_login_refused_is_a_clear_error_with_sshs_words(fake_ssh, server, monkeypatch):
    monkeypatch.setenv("FAKE_SSH_MODE", "deny")
    with pytest.raises(NidoError) as caught:
        open_vnc(FakeConnection("qemu+ssh://me@server/system", vnc(server.port)))
    err = caught.value
    assert err.kind is ErrorKind.DENIED and "SSH refused the login to server" in err.summary
    assert "Permission denied (publickey,password)" in err.details
    assert f"-W 127.0.0.1:{server.port}" in err.details
    [run] = fake_ssh.runs()
    assert eventually(lambda: not pid_alive(run["pid"]))


def test_forward_to_a_closed_port_is_a_clear_error(fake_ssh) -> None:
    closed = socket.create_server(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    with pytest.raises(NidoError) as caught:
        open_vnc(FakeConnection("qemu+ssh://server/system", vnc(port)))
    assert caught.value.kind is ErrorKind.UNREACHABLE
    assert "server could not connect to the VM's display port" in caught.value.summary
    assert "open failed" in caught.value.details


def test_a_tunnel_whose_display_never_speaks_times_out(fake_ssh) -> None:
    silent = GreetingServer(b"")
    try:
        route = route_for("qemu+ssh://server/system", vnc(silent.port))
        with pytest.raises(NidoError) as caught:
            tunnel.open_ssh_tunnel(route.argv, "server", timeout=0.5)
        assert caught.value.kind is ErrorKind.TIMEOUT
        assert "did not bring up the display" in caught.value.summary
        [run] = fake_ssh.runs()
        assert eventually(lambda: not pid_alive(run["pid"]))
    finally:
        silent.close()


def test_other_ssh_failures_quote_ssh() -> None:
    err = tunnel.ssh_failure(
        "server", ("ssh", "server"), "ssh: connect to host server port 22: Connection refused"
    )
    assert err.kind is ErrorKind.UNREACHABLE
    assert err.summary == (
        "The SSH connection to server for the display failed: "
        "ssh: connect to host server port 22: Connection refused"
    )
    assert err.details == "ssh server\nssh: connect to host server port 22: Connection refused"


def test_missing_ssh_program_says_so(tmp_path: Path) -> None:
    uri = f"qemu+ssh://server/system?command={tmp_path}/no-ssh"
    with pytest.raises(NidoError) as caught:
        open_vnc(FakeConnection(uri, vnc(5901)))
    assert caught.value.kind is ErrorKind.UNSUPPORTED
    assert "Install the OpenSSH client" in caught.value.summary


def test_tcp_route_connects_straight(server) -> None:
    conn = FakeConnection("qemu+tcp://localhost/system", vnc(server.port))
    endpoint = open_vnc(conn)
    try:
        assert (endpoint.protocol, endpoint.remote, conn.domain.fd_calls) == (VNC, True, 0)
        assert not isinstance(endpoint.sock, TunnelSocket)
        assert endpoint.sock.getpeername() == ("127.0.0.1", server.port)
        assert endpoint.sock.recv(64) == GREETING
    finally:
        endpoint.sock.close()


def test_tcp_to_a_closed_port_is_unreachable() -> None:
    closed = socket.create_server(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    with pytest.raises(NidoError) as caught:
        open_vnc(FakeConnection("qemu+tcp://localhost/system", vnc(port)))
    assert caught.value.kind is ErrorKind.UNREACHABLE
    assert f"Nothing answers on the display's port at 127.0.0.1:{port}" in caught.value.summary


def test_remote_spice_opens_a_connection_per_channel(server) -> None:
    conn = FakeConnection("qemu+tcp://localhost/system", vnc(server.port, kind="spice"))
    endpoint = open_display(conn, "uuid")
    assert (endpoint.protocol, endpoint.sock, endpoint.remote) == (SPICE, None, True)
    assert endpoint.open_fd is not None
    fd = endpoint.open_fd()
    with socket.socket(fileno=fd) as channel:
        assert channel.recv(64) == GREETING


def test_remote_spice_over_ssh_reaps_each_channels_ssh(fake_ssh, server) -> None:
    conn = FakeConnection("qemu+ssh://server/system", vnc(server.port, kind="spice"))
    endpoint = open_display(conn, "uuid")
    assert endpoint.open_fd is not None
    with socket.socket(fileno=endpoint.open_fd()) as channel:
        assert channel.recv(64) == GREETING
    [run] = fake_ssh.runs()
    assert eventually(lambda: not pid_alive(run["pid"]))
    assert endpoint.explain is not None and endpoint.explain(wait=0) is None  # nothing failed


def test_a_spice_channels_ssh_stuck_in_its_login_ends_with_the_channel(
    fake_ssh, server, monkeypatch
) -> None:
    """SPICE clients speak first, so nothing proves a channel's tunnel before the channel
    has it; an ssh that hangs must still end once the channel lets go."""
    monkeypatch.setattr(tunnel, "EXIT_GRACE_S", 0.2)
    monkeypatch.setenv("FAKE_SSH_MODE", "hang")
    conn = FakeConnection("qemu+ssh://server/system", vnc(server.port, kind="spice"))
    endpoint = open_display(conn, "uuid")
    fd = endpoint.open_fd()
    assert eventually(lambda: len(fake_ssh.runs()) == 1)
    [run] = fake_ssh.runs()
    time.sleep(0.4)
    assert pid_alive(run["pid"])  # holding its end, the channel keeps the tunnel
    os.close(fd)  # what spice-client-glib does when the session closes
    assert eventually(lambda: not pid_alive(run["pid"]))
    assert endpoint.explain(wait=0) is None  # Nido ended it: not a failure to report


def test_a_spice_channel_refused_by_ssh_is_explained_in_sshs_words(
    fake_ssh, server, monkeypatch
) -> None:
    monkeypatch.setenv("FAKE_SSH_MODE", "deny")
    conn = FakeConnection("qemu+ssh://me@server/system", vnc(server.port, kind="spice"))
    endpoint = open_display(conn, "uuid")
    with socket.socket(fileno=endpoint.open_fd()) as channel:
        channel.settimeout(10)
        assert channel.recv(64) == b""  # ssh is gone, and its end of the pair let go
    err = endpoint.explain()
    assert err is not None and err.kind is ErrorKind.DENIED
    assert "SSH refused the login to server" in err.summary
    assert "Permission denied (publickey,password)" in err.details


def test_local_connections_still_use_the_descriptor() -> None:
    conn = FakeConnection("qemu:///embed?root=/x", vnc(5901))
    endpoint = open_display(conn, "uuid")
    try:
        assert (conn.domain.fd_calls, endpoint.remote) == (1, False)
        assert endpoint.sock.family == socket.AF_UNIX
    finally:
        endpoint.sock.close()
        conn.domain.peers[0].close()
