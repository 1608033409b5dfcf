"""Helpers for console tests: an opener that hands out sockets whose server end the test
plays, a helper that greets the console's latest connection, a stand-in SPICE session for
controller tests, and the teardown of a display controller."""

from __future__ import annotations

import threading

from PySide6.QtCore import QTimer
from PySide6.QtGui import QImage

from app.core.errors import NidoError
from app.qt.display.controller import DisplayController
from app.qt.display.opener import DisplayEndpoint
from app.qt.display.session import DisplaySession
from tests.widgets.display.fakeserver import FakeServer
from widgets.display.console import ConsoleView


class FakeOpener:
    """Stands in for open_display on the workers: each call makes a socketpair whose
    server end the test plays."""

    def __init__(self) -> None:
        self.servers: list[FakeServer] = []
        self.fail: NidoError | None = None
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self, virconn, uuid: str) -> DisplayEndpoint:
        with self._lock:
            self.calls += 1
            if self.fail is not None:
                raise self.fail
            server, sock = FakeServer.pair()
            self.servers.append(server)
        return DisplayEndpoint("vnc", sock)

    def latest(self) -> FakeServer:
        with self._lock:
            return self.servers[-1]

    def close(self) -> None:
        for s in self.servers:
            s.close()


def connect(qtbot, view: ConsoleView, opener: FakeOpener, calls: int = 1, **greet) -> FakeServer:
    """Wait for the console's ``calls``-th connection and greet it as a 64x48 server."""
    qtbot.waitUntil(lambda: opener.calls >= calls and len(opener.servers) >= calls, timeout=3000)
    server = opener.latest()
    server.greet(64, 48, **greet)
    return server


class StandInSpiceSession(DisplaySession):
    """A SPICE session that shows a blank 640x480 picture and decides its fate in
    :meth:`answer`, on the event loop's next turn (as a real server answers later)."""

    protocol = "spice"
    width = 640
    height = 480

    def __init__(self) -> None:
        super().__init__()
        self._open = True
        QTimer.singleShot(0, self.answer)

    def answer(self) -> None:
        """Override: emit ready, or close with a reason."""

    @property
    def is_open(self) -> bool:
        return self._open

    def image(self) -> QImage:
        return QImage(640, 480, QImage.Format.Format_RGB32)

    def close(self) -> None:
        self._open = False


def close_controller(qtbot, controller: DisplayController) -> None:
    """Stop a controller and wait until Qt has deleted it."""
    controller.stop()
    with qtbot.waitSignal(controller.destroyed, timeout=2000):
        controller.deleteLater()
