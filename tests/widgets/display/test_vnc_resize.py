"""The guest's resolution following the view over VNC: VncSession asks with SetDesktopSize
once the server has said it takes one, once per size the view settles on, and stops asking
when the server says the guest cannot change resolution."""

from __future__ import annotations

import logging

from app.qt.display.session import MIN_HEIGHT, MIN_WIDTH
from app.qt.display.vnc import MAX_REQUEST, RESIZE_SETTLE_MS
from tests.widgets.display.conftest import FB_H, FB_W
from tests.widgets.display.fakeserver import DesktopSizeRequest

SETTLED_MS = RESIZE_SETTLE_MS * 3


def _asked(server) -> list[tuple[int, int]]:
    return [(m.width, m.height) for m in server.of(DesktopSizeRequest)]


def test_nothing_is_asked_until_the_server_says_it_can_resize(qtbot, fake) -> None:
    server, session = fake
    session.set_preferred_size(800, 600)
    qtbot.wait(SETTLED_MS)
    assert _asked(server) == []  # a server without ExtendedDesktopSize never hears of it
    server.extended_desktop_size(FB_W, FB_H)
    qtbot.waitUntil(lambda: _asked(server) == [(800, 600)], timeout=2000)
    assert server.of(DesktopSizeRequest)[0].screens == 1


def test_a_drag_asks_once_for_where_it_rests(qtbot, fake) -> None:
    server, session = fake
    server.extended_desktop_size(FB_W, FB_H)
    qtbot.waitUntil(lambda: session.client.can_set_desktop_size, timeout=2000)
    for width in range(600, 700, 10):
        session.set_preferred_size(width, 500)
        qtbot.wait(RESIZE_SETTLE_MS // 10)
    qtbot.waitUntil(lambda: bool(_asked(server)), timeout=2000)
    qtbot.wait(SETTLED_MS)
    assert _asked(server) == [(690, 500)]
    # The guest took it; the same view size again asks nothing more.
    server.extended_desktop_size(690, 500)
    qtbot.waitUntil(lambda: session.width == 690, timeout=2000)
    session.set_preferred_size(690, 500)
    qtbot.wait(SETTLED_MS)
    assert _asked(server) == [(690, 500)]
    # A tiny view asks for the smallest resolution a guest is asked for.
    session.set_preferred_size(40, 30)
    qtbot.waitUntil(lambda: len(_asked(server)) == 2, timeout=2000)
    assert _asked(server)[-1] == (MIN_WIDTH, MIN_HEIGHT)


def test_a_guest_that_cannot_resize_is_not_asked_again(qtbot, fake, caplog) -> None:
    caplog.set_level(logging.INFO, logger="app.qt.display.vnc")
    server, session = fake
    server.extended_desktop_size(FB_W, FB_H)
    session.set_preferred_size(800, 600)
    qtbot.waitUntil(lambda: _asked(server) == [(800, 600)], timeout=2000)
    # QEMU's answer for a display device without resolution changes (standard VGA).
    server.extended_desktop_size(FB_W, FB_H, reason=1, status=3)
    qtbot.waitUntil(lambda: session.resize_refused, timeout=2000)
    assert "cannot follow the window" in caplog.text
    assert (session.width, session.height) == (FB_W, FB_H)
    session.set_preferred_size(1024, 768)
    qtbot.wait(SETTLED_MS)
    assert _asked(server) == [(800, 600)]


def test_a_forwarded_request_keeps_the_session_asking(qtbot, fake) -> None:
    server, session = fake
    server.extended_desktop_size(FB_W, FB_H)
    session.set_preferred_size(800, 600)
    qtbot.waitUntil(lambda: _asked(server) == [(800, 600)], timeout=2000)
    # QEMU hands the size to a virtio GPU (status 4); the guest may follow later.
    server.extended_desktop_size(FB_W, FB_H, reason=1, status=4)
    qtbot.wait(RESIZE_SETTLE_MS)
    assert not session.resize_refused
    session.set_preferred_size(1024, 768)
    qtbot.waitUntil(lambda: _asked(server) == [(800, 600), (1024, 768)], timeout=2000)


def test_a_view_larger_than_qemu_serves_asks_for_its_shape_within_the_cap(qtbot, fake) -> None:
    server, session = fake
    server.extended_desktop_size(FB_W, FB_H)
    session.set_preferred_size(3840, 2100)  # a maximized console on a 4K screen
    qtbot.waitUntil(lambda: bool(_asked(server)), timeout=2000)
    (w, h), (cap_w, cap_h) = _asked(server)[0], MAX_REQUEST
    assert w <= cap_w and h <= cap_h
    assert w == cap_w and abs(w / h - 3840 / 2100) < 0.01  # the view's shape, at the cap


def test_turning_following_off_drops_a_size_still_on_its_way(qtbot, fake) -> None:
    server, session = fake
    session.set_preferred_size(800, 600)  # waits for the server's ExtendedDesktopSize
    session.clear_preferred_size()
    server.extended_desktop_size(FB_W, FB_H)
    qtbot.waitUntil(lambda: session.client.can_set_desktop_size, timeout=2000)
    qtbot.wait(SETTLED_MS)
    assert _asked(server) == []
