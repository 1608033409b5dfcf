"""Display-test fixtures: a VNC session over a socketpair whose other end the test plays
(FakeServer), a canvas showing it, and console views over the test driver's hub whose
displays the test serves (``opener``, ``make_view``). The keyring fixtures are in
tests/conftest.py."""

from __future__ import annotations

import pytest

from app.qt.display.vnc import VncSession
from tests.widgets.display.consoles import FakeOpener
from tests.widgets.display.fakeserver import FakeServer
from widgets.display.canvas import DisplayCanvas
from widgets.display.console import ConsoleView
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


@pytest.fixture
def opener():
    o = FakeOpener()
    yield o
    o.close()


@pytest.fixture
def make_view(qtbot, env):
    made: list[ConsoleView] = []

    def make(name: str, opener=None, fallback=None) -> ConsoleView:
        vm = env.vm_named(name)
        kwargs = {"fallback": fallback}
        if opener is not None:
            kwargs["opener"] = opener
        view = ConsoleView(env.hub, vm, **kwargs)
        qtbot.addWidget(view)
        view.resize(400, 300)
        view.show()
        made.append(view)
        return view

    yield make
    for v in made:
        v.shutdown()
