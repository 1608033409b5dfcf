"""The display canvas over a scripted VNC server: painting only what changed, scaling,
keys as scancodes, the keyboard grab and its release, the mouse in both modes, and the
guest's cursor."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, QRect, Qt
from PySide6.QtGui import QAction, QCursor, QKeyEvent, QKeySequence, QRegion, QWheelEvent
from PySide6.QtWidgets import QApplication, QMainWindow

from app.core.rfb.protocol import RELATIVE_POINTER_CENTRE
from app.qt.display import vnc as vnc_module
from tests.unit.core.rfb import server as rfb_server
from tests.widgets.display.conftest import FB_H, FB_W
from tests.widgets.display.fakeserver import Key, Pointer, UpdateRequest
from widgets.display import keys
from widgets.display.canvas import DisplayCanvas
from widgets.display.geometry import Scaling

CTRL, ALT, SHIFT = 0x1D, 0x38, 0x2A
K = Qt.Key


class PaintSpy(QObject):
    """Records the region of every paint event a widget gets."""

    def __init__(self, widget) -> None:
        super().__init__(widget)
        self.regions: list[QRegion] = []
        widget.installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.regions.append(QRegion(event.region()))
        return False

    def union(self) -> QRegion:
        out = QRegion()
        for r in self.regions:
            out = out.united(r)
        return out


def area(region: QRegion) -> int:
    return sum(r.width() * r.height() for r in region)


def settle_paint(qtbot, spy: PaintSpy) -> None:
    qtbot.waitUntil(lambda: bool(spy.regions), timeout=2000)
    qtbot.wait(30)
    spy.regions.clear()


def pixel(widget, x: int, y: int) -> tuple[int, int, int]:
    c = widget.grab().toImage().pixelColor(x, y)
    return c.red(), c.green(), c.blue()


def test_paints_the_guest_and_repaints_only_the_damage(qtbot, fake, canvas) -> None:
    server, session = fake
    spy = PaintSpy(canvas)
    canvas.update()
    settle_paint(qtbot, spy)
    server.solid(0, 0, FB_W, FB_H, (0, 0, 80))
    qtbot.waitUntil(lambda: session.frames >= 1, timeout=2000)
    settle_paint(qtbot, spy)

    server.solid(10, 12, 8, 6, (250, 20, 30))
    qtbot.waitUntil(lambda: bool(spy.regions), timeout=2000)
    qtbot.wait(30)
    painted = spy.union()
    assert painted == QRegion(QRect(10, 12, 8, 6)), list(painted)
    assert pixel(canvas, 13, 14) == (250, 20, 30)
    assert pixel(canvas, 30, 30) == (0, 0, 80)

    # Two rectangles in one update: two small regions, not their bounding box.
    spy.regions.clear()
    server.update(
        rfb_server.raw_rect(0, 0, np.full((2, 2, 3), 200, np.uint8)),
        rfb_server.raw_rect(60, 44, np.full((4, 4, 3), 100, np.uint8)),
    )
    qtbot.waitUntil(lambda: bool(spy.regions), timeout=2000)
    qtbot.wait(30)
    assert spy.union() == QRegion(QRect(0, 0, 2, 2)).united(QRegion(QRect(60, 44, 4, 4)))


def test_damage_faster_than_the_screen_refreshes_waits_and_is_merged(
    qtbot, fake, canvas, monkeypatch
) -> None:
    # Updates that come faster than the screen refreshes are painted together at the next
    # refresh: one paint for the lot, and none of them lost.
    _server, session = fake
    monkeypatch.setattr(canvas, "refresh_interval_ms", lambda: 1500)  # slack for a slow CI
    spy = PaintSpy(canvas)
    canvas.update()
    settle_paint(qtbot, spy)
    session.damaged.emit([(0, 0, 2, 2)])
    qtbot.waitUntil(lambda: bool(spy.regions), timeout=2000)
    assert spy.union() == QRegion(QRect(0, 0, 2, 2))  # the first comes at once
    spy.regions.clear()
    session.damaged.emit([(10, 10, 2, 2)])
    session.damaged.emit([(20, 20, 3, 3)])
    qtbot.wait(100)
    assert spy.regions == []  # within the refresh interval: waiting
    qtbot.waitUntil(lambda: bool(spy.regions), timeout=2000)
    qtbot.wait(30)
    assert len(spy.regions) == 1
    assert spy.union() == QRegion(QRect(10, 10, 2, 2)).united(QRegion(QRect(20, 20, 3, 3)))


def test_the_refresh_interval_comes_from_the_screen(qtbot, canvas, monkeypatch) -> None:
    screen = canvas.screen()
    monkeypatch.setattr(type(screen), "refreshRate", lambda _self: 144.0)
    assert canvas.refresh_interval_ms() == 6
    monkeypatch.setattr(type(screen), "refreshRate", lambda _self: 0.0)  # unknown
    assert canvas.refresh_interval_ms() == 16


@pytest.mark.parametrize("partial_every_s", [3600.0, 0.0])
def test_damage_is_reported_once_per_update(qtbot, fake, monkeypatch, partial_every_s) -> None:
    # A Raw update that arrives in two pieces: one repaint when it is complete, not one per
    # socket read; a long-arriving update shows its progress no more often than allowed.
    server, session = fake
    monkeypatch.setattr(vnc_module, "PARTIAL_DAMAGE_S", partial_every_s)
    seen: list[list[tuple[int, int, int, int]]] = []
    session.damaged.connect(seen.append)
    rgb = np.full((FB_H, FB_W, 3), (10, 200, 30), np.uint8)
    data = rfb_server.update(rfb_server.raw_rect(0, 0, rgb))
    half = 4 + 12 + (FB_H // 2) * FB_W * 4  # update header, rect header, half the rows
    server.send(data[:half])
    qtbot.waitUntil(lambda: session.pixels_updated >= FB_W * FB_H // 2, timeout=2000)
    if partial_every_s:
        qtbot.wait(50)
        assert seen == []
    else:
        qtbot.waitUntil(lambda: len(seen) == 1, timeout=2000)
    server.send(data[half:])
    qtbot.waitUntil(lambda: session.pixels_updated == FB_W * FB_H, timeout=2000)
    qtbot.waitUntil(lambda: sum(h for *_, h in (r for rects in seen for r in rects)) == FB_H)
    assert len(seen) == (1 if partial_every_s else 2)
    assert session.framebuffer.pixel(FB_W - 1, FB_H - 1) == (10, 200, 30)


def test_scaled_damage_stays_small_and_pixels_follow(qtbot, fake, canvas) -> None:
    server, session = fake
    canvas.set_scaling(Scaling.ALWAYS)
    canvas.resize(FB_W * 2, FB_H * 2)
    qtbot.waitUntil(lambda: canvas.placement.scale == 2.0, timeout=2000)
    server.solid(0, 0, FB_W, FB_H, (0, 90, 0))
    qtbot.waitUntil(lambda: session.frames >= 1, timeout=2000)
    spy = PaintSpy(canvas)
    canvas.update()
    settle_paint(qtbot, spy)

    server.solid(20, 10, 4, 4, (255, 255, 0))
    qtbot.waitUntil(lambda: bool(spy.regions), timeout=2000)
    qtbot.wait(30)
    painted = spy.union()
    # 4x4 guest pixels at scale 2, grown by one guest pixel for smooth scaling
    assert painted.boundingRect() == QRect(38, 18, 12, 12)
    assert area(painted) < 0.02 * canvas.width() * canvas.height()
    assert pixel(canvas, 44, 24) == (255, 255, 0)
    assert pixel(canvas, 100, 80) == (0, 90, 0)


def test_letterbox_and_resize(qtbot, fake, canvas) -> None:
    server, session = fake
    canvas.set_scaling(Scaling.FIT)
    canvas.resize(200, 48)  # wider than the guest: centred, black bars
    server.solid(0, 0, FB_W, FB_H, (200, 200, 200))
    qtbot.waitUntil(lambda: session.frames >= 1, timeout=2000)
    qtbot.waitUntil(lambda: pixel(canvas, 100, 20) == (200, 200, 200), timeout=2000)
    assert pixel(canvas, 5, 20) == (0, 0, 0)
    assert canvas.placement.x == 68

    server.resize(100, 40)
    server.solid(0, 0, 100, 40, (10, 20, 250))
    qtbot.waitUntil(lambda: (session.width, session.height) == (100, 40), timeout=2000)
    qtbot.waitUntil(lambda: pixel(canvas, 100, 20) == (10, 20, 250), timeout=2000)
    assert canvas.placement.x == 50 and session.image().width() == 100
    # A full-size update request follows the resize
    qtbot.waitUntil(
        lambda: UpdateRequest(False, 0, 0, 100, 40) in server.of(UpdateRequest), timeout=2000
    )


def keys_sent(server) -> list[Key]:
    return server.of(Key)


def press(widget, key, mods=Qt.KeyboardModifier.NoModifier, down=True, text="") -> None:
    """One key event exactly as given (QTest presses modifier keys of its own)."""
    kind = QEvent.Type.KeyPress if down else QEvent.Type.KeyRelease
    QApplication.sendEvent(widget, QKeyEvent(kind, key, mods, text))


def release(widget, key, mods=Qt.KeyboardModifier.NoModifier) -> None:
    press(widget, key, mods, down=False)


def test_keys_go_as_scancodes_with_shift_added_where_needed(qtbot, fake, canvas) -> None:
    server, session = fake
    server.extended_keys()
    qtbot.waitUntil(lambda: session.extended_keys, timeout=2000)
    qtbot.keyClicks(canvas, "a>")
    qtbot.keyClick(canvas, K.Key_Return)
    expected = [
        Key(True, 0x61, 0x1E),
        Key(False, 0x61, 0x1E),
        Key(True, 0xFFE1, SHIFT),
        Key(True, 0x3E, 0x34),
        Key(False, 0x3E, 0x34),
        Key(False, 0xFFE1, SHIFT),
        Key(True, 0xFF0D, 0x1C),
        Key(False, 0xFF0D, 0x1C),
    ]
    qtbot.waitUntil(lambda: len(keys_sent(server)) >= len(expected), timeout=2000)
    assert keys_sent(server) == expected


def test_keysyms_when_the_server_takes_no_scancodes(qtbot, fake, canvas) -> None:
    server, _session = fake
    qtbot.keyClicks(canvas, "Hi")
    qtbot.waitUntil(lambda: len(keys_sent(server)) >= 4, timeout=2000)
    assert [(k.down, k.keysym, k.scancode) for k in keys_sent(server)][:2] == [
        (True, 0x48, None),
        (False, 0x48, None),
    ]


def test_autorepeat_sends_presses_only(qtbot, fake, canvas) -> None:
    server, session = fake
    server.extended_keys()
    qtbot.waitUntil(lambda: session.extended_keys, timeout=2000)
    for kind, rep in [
        (QEvent.Type.KeyPress, False),
        (QEvent.Type.KeyRelease, True),
        (QEvent.Type.KeyPress, True),
        (QEvent.Type.KeyRelease, False),
    ]:
        ev = QKeyEvent(kind, K.Key_B, Qt.KeyboardModifier.NoModifier, "b", rep)
        QApplication.sendEvent(canvas, ev)
    qtbot.waitUntil(lambda: len(keys_sent(server)) >= 3, timeout=2000)
    assert [k.down for k in keys_sent(server)] == [True, True, False]


def test_click_grabs_and_ctrl_alt_releases(qtbot, fake, canvas) -> None:
    server, session = fake
    server.extended_keys()
    qtbot.waitUntil(lambda: session.extended_keys, timeout=2000)
    grabs: list[bool] = []
    canvas.grabChanged.connect(grabs.append)
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=QPoint(10, 11))
    assert canvas.grabbed and grabs == [True]
    qtbot.waitUntil(lambda: len(server.of(Pointer)) >= 2, timeout=2000)
    assert server.of(Pointer)[-2:] == [Pointer(10, 11, 1), Pointer(10, 11, 0)]

    # Ctrl+Alt+Del reaches the guest and keeps the grab ...
    ctrl = Qt.KeyboardModifier.ControlModifier
    alt = Qt.KeyboardModifier.AltModifier
    press(canvas, K.Key_Control)
    press(canvas, K.Key_Alt, ctrl)
    press(canvas, K.Key_Delete, ctrl | alt)
    release(canvas, K.Key_Delete, ctrl | alt)
    release(canvas, K.Key_Alt, ctrl | alt)
    release(canvas, K.Key_Control, ctrl)
    assert canvas.grabbed
    qtbot.waitUntil(lambda: len(keys_sent(server)) >= 6, timeout=2000)
    assert [(k.down, k.scancode) for k in keys_sent(server)] == [
        (True, CTRL),
        (True, ALT),
        (True, 0xD3),
        (False, 0xD3),
        (False, ALT),
        (False, CTRL),
    ]

    # ... Ctrl+Alt alone releases it, and the guest sees both keys come up.
    before = len(keys_sent(server))
    press(canvas, K.Key_Control)
    press(canvas, K.Key_Alt, ctrl)
    release(canvas, K.Key_Alt, ctrl | alt)
    assert not canvas.grabbed and grabs == [True, False]
    release(canvas, K.Key_Control, ctrl)
    qtbot.waitUntil(lambda: len(keys_sent(server)) >= before + 4, timeout=2000)
    qtbot.wait(50)
    sent = [(k.down, k.scancode) for k in keys_sent(server)[before:]]
    assert sorted(sent) == sorted([(True, CTRL), (True, ALT), (False, ALT), (False, CTRL)])


def test_grab_keeps_window_shortcuts_from_firing(qtbot, fake) -> None:
    server, session = fake
    server.extended_keys()
    qtbot.waitUntil(lambda: session.extended_keys, timeout=2000)
    window = QMainWindow()
    qtbot.addWidget(window)
    canvas = DisplayCanvas()
    window.setCentralWidget(canvas)
    fired: list[bool] = []
    action = QAction("Save", window)
    action.setShortcut(QKeySequence("Ctrl+S"))
    action.triggered.connect(lambda: fired.append(True))
    window.addAction(action)
    window.resize(200, 150)
    with qtbot.waitActive(window):
        window.show()
        window.activateWindow()
    canvas.set_session(session)

    qtbot.keyClick(canvas, K.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert fired == [True]  # not grabbed: the window's shortcut works

    canvas.set_grabbed(True)
    qtbot.keyClick(canvas, K.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert fired == [True]  # grabbed: Ctrl+S went to the guest
    qtbot.waitUntil(lambda: any(k.scancode == 0x1F for k in keys_sent(server)), timeout=2000)
    canvas.set_grabbed(False)

    # Nido's Quit works from any window, but Ctrl+Q typed into the display is the guest's
    # (its application quits), grabbed or not.
    quits: list[bool] = []
    quit_action = QAction("Quit", window)
    quit_action.setShortcuts(keys.quit_keys())
    quit_action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
    quit_action.triggered.connect(lambda: quits.append(True))
    window.addAction(quit_action)
    qtbot.keyClick(canvas, K.Key_Q, Qt.KeyboardModifier.ControlModifier)
    assert quits == []
    qtbot.waitUntil(lambda: any(k.scancode == 0x10 for k in keys_sent(server)), timeout=2000)


def test_keys_held_when_focus_leaves_are_released(qtbot, fake, canvas) -> None:
    server, session = fake
    server.extended_keys()
    qtbot.waitUntil(lambda: session.extended_keys, timeout=2000)
    canvas.set_grabbed(True)
    press(canvas, K.Key_Shift)
    press(canvas, K.Key_X, Qt.KeyboardModifier.ShiftModifier, text="X")
    canvas.set_grabbed(False)
    qtbot.waitUntil(lambda: len(keys_sent(server)) >= 4, timeout=2000)
    assert [(k.down, k.scancode) for k in keys_sent(server)] == [
        (True, SHIFT),
        (True, 0x2D),
        (False, 0x2D),
        (False, SHIFT),
    ]


def test_absolute_pointer_lands_where_aimed_when_scaled(qtbot, fake, canvas) -> None:
    server, _session = fake
    canvas.set_scaling(Scaling.ALWAYS)
    canvas.resize(FB_W * 2, FB_H * 2)
    qtbot.waitUntil(lambda: canvas.placement.scale == 2.0, timeout=2000)
    qtbot.mouseClick(canvas, Qt.MouseButton.RightButton, pos=QPoint(21, 31))
    qtbot.mouseMove(canvas, QPoint(127, 95))
    qtbot.waitUntil(lambda: len(server.of(Pointer)) >= 3, timeout=2000)
    assert server.of(Pointer)[:3] == [Pointer(10, 15, 4), Pointer(10, 15, 0), Pointer(63, 47, 0)]

    wheel = QWheelEvent(
        QPointF(21, 31),
        QPointF(canvas.mapToGlobal(QPoint(21, 31))),
        QPoint(0, 0),
        QPoint(0, -240),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(canvas, wheel)
    qtbot.waitUntil(lambda: len(server.of(Pointer)) >= 7, timeout=2000)
    assert [p.buttons for p in server.of(Pointer)[3:7]] == [16, 0, 16, 0]
    canvas.set_grabbed(False)


def test_hidpi_mapping_uses_device_pixels(qtbot, fake, canvas, monkeypatch) -> None:
    server, _session = fake
    monkeypatch.setattr(canvas, "devicePixelRatioF", lambda: 2.0)
    canvas.set_scaling(Scaling.NEVER)
    canvas.resize(FB_W, FB_H)
    canvas.set_scaling(Scaling.FIT)
    canvas.set_scaling(Scaling.NEVER)
    assert canvas.minimumSize().width() == FB_W // 2
    pl = canvas.placement
    assert (pl.x, pl.y, pl.width, pl.height) == (16, 12, 32, 24)
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=QPoint(26, 19))
    qtbot.waitUntil(lambda: len(server.of(Pointer)) >= 1, timeout=2000)
    assert server.of(Pointer)[0] == Pointer(20, 14, 1)
    canvas.set_grabbed(False)


@pytest.mark.qt_log_ignore("This plugin does not support grabbing the (keyboard|mouse)")
def test_relative_mouse_is_grabbed_and_sends_deltas(qtbot, fake, canvas) -> None:
    server, session = fake
    server.pointer_mode(False)
    qtbot.waitUntil(lambda: not session.absolute_pointer, timeout=2000)
    home = QCursor.pos()
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=QPoint(5, 5))
    assert canvas.grabbed
    assert canvas.cursor().shape() == Qt.CursorShape.BlankCursor
    qtbot.wait(50)
    assert server.of(Pointer) == []  # that click only grabbed
    centre = canvas.rect().center()
    qtbot.mouseMove(canvas, centre + QPoint(10, -5))
    qtbot.waitUntil(lambda: len(server.of(Pointer)) >= 1, timeout=2000)
    c = RELATIVE_POINTER_CENTRE
    assert server.of(Pointer)[0] == Pointer(c + 10, c - 5, 0)
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=centre)
    qtbot.waitUntil(lambda: len(server.of(Pointer)) >= 2, timeout=2000)
    assert server.of(Pointer)[-1] == Pointer(c, c, 1)
    canvas.set_grabbed(False)
    assert canvas.cursor().shape() != Qt.CursorShape.BlankCursor
    assert QCursor.pos() == home  # the pointer is back where the grab began


def test_guest_cursor_shape(qtbot, fake, canvas) -> None:
    server, _session = fake
    server.cursor(8, 10, 2, 3)
    qtbot.waitUntil(lambda: canvas.cursor().shape() == Qt.CursorShape.BitmapCursor, timeout=2000)
    cur = canvas.cursor()
    assert (cur.hotSpot().x(), cur.hotSpot().y()) == (2, 3)
    assert cur.pixmap().size().width() == 8
    assert cur.pixmap().toImage().pixelColor(4, 4).red() == 255
    server.cursor(0, 0, 0, 0)  # "no cursor"
    qtbot.waitUntil(lambda: canvas.cursor().shape() == Qt.CursorShape.BlankCursor, timeout=2000)


def test_closed_session_takes_no_input(qtbot, fake, canvas) -> None:
    server, session = fake
    closed: list[str] = []
    session.closed.connect(closed.append)
    server.close()
    qtbot.waitUntil(lambda: bool(closed), timeout=2000)
    assert "closed" in closed[0]
    qtbot.keyClicks(canvas, "abc")
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=QPoint(5, 5))
    assert not canvas.grabbed


def test_a_screen_of_another_scale_places_the_picture_again(qtbot, canvas, monkeypatch) -> None:
    assert canvas.placement.scale == 1.0  # 64x48 at 1:1 on a screen of ratio 1
    monkeypatch.setattr(canvas, "devicePixelRatioF", lambda: 2.0)
    QApplication.sendEvent(canvas, QEvent(QEvent.Type.DevicePixelRatioChange))
    assert canvas.placement.scale == 0.5  # still one guest pixel per device pixel
