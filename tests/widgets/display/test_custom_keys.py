"""Custom key combinations: the person records one in a small dialog, it reaches the guest
as scancodes, and, kept in the settings, it is in every console's Send Key menu from then
on; one Nido cannot send is refused in the dialog with the reason."""

from __future__ import annotations

from PySide6.QtCore import Qt

from app.qt.display.controller import DisplayState
from tests.widgets.display.consoles import connect
from tests.widgets.display.fakeserver import Key
from widgets.display import custom_keys

K = Qt.Key
M = Qt.KeyboardModifier
CTRL, ALT, SHIFT, F5 = 0x1D, 0x38, 0x2A, 0x3F


def connected(qtbot, make_view, opener, name: str = "web", calls: int = 1):
    view = make_view(name, opener)
    server = connect(qtbot, view, opener, calls=calls)
    qtbot.waitUntil(lambda: view.state is DisplayState.CONNECTED, timeout=3000)
    server.extended_keys()
    qtbot.waitUntil(lambda: view.canvas.session.extended_keys, timeout=3000)
    return view, server


def scancodes(server, n: int, qtbot) -> list[tuple[bool, int]]:
    qtbot.waitUntil(lambda: len(server.of(Key)) >= n, timeout=3000)
    return [(k.down, k.scancode) for k in server.of(Key)]


def test_record_send_and_remember(qtbot, env, make_view, opener, failures) -> None:
    view, server = connected(qtbot, make_view, opener)
    assert view.custom_action.isEnabled()
    dialog = view.ask_custom_keys()
    assert dialog.isVisible() and not dialog.send_button.isEnabled()
    qtbot.keyClick(dialog.edit, K.Key_F5, M.ControlModifier | M.AltModifier)
    assert dialog.text == "Ctrl+Alt+F5"
    assert dialog.note.text() == "Sends Ctrl+Alt+F5."
    assert dialog.send_button.isEnabled() and dialog.keep.isChecked()
    dialog.send_button.click()
    assert scancodes(server, 6, qtbot) == [
        (True, CTRL),
        (True, ALT),
        (True, F5),
        (False, F5),
        (False, ALT),
        (False, CTRL),
    ]
    assert env.hub.settings.custom_keys == ["Ctrl+Alt+F5"]

    # It is in the menu, between the built-in ones and "Custom…", and sends the same.
    view.keys_menu.aboutToShow.emit()
    actions = view.keys_menu.actions()
    assert (
        actions.index(view.custom_actions["Ctrl+Alt+F5"]) == actions.index(view.custom_action) - 1
    )
    view.custom_actions["Ctrl+Alt+F5"].trigger()
    assert scancodes(server, 12, qtbot)[6:] == scancodes(server, 6, qtbot)[:6]

    # Another console (a VM window opened later) has it too, and can forget them all.
    other = make_view("old", opener)
    assert list(other.custom_actions) == ["Ctrl+Alt+F5"]
    assert not other.custom_actions["Ctrl+Alt+F5"].isEnabled()  # that guest is off
    assert other.forget_custom_action.isVisible()
    other.forget_custom_action.trigger()
    assert env.hub.settings.custom_keys == [] and other.custom_actions == {}
    view.keys_menu.aboutToShow.emit()
    assert view.custom_actions == {} and not view.forget_custom_action.isVisible()
    assert failures == []


def test_sent_without_keeping_and_recorded_again(qtbot, env, make_view, opener) -> None:
    view, server = connected(qtbot, make_view, opener)
    dialog = view.ask_custom_keys()
    qtbot.keyClick(dialog.edit, K.Key_T, M.ControlModifier | M.ShiftModifier)
    assert dialog.text == "Ctrl+Shift+T"
    dialog.keep.setChecked(False)
    dialog.send_button.click()
    assert scancodes(server, 6, qtbot) == [
        (True, CTRL),
        (True, SHIFT),
        (True, 0x14),
        (False, 0x14),
        (False, SHIFT),
        (False, CTRL),
    ]
    assert env.hub.settings.custom_keys == []
    # Kept twice, it is listed once, as the newest.
    env.hub.settings.custom_keys = ["Meta+L", "Ctrl+Alt+F5"]
    for _ in range(2):
        dialog = view.ask_custom_keys()
        qtbot.keyClick(dialog.edit, K.Key_L, M.MetaModifier)
        dialog.send_button.click()
    assert env.hub.settings.custom_keys == ["Ctrl+Alt+F5", "Meta+L"]


def test_a_key_nido_cannot_send_is_refused(qtbot, make_view, opener) -> None:
    view, server = connected(qtbot, make_view, opener)
    dialog = view.ask_custom_keys()
    qtbot.keyClick(dialog.edit, K.Key_VolumeUp, M.ControlModifier)
    assert dialog.note.text() == "Nido cannot send this key to a guest."
    assert not dialog.send_button.isEnabled() and dialog.text == ""
    dialog.reject()
    server.pump()
    assert server.of(Key) == []


def test_remembered_text_parses_back_and_junk_is_skipped(env, make_view, opener) -> None:
    label, combination = custom_keys.parse("Ctrl+Alt+F5")
    assert label == "Ctrl+Alt+F5"
    assert [code for _sym, code in combination] == [CTRL, ALT, F5]
    env.hub.settings.custom_keys = ["Ctrl+Alt+F5", "Ctrl+VolumeUp", "no such key", "A, B"]
    view = make_view("old", opener)
    assert list(view.custom_actions) == ["Ctrl+Alt+F5"]
