"""The display of a guest on "another computer", against real QEMU: TCP, then an SSH tunnel.

The test guest runs on the embedded connection with its VNC server on TCP 127.0.0.1 (a
port libvirt picks) and a display password. The VM's console is opened twice with the
opener told that the connection is a remote one — ``qemu+tcp://localhost/system``, then
``qemu+ssh://tester@localhost/system`` — so it reads the listen address and port from the
live XML and connects by TCP, then through ``ssh -W`` (a stand-in that bridges its stdio
to the port, put first on PATH). Each time the overlay asks for the password, the
guest's colour bars appear in the widget, and after the console shuts down the stand-in
ssh has exited and been reaped. Then the guest's second display, SPICE, with the same
password, is shown over SSH the same way, with one tunnel per SPICE channel: its server
refuses the first connection (SPICE cannot ask during its handshake), the overlay asks,
and the answer, with "Remember" ticked, connects and goes into the keyring (an in-memory
one); opened again, the console connects with the remembered password and never asks.
One guest serves all of it.
"""

from __future__ import annotations

import dataclasses
import socket
import threading

import pytest

from app.core.xml import Domain
from app.qt.display import passwords
from app.qt.display.controller import DisplayState
from app.qt.display.opener import DisplayEndpoint, open_display
from app.qt.display.tunnel import TunnelSocket
from tests.guest import accelerator, domain_xml, linux_guest
from tests.integration.test_display import bars_in_framebuffer, bars_on_screen
from tests.integration.test_spice_display import bars_in_surface
from tests.widgets.display.fakessh import install_fake_ssh, pid_alive
from widgets.display.console import ConsoleView

pytestmark = pytest.mark.integration

BARS_TIMEOUT_MS = 90_000
STATE_TIMEOUT_MS = 30_000
PASSWORD = "n1do&pw"
SSH_URI = "qemu+ssh://tester@localhost/system"


@pytest.fixture
def guest(this_computer, memory_keyring, qtbot):
    env = this_computer
    virconn = env.conn.virconn
    name = "nido-it-remote-display"
    xml = domain_xml(
        name,
        linux_guest(),
        accelerator(),
        graphics=("vnc", "spice"),
        listen="127.0.0.1",
        password=PASSWORD,  # both servers'
    )
    dom = virconn.defineXML(xml)
    dom.create()

    def running():
        vm = env.model.find_vm_by_name(name)
        return vm is not None and vm.status.active

    qtbot.waitUntil(running, timeout=STATE_TIMEOUT_MS)
    yield env, env.model.find_vm_by_name(name), dom


def recording_opener(uri: str, opened: list[DisplayEndpoint], display: int = 0):
    """open_display of display number ``display`` as if the connection led to ``uri``;
    what it returned is kept (for VNC, once its network connect is done, which must run
    on the network pool)."""

    def opener(virconn, uuid: str, index: int = 0) -> DisplayEndpoint:
        endpoint = open_display(virconn, uuid, display, uri=uri)
        connect = endpoint.connect
        if connect is None:
            opened.append(endpoint)
            return endpoint

        def connect_and_keep() -> socket.socket:  # VNC: kept once connected
            assert threading.current_thread().name.startswith("display-net")
            sock = connect()
            opened.append(dataclasses.replace(endpoint, sock=sock, connect=None))
            return sock

        return dataclasses.replace(endpoint, connect=connect_and_keep)

    return opener


def open_console(qtbot, env, vm, uri: str, display: int = 0):
    """A console of display number ``display`` opened through ``uri``, shown; with the
    endpoints it opened, and the states it went through."""
    opened: list[DisplayEndpoint] = []
    states: list[DisplayState] = []
    view = ConsoleView(env.hub, vm, opener=recording_opener(uri, opened, display))
    view.controller.stateChanged.connect(lambda state, _detail: states.append(state))
    qtbot.addWidget(view)
    view.resize(960, 600)
    view.show()
    return view, opened, states


def answer_password(qtbot, view: ConsoleView, remember: bool = False) -> None:
    qtbot.waitUntil(lambda: view.state is DisplayState.PASSWORD, timeout=STATE_TIMEOUT_MS)
    assert view.overlay.password.isVisible()
    view.overlay.password.setText(PASSWORD)
    view.overlay.remember.setChecked(remember)
    view.overlay.password_button.click()
    qtbot.waitUntil(lambda: view.state is DisplayState.CONNECTED, timeout=STATE_TIMEOUT_MS)


def console_through(qtbot, env, vm, uri: str) -> tuple[ConsoleView, list[DisplayEndpoint]]:
    """A console opened through ``uri``, past the password prompt, showing the bars."""
    view, opened, _states = open_console(qtbot, env, vm, uri)
    answer_password(qtbot, view)
    qtbot.waitUntil(lambda: bars_in_framebuffer(view), timeout=BARS_TIMEOUT_MS)
    qtbot.waitUntil(lambda: bars_on_screen(view), timeout=10_000)
    return view, opened


def test_remote_display_over_tcp_then_ssh_tunnels(
    guest, qtbot, tmp_path, monkeypatch, memory_keyring
):
    env, vm, dom = guest
    vnc, spice = Domain.from_xml(dom.XMLDesc(0)).devices.graphics
    port = vnc.port
    assert vnc.listen_host == "127.0.0.1" and port is not None and port >= 5900
    assert spice.listen_host == "127.0.0.1" and spice.port not in (None, port)

    # TCP: straight to the port the live XML names.
    view, opened = console_through(qtbot, env, vm, "qemu+tcp://localhost/system")
    [endpoint] = opened
    assert endpoint.remote and not isinstance(endpoint.sock, TunnelSocket)
    assert endpoint.sock.getpeername() == ("127.0.0.1", port)
    view.shutdown()
    assert endpoint.sock.fileno() == -1  # the session closed its socket

    # SSH: through the stand-in ``ssh -W 127.0.0.1:port``, which ends with the console.
    fake = install_fake_ssh(tmp_path / "bin", monkeypatch)
    view, opened = console_through(qtbot, env, vm, SSH_URI)
    [endpoint] = opened
    assert isinstance(endpoint.sock, TunnelSocket) and endpoint.remote
    [run] = fake.runs()
    assert run["argv"][-5:] == ["tester", "-W", f"127.0.0.1:{port}", "--", "localhost"]
    assert "BatchMode=yes" in run["argv"] and pid_alive(run["pid"])
    view.shutdown()
    # Closing the session closed the tunnel's socket: the stand-in exited and was reaped.
    qtbot.waitUntil(lambda: not pid_alive(run["pid"]), timeout=10_000)
    tunnel = endpoint.sock.tunnel
    assert tunnel is not None
    # The reaper's wait() records the exit code a moment after the process is gone.
    qtbot.waitUntil(lambda: tunnel.process.returncode == 0, timeout=5000)

    # SPICE, the guest's second display, over SSH: a stand-in ssh per channel, each
    # ended and reaped with the console. Its server refuses the first connection; the
    # answer, to be remembered, connects.
    before = len(fake.runs())
    view, opened, _states = open_console(qtbot, env, vm, SSH_URI, display=1)
    answer_password(qtbot, view, remember=True)
    qtbot.waitUntil(
        lambda: view.canvas.session is not None and bars_in_surface(view.canvas.session),
        timeout=BARS_TIMEOUT_MS,
    )
    qtbot.waitUntil(lambda: bars_on_screen(view), timeout=10_000)
    assert {e.protocol for e in opened} == {"spice"} and all(e.remote for e in opened)
    assert len(opened) == 2  # refused, then with the password
    runs = fake.runs()[before:]
    assert len(runs) >= 3  # the refused main channel, then main and display at least
    assert {r["argv"][-3] for r in runs} == {f"127.0.0.1:{spice.port}"}
    key = (passwords.SERVICE, passwords.account(env.conn.uri, vm.uuid))
    qtbot.waitUntil(lambda: memory_keyring.entries.get(key) == PASSWORD, timeout=5000)
    view.shutdown()
    qtbot.waitUntil(lambda: not any(pid_alive(r["pid"]) for r in runs), timeout=10_000)

    # Opened again: refused without a password, then the remembered one, never asking.
    view, opened, states = open_console(qtbot, env, vm, SSH_URI, display=1)
    qtbot.waitUntil(lambda: view.state is DisplayState.CONNECTED, timeout=STATE_TIMEOUT_MS)
    qtbot.waitUntil(
        lambda: view.canvas.session is not None and bars_in_surface(view.canvas.session),
        timeout=BARS_TIMEOUT_MS,
    )
    assert DisplayState.PASSWORD not in states, states
    assert len(opened) == 2
    view.shutdown()
