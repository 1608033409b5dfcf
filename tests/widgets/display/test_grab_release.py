"""The shortcut that releases the keyboard grab: each choice releases with its own keys and
not with the others', a last key (Ctrl+Alt+G) never reaches the guest, and the choice made
from the menu of a console's grab label is kept in the settings, shown in that label,
and used by every console."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication

from app.qt.display.controller import DisplayState
from tests.widgets.display.consoles import connect
from tests.widgets.display.fakeserver import Key
from widgets.display import keys
from widgets.display.console import GRAB_HINT

K = Qt.Key
M = Qt.KeyboardModifier
CTRL, ALT, G = 0x1D, 0x38, 0x22
# XKB keycodes (evdev + 8), as Qt reports them in nativeScanCode() on X11 and Wayland.
XKB_LEFT_CTRL, XKB_RIGHT_CTRL = 37, 105


def send(widget, key, mods=M.NoModifier, *, down=True, text="", native=0, repeat=False) -> None:
    """One key event exactly as given (QTest presses modifier keys of its own)."""
    kind = QEvent.Type.KeyPress if down else QEvent.Type.KeyRelease
    QApplication.sendEvent(widget, QKeyEvent(kind, key, mods, native, 0, 0, text, repeat))


def ready(qtbot, fake) -> None:
    server, session = fake
    server.extended_keys()
    qtbot.waitUntil(lambda: session.extended_keys, timeout=2000)


def test_ctrl_alt_g_releases_and_the_guest_never_sees_the_g(qtbot, fake, canvas) -> None:
    ready(qtbot, fake)
    server, _session = fake
    canvas.release_shortcut = keys.release_shortcut("ctrl+alt+g")
    canvas.set_grabbed(True)
    # Ctrl+Alt alone no longer releases ...
    send(canvas, K.Key_Control)
    send(canvas, K.Key_Alt, M.ControlModifier)
    send(canvas, K.Key_Alt, M.ControlModifier | M.AltModifier, down=False)
    send(canvas, K.Key_Control, M.ControlModifier, down=False)
    assert canvas.grabbed
    # ... Ctrl+Alt+G does, as the G goes down; its repeats and release stay here too.
    send(canvas, K.Key_Control)
    send(canvas, K.Key_Alt, M.ControlModifier)
    send(canvas, K.Key_G, M.ControlModifier | M.AltModifier)
    assert not canvas.grabbed
    send(canvas, K.Key_G, M.ControlModifier | M.AltModifier, repeat=True)
    send(canvas, K.Key_G, M.ControlModifier | M.AltModifier, down=False)
    send(canvas, K.Key_Alt, M.ControlModifier | M.AltModifier, down=False)
    send(canvas, K.Key_Control, M.ControlModifier, down=False)
    send(canvas, K.Key_X, text="x")  # a key after the release still reaches the guest
    qtbot.waitUntil(lambda: any(k.scancode == 0x2D for k in server.of(Key)), timeout=2000)
    sent = [(k.down, k.scancode) for k in server.of(Key)]
    assert G not in {code for _down, code in sent}
    assert sent[4:] == [(True, CTRL), (True, ALT), (False, ALT), (False, CTRL), (True, 0x2D)]


def test_a_plain_g_while_grabbed_reaches_the_guest(qtbot, fake, canvas) -> None:
    ready(qtbot, fake)
    server, _session = fake
    canvas.release_shortcut = keys.release_shortcut("ctrl+alt+g")
    canvas.set_grabbed(True)
    send(canvas, K.Key_Control)
    send(canvas, K.Key_G, M.ControlModifier)  # Ctrl+G: not the shortcut
    send(canvas, K.Key_G, M.ControlModifier, down=False)
    send(canvas, K.Key_Control, M.ControlModifier, down=False)
    assert canvas.grabbed
    qtbot.waitUntil(lambda: len(server.of(Key)) >= 4, timeout=2000)
    assert [(k.down, k.scancode) for k in server.of(Key)] == [
        (True, CTRL),
        (True, G),
        (False, G),
        (False, CTRL),
    ]


def test_right_ctrl_releases_and_left_ctrl_does_not(qtbot, fake, canvas) -> None:
    ready(qtbot, fake)
    canvas._platform = "xcb"  # where Qt gives key positions, so right and left differ
    canvas.release_shortcut = keys.release_shortcut("right-ctrl")
    canvas.set_grabbed(True)
    send(canvas, K.Key_Control, native=XKB_LEFT_CTRL)
    send(canvas, K.Key_Control, M.ControlModifier, down=False, native=XKB_LEFT_CTRL)
    assert canvas.grabbed
    send(canvas, K.Key_Control, native=XKB_RIGHT_CTRL)
    send(canvas, K.Key_C, M.ControlModifier, text="c", native=54)  # Right Ctrl+C: no release
    send(canvas, K.Key_C, M.ControlModifier, down=False, text="c", native=54)
    send(canvas, K.Key_Control, M.ControlModifier, down=False, native=XKB_RIGHT_CTRL)
    assert canvas.grabbed
    send(canvas, K.Key_Control, native=XKB_RIGHT_CTRL)
    send(canvas, K.Key_Control, M.ControlModifier, down=False, native=XKB_RIGHT_CTRL)
    assert not canvas.grabbed


def test_the_choice_is_kept_shown_and_shared(qtbot, env, make_view, opener) -> None:
    view = make_view("web", opener)
    server = connect(qtbot, view, opener)
    qtbot.waitUntil(lambda: view.state is DisplayState.CONNECTED, timeout=3000)
    assert env.hub.settings.grab_release == "ctrl+alt"
    assert view.release_actions["ctrl+alt"].isChecked()
    assert view.grab_label.menu() is view.release_menu  # the grab label picks the keys
    view.release_actions["ctrl+alt+g"].trigger()
    assert env.hub.settings.grab_release == "ctrl+alt+g"
    assert view.release_actions["ctrl+alt+g"].isChecked()
    assert view.canvas.release_shortcut.label == "Ctrl+Alt+G"

    view.canvas.set_grabbed(True)
    assert view.grab_label.text() == "Keyboard grabbed · Ctrl+Alt+G releases"
    send(view.canvas, K.Key_Control)
    send(view.canvas, K.Key_Alt, M.ControlModifier)
    send(view.canvas, K.Key_G, M.ControlModifier | M.AltModifier)
    assert not view.canvas.grabbed
    assert view.grab_label.text() == GRAB_HINT
    assert "Ctrl+Alt+G" in view.grab_label.toolTip()
    send(view.canvas, K.Key_G, M.ControlModifier | M.AltModifier, down=False)
    send(view.canvas, K.Key_Alt, M.ControlModifier | M.AltModifier, down=False)
    send(view.canvas, K.Key_Control, M.ControlModifier, down=False)
    server.pump()

    # Another console (opened before or after) uses the choice once it grabs.
    other = make_view("old", opener)
    assert other.canvas.release_shortcut.id == "ctrl+alt+g"
    view.release_actions["right-ctrl"].trigger()
    assert env.hub.settings.grab_release == "right-ctrl"
    view.canvas.set_grabbed(True)
    assert view.grab_label.text() == "Keyboard grabbed · Right Ctrl releases"
    view.canvas.set_grabbed(False)
    other.release_menu.aboutToShow.emit()
    assert other.release_actions["right-ctrl"].isChecked()
    assert other.canvas.release_shortcut.id == "right-ctrl"


def test_an_unknown_choice_in_the_settings_means_the_default(env, make_view, opener) -> None:
    env.hub.settings.grab_release = "nose+ears"
    view = make_view("web", opener)
    assert view.canvas.release_shortcut is keys.DEFAULT_RELEASE
    assert view.release_actions["ctrl+alt"].isChecked()
