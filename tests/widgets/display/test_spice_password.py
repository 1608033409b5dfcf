"""A SPICE display with a password: SPICE cannot ask during its handshake, so a refused
connection is the question. A password remembered in the keyring is tried first, in a new
session; one the server refuses is forgotten; the person's answer opens a new session with
it, and is remembered once accepted when they ask for that."""

from __future__ import annotations

from typing import ClassVar

from app.qt.display import passwords
from app.qt.display.controller import DisplayController, DisplayState
from app.qt.display.opener import SPICE, DisplayEndpoint
from tests.widgets.display.consoles import StandInSpiceSession, close_controller
from tests.widgets.display.keyrings import drain_keyring

RIGHT = "s3cret&"


class RefusingSession(StandInSpiceSession):
    """Stands in for SpiceSession against a server that wants ``RIGHT``."""

    made: ClassVar[list[str | None]] = []

    def __init__(self, password: str | None) -> None:
        self.made.append(password)
        super().__init__()

    def answer(self) -> None:
        if self.made[-1] == RIGHT:
            self.ready.emit()
        else:
            self._open = False
            self.auth_failed = True
            self.closed.emit("authentication failed")


def spice_controller(env, opened: list[int]) -> DisplayController:
    RefusingSession.made = []

    def opener(_virconn, _uuid: str) -> DisplayEndpoint:
        opened.append(1)
        return DisplayEndpoint(SPICE, None, 0, open_fd=lambda: -1)

    factories = {SPICE: lambda _endpoint, password: RefusingSession(password)}
    return DisplayController(env.hub, env.vm_named("web"), opener=opener, factories=factories)


def test_a_refused_spice_connection_asks_and_the_answer_reconnects(
    qtbot, env, memory_keyring
) -> None:
    opened: list[int] = []
    controller = spice_controller(env, opened)
    try:
        controller.start()
        qtbot.waitUntil(lambda: controller.state is DisplayState.PASSWORD, timeout=3000)
        assert RefusingSession.made == [None]
        assert controller.session is None  # the refused session is gone, not retried blindly
        qtbot.wait(200)
        assert len(opened) == 1

        controller.send_password("wrong")
        qtbot.waitUntil(lambda: len(RefusingSession.made) == 2, timeout=3000)
        qtbot.waitUntil(lambda: controller.state is DisplayState.PASSWORD, timeout=3000)
        assert RefusingSession.made[-1] == "wrong"
        assert controller.detail == "The display refused that password. Try again."

        controller.send_password(RIGHT)
        qtbot.waitUntil(lambda: controller.state is DisplayState.CONNECTED, timeout=3000)
        assert RefusingSession.made == [None, "wrong", RIGHT]
        assert len(opened) == 3
        drain_keyring()
        assert memory_keyring.entries == {}  # not asked to remember it
    finally:
        close_controller(qtbot, controller)


def test_a_remembered_spice_password_is_tried_without_asking(qtbot, env, memory_keyring):
    vm = env.vm_named("web")
    memory_keyring.entries[(passwords.SERVICE, passwords.account(env.conn.uri, vm.uuid))] = RIGHT
    states: list[DisplayState] = []
    opened: list[int] = []
    controller = spice_controller(env, opened)
    controller.stateChanged.connect(lambda state, _detail: states.append(state))
    try:
        controller.start()
        qtbot.waitUntil(lambda: controller.state is DisplayState.CONNECTED, timeout=3000)
        assert RefusingSession.made == [None, RIGHT]
        assert DisplayState.PASSWORD not in states  # the person was never asked
        assert len(opened) == 2
    finally:
        close_controller(qtbot, controller)


def test_a_refused_remembered_spice_password_is_forgotten_then_the_answer_kept(
    qtbot, env, memory_keyring
) -> None:
    vm = env.vm_named("web")
    key = (passwords.SERVICE, passwords.account(env.conn.uri, vm.uuid))
    memory_keyring.entries[key] = "old"
    controller = spice_controller(env, [])
    try:
        controller.start()
        qtbot.waitUntil(lambda: controller.state is DisplayState.PASSWORD, timeout=3000)
        assert RefusingSession.made == [None, "old"]
        assert "forgot" in controller.detail
        drain_keyring()
        assert key not in memory_keyring.entries
        controller.send_password(RIGHT, remember=True)
        qtbot.waitUntil(lambda: controller.state is DisplayState.CONNECTED, timeout=3000)
        qtbot.waitUntil(lambda: memory_keyring.entries.get(key) == RIGHT, timeout=3000)
        assert RefusingSession.made == [None, "old", RIGHT]
    finally:
        close_controller(qtbot, controller)
