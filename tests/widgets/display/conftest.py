"""Display-test fixtures: a VNC session over a socketpair whose other end the test plays
(FakeServer), and a canvas showing it."""

from __future__ import annotations

import pytest

from app.qt.display.vnc import VncSession
from tests.widgets.display.fakeserver import FakeServer
from widgets.display.canvas import DisplayCanvas
from widgets.display.geometry import Scaling

FB_W, FB_H = 64, 48


@pytest.fixture
def fake(qtbot):
    """(server, session): a connected VncSession past its handshake, 64x48."""
    server, client_sock = FakeServer.pair()
    session = VncSession(client_sock)
    server.greet(FB_W, FB_H)
    qtbot.waitUntil(lambda: session.width == FB_W, timeout=2000)
    qtbot.waitUntil(lambda: bool(server.pump() or server.of(object)), timeout=2000)
    yield server, session
    session.close()
    server.close()
    session.deleteLater()


@pytest.fixture
def canvas(qtbot, fake):
    """A shown 64x48 canvas (scale 1) on the fake session."""
    _server, session = fake
    c = DisplayCanvas()
    qtbot.addWidget(c)
    c.set_scaling(Scaling.FIT)
    c.resize(FB_W, FB_H)
    with qtbot.waitExposed(c):
        c.show()
    c.set_session(session)
    return c
