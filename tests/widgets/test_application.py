"""The application object: --connect and --show-domain-console requests (also what a second
launch forwards), and the default presenter for failures nobody handled."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication, QMessageBox

from app.core.connection import State
from app.core.errors import NidoError
from app.core.settings import Settings
from app.qt import jobs
from widgets.application import Nido


def test_connect_and_show_console_open_the_vm_window(qtbot, node) -> None:
    nido = Nido(Settings(connections=[]), save_settings=False)
    nido.start()
    nido.handle(node, "web")  # as from: nido --connect URI --show-domain-console web
    conn = nido.hub.find_by_uri(node)
    assert conn is not None and conn.spec.uri == node
    qtbot.waitUntil(lambda: conn.state is State.CONNECTED, timeout=5000)
    qtbot.waitUntil(lambda: len(nido.vm_windows) == 1, timeout=5000)
    (window,) = nido.vm_windows.values()
    assert window.windowTitle() == "web — Nido"
    assert nido.settings.connections == []  # a --connect URI is not saved for next time
    nido.handle(node, None)  # the same URI again: no second connection
    assert len(nido.hub.connections()) == 1
    window.close()
    nido.hub.shutdown()
    nido.window.hide()
    nido.window.deleteLater()


def test_unhandled_failures_reach_the_error_dialog(qtbot) -> None:
    nido = Nido(Settings(connections=[]), save_settings=False)
    jobs.report_failure(NidoError("Could not frobnicate: the host said no.", "details here"))
    dialogs = [
        w
        for w in QApplication.topLevelWidgets()
        if isinstance(w, QMessageBox) and w.objectName() == "errorDialog" and w.isVisible()
    ]
    assert dialogs and dialogs[-1].text() == "Could not frobnicate: the host said no."
    assert dialogs[-1].detailedText() == "details here"
    dialogs[-1].close()
    jobs.set_default_failure_handler(None)
    nido.window.hide()
    nido.window.deleteLater()


def test_the_main_window_comes_back_where_it_was_left(qtbot) -> None:
    settings = Settings(connections=[])
    first = Nido(settings, save_settings=False)
    assert "main" not in settings.window_geometry
    first.window.show()
    first.window.resize(710, 505)  # within the offscreen screen (800x600)
    qtbot.waitUntil(lambda: first.window.size().toTuple() == (710, 505), timeout=2000)
    first.quit()  # as at the end of request_quit()
    saved = settings.window_geometry.get("main")
    assert saved
    first.window.hide()
    first.window.deleteLater()

    again = Nido(settings, save_settings=False)  # the next start, with what was saved
    try:
        assert again.window.size().toTuple() == (710, 505)
    finally:
        again.hub.shutdown()
        again.window.hide()
        again.window.deleteLater()
    settings.window_geometry["main"] = "not geometry at all"
    odd = Nido(settings, save_settings=False)  # unreadable: the default size, no failure
    try:
        assert odd.window.size().toTuple() == (880, 620)
    finally:
        odd.hub.shutdown()
        odd.window.hide()
        odd.window.deleteLater()
