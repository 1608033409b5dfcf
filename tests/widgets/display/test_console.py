"""The console view over the test driver's hub: the display's states and overlays as the
VM runs, stops, restarts and the connection breaks; the fallback preview where there is no
display; password prompt, screenshot, key combinations, scaling and fullscreen."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QMessageBox

from app.core.errors import ErrorKind, NidoError
from app.core.vmstate import Status
from app.qt.display import controller as controller_module
from app.qt.display.controller import DisplayState
from app.qt.display.vnc import RESIZE_SETTLE_MS
from tests.widgets.display.consoles import connect
from tests.widgets.display.fakeserver import DesktopSizeRequest, Key
from widgets.display import console as console_module
from widgets.display.console import FullscreenWindow
from widgets.display.geometry import Scaling
from widgets.vm_window import ConsolePlaceholder, VMWindow


def test_connects_and_overlays_follow_the_state(qtbot, make_view, opener, failures) -> None:
    view = make_view("web", opener)
    assert view.overlay.isVisible()
    assert view.overlay.title.text() == "Connecting…"
    assert not view.screenshot_action.isEnabled()
    server = connect(qtbot, view, opener)
    qtbot.waitUntil(lambda: view.state is DisplayState.CONNECTED, timeout=3000)
    assert not view.overlay.isVisible()
    assert view.screenshot_action.isEnabled()
    assert view.canvas.session is not None and view.canvas.session.width == 64

    # The server goes away while the VM runs: reconnecting, then connected again.
    server.close()
    qtbot.waitUntil(lambda: view.state is DisplayState.RECONNECTING, timeout=3000)
    assert view.overlay.isVisible() and view.overlay.title.text() == "Reconnecting…"
    assert "closed" in view.overlay.detail.text()
    connect(qtbot, view, opener, calls=2)
    qtbot.waitUntil(lambda: view.state is DisplayState.CONNECTED, timeout=3000)
    assert not view.overlay.isVisible()
    assert failures == []


def test_guest_not_running_offers_start(qtbot, make_view, opener) -> None:
    view = make_view("old", opener)
    assert view.state is DisplayState.NOT_RUNNING
    assert view.overlay.isVisible()
    assert view.overlay.start_button.isVisible()
    assert "shut off" in view.overlay.detail.text()
    with qtbot.waitSignal(view.startRequested, timeout=1000):
        view.overlay.start_button.click()
    qtbot.wait(100)
    assert opener.calls == 0


def test_reconnects_by_itself_when_the_guest_restarts(qtbot, env, make_view, opener) -> None:
    view = make_view("web", opener)
    connect(qtbot, view, opener)
    qtbot.waitUntil(lambda: view.state is DisplayState.CONNECTED, timeout=3000)
    dom = env.conn.virconn.lookupByName("web")
    dom.destroy()
    qtbot.waitUntil(lambda: view.state is DisplayState.NOT_RUNNING, timeout=3000)
    assert view.canvas.session is None
    assert view.overlay.start_button.isVisible()
    dom.create()
    connect(qtbot, view, opener, calls=2)
    qtbot.waitUntil(lambda: view.state is DisplayState.CONNECTED, timeout=3000)
    assert view.controller.vm.status is Status.RUNNING


def test_gives_up_after_retries_and_reconnects_on_request(
    qtbot, make_view, opener, monkeypatch
) -> None:
    monkeypatch.setattr(controller_module, "RETRY_DELAYS_MS", (10, 10))
    opener.fail = NidoError("Could not open the display: it is busy.", kind=ErrorKind.BUSY)
    view = make_view("web", opener)
    qtbot.waitUntil(lambda: view.state is DisplayState.DISCONNECTED, timeout=3000)
    assert opener.calls == 3
    assert view.overlay.title.text() == "Display disconnected"
    assert view.overlay.detail.text() == "Could not open the display: it is busy."
    assert view.overlay.reconnect_button.isVisible()
    opener.fail = None
    view.overlay.reconnect_button.click()
    connect(qtbot, view, opener)
    qtbot.waitUntil(lambda: view.state is DisplayState.CONNECTED, timeout=3000)


def test_a_server_that_never_answers_is_retried(qtbot, make_view, opener, monkeypatch) -> None:
    monkeypatch.setattr(controller_module, "HANDSHAKE_TIMEOUT_MS", 100)
    view = make_view("web", opener)
    qtbot.waitUntil(lambda: view.state is DisplayState.RECONNECTING, timeout=3000)
    assert view.overlay.detail.text() == "The display did not answer."
    connect(qtbot, view, opener, calls=2)
    qtbot.waitUntil(lambda: view.state is DisplayState.CONNECTED, timeout=3000)


def test_no_display_shows_the_fallback(qtbot, make_view) -> None:
    # The test driver's domains have no <graphics>: the real opener says so.
    fallback = ConsolePlaceholder()
    view = make_view("web", fallback=fallback)
    qtbot.waitUntil(lambda: view.state is DisplayState.UNAVAILABLE, timeout=3000)
    assert view.showing_fallback and fallback.isVisible()
    assert not view.toolbar.isVisible()
    assert "no graphical display" in view.controller.detail


def test_a_protocol_that_cannot_start_shows_the_fallback(
    qtbot, make_view, opener, monkeypatch, failures
) -> None:
    def cannot(endpoint, password):
        raise NidoError("Nido cannot show this display here.", "a library is missing")

    monkeypatch.setitem(controller_module.SESSION_FACTORIES, "vnc", cannot)
    fallback = ConsolePlaceholder()
    view = make_view("web", opener, fallback=fallback)
    qtbot.waitUntil(lambda: view.state is DisplayState.UNAVAILABLE, timeout=3000)
    assert view.controller.detail == "Nido cannot show this display here."
    assert view.showing_fallback and view.canvas.session is None
    # The socket the opener made is closed, not leaked: its server end sees the end.
    qtbot.waitUntil(lambda: opener.latest().peer_closed(), timeout=3000)
    assert failures == []


def test_password_prompt(qtbot, make_view, opener) -> None:
    view = make_view("web", opener)
    server = connect(qtbot, view, opener, password="s3cret")

    def reached(state: DisplayState) -> bool:
        server.pump()  # the fake server answers as it reads
        return view.state is state

    qtbot.waitUntil(lambda: reached(DisplayState.PASSWORD), timeout=3000)
    assert view.overlay.password.isVisible()
    view.overlay.password.setText("s3cret")
    view.overlay.password_button.click()
    qtbot.waitUntil(lambda: reached(DisplayState.CONNECTED), timeout=3000)


def test_screenshot_send_keys_and_scaling(qtbot, make_view, opener, tmp_path: Path) -> None:
    view = make_view("web", opener)
    server = connect(qtbot, view, opener)
    qtbot.waitUntil(lambda: view.state is DisplayState.CONNECTED, timeout=3000)
    server.extended_keys()
    server.solid(0, 0, 64, 48, (12, 34, 56))
    session = view.canvas.session
    qtbot.waitUntil(lambda: session.extended_keys and session.frames >= 2, timeout=3000)

    path = tmp_path / "shot.png"
    assert view.save_screenshot(path)
    shot = QImage(str(path))
    assert (shot.width(), shot.height()) == (64, 48)
    c = shot.pixelColor(5, 5)
    assert (c.red(), c.green(), c.blue()) == (12, 34, 56)

    view.key_actions["Ctrl+Alt+F2"].trigger()
    qtbot.waitUntil(lambda: len(server.of(Key)) >= 6, timeout=3000)
    assert [(k.down, k.scancode) for k in server.of(Key)] == [
        (True, 0x1D),
        (True, 0x38),
        (True, 0x3C),
        (False, 0x3C),
        (False, 0x38),
        (False, 0x1D),
    ]

    view.scaling_actions[Scaling.NEVER].trigger()
    assert view.canvas.scaling is Scaling.NEVER
    assert view.canvas.minimumSize().width() == 64


def test_fullscreen_borrows_the_display_and_gives_it_back(qtbot, make_view, opener) -> None:
    view = make_view("web", opener)
    server = connect(qtbot, view, opener)
    qtbot.waitUntil(lambda: view.state is DisplayState.CONNECTED, timeout=3000)
    view.set_fullscreen(True)
    window = view.area.window()
    assert isinstance(window, FullscreenWindow) and window.isVisible()
    assert view.stack.currentWidget() is view.away
    # It covers the console's screen, and the display fills it.
    assert window.screen() is view.screen()
    assert window.geometry() == view.screen().geometry()
    assert view.area.isVisible() and view.canvas.isVisible()
    qtbot.waitUntil(lambda: view.area.size() == window.size(), timeout=3000)
    server.solid(0, 0, 64, 48, (200, 10, 10))

    def centre() -> tuple[int, int, int]:
        c = window.grab().toImage().pixelColor(window.width() // 2, window.height() // 2)
        return c.red(), c.green(), c.blue()

    qtbot.waitUntil(lambda: centre() == (200, 10, 10), timeout=3000)  # the guest, shown
    assert window.bar.isVisible()
    qtbot.waitUntil(lambda: not window.bar.isVisible(), timeout=3000)  # hides by itself
    window.show_bar()
    assert window.bar.isVisible()
    window.leave_action.trigger()
    assert not view.is_fullscreen
    assert view.area.window() is view.window()
    assert view.stack.currentWidget() is view.area


def test_vm_window_console_falls_back_to_the_preview(qtbot, env) -> None:
    vm = env.vm_named("web")
    vmw = VMWindow(env.hub, env.model, vm)  # deletes itself on close
    vmw.show()
    assert vmw.tabs.widget(0) is vmw.display
    qtbot.waitUntil(lambda: vmw.display.showing_fallback, timeout=3000)
    qtbot.waitUntil(lambda: vmw._preview_timer.isActive(), timeout=3000)
    # The preview says why there is no live display (the test driver has no graphics fd).
    reason = vmw.display.controller.detail
    assert reason and vmw.console.note.text().startswith(reason)
    assert "Preview" in vmw.console.note.text()
    vmw.close()


def test_the_guest_is_offered_the_size_of_the_view(qtbot, make_view, opener, monkeypatch) -> None:
    offered: list[tuple[int, int]] = []
    monkeypatch.setattr(
        controller_module.VncSession,
        "set_preferred_size",
        lambda _self, w, h: offered.append((w, h)),
    )
    view = make_view("web", opener)
    connect(qtbot, view, opener)
    qtbot.waitUntil(lambda: view.state is DisplayState.CONNECTED, timeout=3000)
    assert offered and offered[-1] == view.area.view_size()  # offered as the session came
    view.resize(520, 410)
    qtbot.waitUntil(lambda: offered[-1] == view.area.view_size(), timeout=2000)
    dpr = view.area.devicePixelRatioF()
    assert offered[-1] == (round(view.area.width() * dpr), round(view.area.height() * dpr))
    assert view.area.width() > 400  # the view really grew with the window
    # Moved to a screen of twice the scale: the same widget, twice the device pixels.
    monkeypatch.setattr(view.area, "devicePixelRatioF", lambda: 2.0)
    QApplication.sendEvent(view.area, QEvent(QEvent.Type.DevicePixelRatioChange))
    assert offered[-1] == (view.area.width() * 2, view.area.height() * 2)


def test_fullscreen_offers_the_release_shortcut_menu_too(qtbot, make_view, opener) -> None:
    view = make_view("web", opener)
    connect(qtbot, view, opener)
    qtbot.waitUntil(lambda: view.state is DisplayState.CONNECTED, timeout=3000)
    view.set_fullscreen(True)
    window = view.area.window()
    assert isinstance(window, FullscreenWindow)
    assert window.grab_label.menu() is view.release_menu
    assert window.grab_label.text() == view.grab_label.text()
    other = next(a for a in view.release_actions.values() if not a.isChecked())
    other.trigger()  # chosen from the fullscreen bar's menu: the same actions
    assert view.hub.settings.grab_release != "ctrl+alt"
    assert view.canvas.release_shortcut.label == other.text()
    view.set_fullscreen(False)


def test_screenshot_dialog_starts_where_it_makes_sense_and_reports_failure(
    qtbot, make_view, opener, tmp_path: Path, monkeypatch
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))  # no user-dirs.dirs
    offered: list[str] = []
    answers: list[str] = []

    def save_dialog(_parent, _title, default, _filter):
        offered.append(default)
        return answers.pop(0), _filter

    monkeypatch.setattr(console_module.QFileDialog, "getSaveFileName", save_dialog)
    view = make_view("web", opener)
    server = connect(qtbot, view, opener)
    qtbot.waitUntil(lambda: view.state is DisplayState.CONNECTED, timeout=3000)
    server.solid(0, 0, 64, 48, (12, 34, 56))
    qtbot.waitUntil(lambda: view.canvas.session.frames >= 1, timeout=3000)

    # No Pictures folder: home, not the working directory (where Qt would go).
    answers.append("")
    view.screenshot_action.trigger()
    assert Path(offered[-1]).parent == home
    assert Path(offered[-1]).name.startswith("web ")
    # A Pictures folder: there.
    (home / "Pictures").mkdir()
    answers.append("")
    view.screenshot_action.trigger()
    assert Path(offered[-1]).parent == home / "Pictures"
    # The person saves elsewhere: the next screenshot starts there, after a restart too.
    elsewhere = tmp_path / "shots"
    elsewhere.mkdir()
    answers.append(str(elsewhere / "mine.png"))
    view.screenshot_action.trigger()
    assert QImage(str(elsewhere / "mine.png")).size().width() == 64
    assert view.hub.settings.folders["screenshots"] == str(elsewhere)
    answers.append("")
    view.screenshot_action.trigger()
    assert Path(offered[-1]).parent == elsewhere

    # A place that cannot be written: the person is told, not only the log.
    answers.append(str(tmp_path / "gone" / "shot.png"))
    view.screenshot_action.trigger()
    box = next(
        w
        for w in QApplication.topLevelWidgets()
        if isinstance(w, QMessageBox) and w.objectName() == "errorDialog" and w.isVisible()
    )
    assert box.text() == "The screenshot could not be saved."
    assert str(tmp_path / "gone" / "shot.png") in box.detailedText()
    assert "does not exist" in box.detailedText()
    box.close()
    assert view.hub.settings.folders["screenshots"] == str(elsewhere)  # not the failed one


def test_the_guest_follows_the_view_only_while_the_person_wants_it(
    qtbot, make_view, opener
) -> None:
    view = make_view("web", opener)
    server = connect(qtbot, view, opener)
    qtbot.waitUntil(lambda: view.state is DisplayState.CONNECTED, timeout=3000)
    server.extended_desktop_size(64, 48)  # the server takes SetDesktopSize

    def asked() -> list[tuple[int, int]]:
        return [(m.width, m.height) for m in server.of(DesktopSizeRequest)]

    qtbot.waitUntil(lambda: asked() == [view.area.view_size()], timeout=3000)
    assert view.resize_guest_action.isChecked()

    view.resize_guest_action.trigger()  # off
    assert view.hub.settings.resize_guest is False
    view.resize(480, 340)
    qtbot.wait(RESIZE_SETTLE_MS * 3)
    assert len(asked()) == 1

    view.resize_guest_action.trigger()  # on again: the size it has now, at once
    assert view.hub.settings.resize_guest is True
    qtbot.waitUntil(lambda: asked()[-1:] == [view.area.view_size()], timeout=3000)
    assert len(asked()) == 2

    # No word under the choice while the guest follows; the reason once it says it cannot.
    view.scaling_menu.aboutToShow.emit()
    assert not view.resize_guest_note.isVisible()
    server.extended_desktop_size(64, 48, reason=1, status=3)
    qtbot.waitUntil(lambda: view.canvas.session.resize_refused, timeout=3000)
    view.scaling_menu.aboutToShow.emit()
    assert view.resize_guest_note.isVisible() and not view.resize_guest_note.isEnabled()
    assert view.resize_guest_note.text() == "This guest's video card cannot change resolution"
