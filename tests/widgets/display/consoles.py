"""Helpers for console tests: an opener that hands out sockets whose server end the test
plays, and a helper that greets the console's latest connection."""

from __future__ import annotations

import threading

from app.core.errors import NidoError
from app.qt.display.opener import DisplayEndpoint
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
