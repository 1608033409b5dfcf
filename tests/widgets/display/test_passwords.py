"""VNC passwords and the desktop keyring: a password the person asks Nido to remember is
stored once the server accepts it and tried first next time; a remembered password the
server refuses is forgotten and the person asked; with no keyring, the box is greyed out
with the reason and the prompt still works. The keyring is an in-memory backend."""

from __future__ import annotations

import pytest
from keyring.backends import fail

from app.qt.display import passwords
from app.qt.display.controller import DisplayState
from tests.widgets.display.consoles import connect
from tests.widgets.display.keyrings import BrokenKeyring, drain_keyring


def reached(view, server, state: DisplayState) -> bool:
    server.pump()  # the fake server answers as it reads
    return view.state is state


def name_of(env, vm_name: str) -> str:
    vm = env.vm_named(vm_name)
    return passwords.account(env.conn.uri, vm.uuid)


def test_a_remembered_password_is_tried_first_next_time(
    qtbot, env, make_view, opener, memory_keyring, failures
) -> None:
    view = make_view("web", opener)
    server = connect(qtbot, view, opener, password="s3cret")
    qtbot.waitUntil(lambda: reached(view, server, DisplayState.PASSWORD), timeout=3000)
    overlay = view.overlay
    assert overlay.remember.isVisible() and overlay.remember.isEnabled()
    assert not overlay.remember_note.isVisible()
    overlay.remember.setChecked(True)
    overlay.password.setText("s3cret")
    overlay.password_button.click()
    qtbot.waitUntil(lambda: reached(view, server, DisplayState.CONNECTED), timeout=3000)
    key = (passwords.SERVICE, name_of(env, "web"))
    qtbot.waitUntil(lambda: key in memory_keyring.entries, timeout=3000)
    assert memory_keyring.entries == {key: "s3cret"}
    view.shutdown()

    # The VM's window opens again: the keyring answers, nobody is asked.
    again = make_view("web", opener)
    states: list[DisplayState] = []
    again.controller.stateChanged.connect(lambda state, _detail: states.append(state))
    server = connect(qtbot, again, opener, calls=2, password="s3cret")
    qtbot.waitUntil(lambda: reached(again, server, DisplayState.CONNECTED), timeout=3000)
    assert DisplayState.PASSWORD not in states
    assert again.canvas.session is not None and again.canvas.session.width == 64
    assert failures == []


def test_a_refused_remembered_password_is_forgotten_and_the_person_asked(
    qtbot, env, make_view, opener, memory_keyring, failures
) -> None:
    key = (passwords.SERVICE, name_of(env, "web"))
    memory_keyring.entries[key] = "old"
    view = make_view("web", opener)
    server = connect(qtbot, view, opener, password="new")
    # The remembered one is tried, refused, forgotten; the next connection asks.
    qtbot.waitUntil(lambda: server.pump() is not None and server.stage == "failed", timeout=3000)
    server = connect(qtbot, view, opener, calls=2, password="new")
    qtbot.waitUntil(lambda: reached(view, server, DisplayState.PASSWORD), timeout=3000)
    assert "refused the password remembered in the keyring" in view.overlay.detail.text()
    assert key not in memory_keyring.entries
    view.overlay.password.setText("new")
    view.overlay.password_button.click()  # not ticked: not remembered
    qtbot.waitUntil(lambda: reached(view, server, DisplayState.CONNECTED), timeout=3000)
    drain_keyring()
    assert memory_keyring.entries == {}
    assert failures == []


def test_a_wrong_typed_password_is_not_remembered(
    qtbot, env, make_view, opener, memory_keyring
) -> None:
    view = make_view("web", opener)
    server = connect(qtbot, view, opener, password="right")
    qtbot.waitUntil(lambda: reached(view, server, DisplayState.PASSWORD), timeout=3000)
    view.overlay.remember.setChecked(True)
    view.overlay.password.setText("wrong")
    view.overlay.password_button.click()
    qtbot.waitUntil(lambda: server.pump() is not None and server.stage == "failed", timeout=3000)
    server = connect(qtbot, view, opener, calls=2, password="right")
    qtbot.waitUntil(lambda: reached(view, server, DisplayState.PASSWORD), timeout=3000)
    assert view.overlay.detail.text() == "The display refused that password. Try again."
    drain_keyring()
    assert memory_keyring.entries == {}
    view.overlay.password.setText("right")
    view.overlay.password_button.click()
    qtbot.waitUntil(lambda: reached(view, server, DisplayState.CONNECTED), timeout=3000)
    key = (passwords.SERVICE, name_of(env, "web"))
    qtbot.waitUntil(lambda: key in memory_keyring.entries, timeout=3000)
    assert memory_keyring.entries[key] == "right"


@pytest.mark.parametrize(
    ("backend", "reason"),
    [
        (fail.Keyring, passwords.NO_KEYRING),
        (BrokenKeyring, "The keyring could not be read: the collection is locked"),
    ],
)
def test_without_a_keyring_the_box_is_greyed_out_and_the_prompt_works(
    qtbot, make_view, opener, failures, use_keyring, backend, reason
) -> None:
    use_keyring(backend())
    view = make_view("web", opener)
    server = connect(qtbot, view, opener, password="s3cret")
    qtbot.waitUntil(lambda: reached(view, server, DisplayState.PASSWORD), timeout=3000)
    overlay = view.overlay
    assert overlay.remember.isVisible() and not overlay.remember.isEnabled()
    assert not overlay.remember.isChecked()
    assert overlay.remember_note.isVisible() and overlay.remember_note.text() == reason
    overlay.password.setText("s3cret")
    overlay.password_button.click()
    qtbot.waitUntil(lambda: reached(view, server, DisplayState.CONNECTED), timeout=3000)
    assert failures == []
