"""A SPICE display with a password: SPICE cannot ask during its handshake, so a refused
connection is the question; the person's answer opens a new session with it."""

from __future__ import annotations

from typing import ClassVar

from PySide6.QtCore import QTimer
from PySide6.QtGui import QImage

from app.qt.display.controller import DisplayController, DisplayState
from app.qt.display.opener import SPICE, DisplayEndpoint
from app.qt.display.session import DisplaySession

RIGHT = "s3cret&"


class RefusingSession(DisplaySession):
    """Stands in for SpiceSession against a server that wants ``RIGHT``."""

    protocol = "spice"
    made: ClassVar[list[str | None]] = []

    def __init__(self, password: str | None) -> None:
        super().__init__()
        self.made.append(password)
        self._open = True
        QTimer.singleShot(0, self._answer)

    def _answer(self) -> None:
        if self.password_ok:
            self.ready.emit()
        else:
            self._open = False
            self.auth_failed = True
            self.closed.emit("authentication failed")

    @property
    def password_ok(self) -> bool:
        return self.made[-1] == RIGHT

    width = 640
    height = 480

    @property
    def is_open(self) -> bool:
        return self._open

    def image(self) -> QImage:
        return QImage(640, 480, QImage.Format.Format_RGB32)

    def close(self) -> None:
        self._open = False


def test_a_refused_spice_connection_asks_and_the_answer_reconnects(qtbot, env) -> None:
    RefusingSession.made = []
    opened: list[int] = []

    def opener(_virconn, _uuid: str) -> DisplayEndpoint:
        opened.append(1)
        return DisplayEndpoint(SPICE, None, 0, open_fd=lambda: -1)

    factories = {SPICE: lambda _endpoint, password: RefusingSession(password)}
    controller = DisplayController(env.hub, env.vm_named("web"), opener=opener, factories=factories)
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
    finally:
        controller.stop()
        with qtbot.waitSignal(controller.destroyed, timeout=2000):
            controller.deleteLater()
