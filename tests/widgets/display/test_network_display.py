"""Displays on another computer, in the controller: the network part of opening (a TCP
connect, an SSH login) runs on the network pool, never on the connection's call lane; and
a session that closes on an error says why in the route's words when the route knows
better (ssh's own, for a SPICE channel's tunnel) than the protocol library does."""

from __future__ import annotations

import socket
import threading

from app.core.errors import ErrorKind, NidoError
from app.qt.display.controller import DisplayController, DisplayState
from app.qt.display.opener import SPICE, VNC, DisplayEndpoint
from app.qt.display.session import DisplaySession
from tests.widgets.display.consoles import StandInSpiceSession, close_controller

DENIED = NidoError("SSH refused the login to server.", "ssh -W ...", ErrorKind.DENIED)


class DroppedSession(StandInSpiceSession):
    """A SPICE session whose channel hits end-of-file at once, as when ssh exits."""

    def answer(self) -> None:
        self._open = False
        self.closed.emit("the connection failed: incomplete link header")


def controller_with(env, explain) -> DisplayController:
    def opener(_virconn, _uuid: str) -> DisplayEndpoint:
        return DisplayEndpoint(SPICE, None, 0, open_fd=lambda: -1, remote=True, explain=explain)

    factories = {SPICE: lambda _endpoint, _password: DroppedSession()}
    return DisplayController(env.hub, env.vm_named("web"), opener=opener, factories=factories)


def test_the_routes_reason_replaces_the_protocols(qtbot, env) -> None:
    asked_on: list[str] = []

    def explain() -> NidoError | None:
        asked_on.append(threading.current_thread().name)
        return DENIED

    controller = controller_with(env, explain)
    try:
        controller.start()
        qtbot.waitUntil(lambda: controller.detail == DENIED.summary, timeout=3000)
        assert controller.state is DisplayState.RECONNECTING
        assert asked_on and asked_on[0].startswith("display-net")  # neither GUI nor lane
    finally:
        close_controller(qtbot, controller)


def test_without_a_better_reason_the_protocols_is_kept(qtbot, env) -> None:
    controller = controller_with(env, lambda: None)
    try:
        controller.start()
        qtbot.waitUntil(
            lambda: (
                "incomplete link header" in controller.detail
                and controller.state is DisplayState.RECONNECTING
            ),
            timeout=3000,
        )
        assert controller.detail.startswith("The display closed:")
    finally:
        close_controller(qtbot, controller)


def test_the_network_connect_runs_off_the_connections_lane(qtbot, env) -> None:
    """libvirt's part (reading the live XML) on the connection's workers, then the TCP
    connect or SSH login on the network pool: a remote daemon connection has one call
    lane, which a login of a second or two would hold."""
    threads: dict[str, str] = {}
    peers: list[socket.socket] = []

    def connect() -> socket.socket:
        threads["connect"] = threading.current_thread().name
        ours, theirs = socket.socketpair()
        peers.append(theirs)
        return ours

    def opener(_virconn, _uuid: str) -> DisplayEndpoint:
        threads["opener"] = threading.current_thread().name
        return DisplayEndpoint(VNC, None, 0, remote=True, connect=connect)

    made: list[DisplayEndpoint] = []

    def factory(endpoint: DisplayEndpoint, _password) -> DisplaySession:
        made.append(endpoint)
        return DroppedSession()

    controller = DisplayController(
        env.hub, env.vm_named("web"), opener=opener, factories={VNC: factory}
    )
    try:
        controller.start()
        qtbot.waitUntil(lambda: bool(made), timeout=3000)
        assert threads["opener"].startswith("conn-")
        assert threads["connect"].startswith("display-net")
        assert made[0].sock is not None and made[0].connect is None
    finally:
        close_controller(qtbot, controller)
        for sock in [*peers, *(e.sock for e in made if e.sock is not None)]:
            sock.close()
