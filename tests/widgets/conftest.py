"""Widget-test fixtures: a hub, model and main window over libvirt's test driver, and a
helper that answers the next modal dialog the way a person would."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QAbstractButton, QApplication, QWidget

from app.core import uris
from app.core.connection import ConnectionSpec, State
from app.core.settings import Settings
from app.qt import jobs
from app.qt.bridge import ConnectionHub
from app.qt.models import VMTreeModel
from tests.support.testdriver import domain, node_uri
from widgets.main_window import MainWindow


class Env:
    def __init__(self, hub: ConnectionHub, model: VMTreeModel, window: MainWindow) -> None:
        self.hub = hub
        self.model = model
        self.window = window

    @property
    def conn(self):
        return self.hub.connections()[0]

    def vm_named(self, name: str):
        return next((vm for vm in self.model.all_vms() if vm.name == name), None)


@pytest.fixture
def failures():
    """Failures that reached the default presenter (instead of a dialog)."""
    seen = []
    jobs.set_default_failure_handler(seen.append)
    yield seen
    jobs.set_default_failure_handler(None)


@pytest.fixture
def node(tmp_path) -> str:
    """A private test-driver host: web (running), db (paused), old (shut off)."""
    return node_uri(
        tmp_path,
        [
            domain("web", vcpus=2),
            domain("db", state="paused", os_id="http://fedoraproject.org/fedora/38"),
            domain("old", state="shutoff", os_id=""),
        ],
    )


@pytest.fixture
def env(qtbot, failures, node) -> Env:
    settings = Settings(connections=[ConnectionSpec(kind=uris.Kind.CUSTOM, uri=node, name="Test")])
    hub = ConnectionHub(settings, save_settings=False)
    model = VMTreeModel(hub)
    window = MainWindow(hub, model)
    qtbot.addWidget(window)
    hub.start()
    window.show()
    qtbot.waitUntil(lambda: hub.connections()[0].state is State.CONNECTED, timeout=5000)
    qtbot.waitUntil(lambda: len(model.all_vms()) == 3, timeout=5000)
    yield Env(hub, model, window)
    hub.shutdown()


def answer_next_dialog(choose: Callable[[QWidget], QAbstractButton | None]) -> list[QWidget]:
    """When the next modal dialog opens, click the button `choose` picks in it. Returns a
    list that receives the dialog, so the test can look at what it said."""
    seen: list[QWidget] = []

    def poll() -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is None:
            QTimer.singleShot(20, poll)
            return
        seen.append(dialog)
        button = choose(dialog)
        if button is not None:
            button.click()

    QTimer.singleShot(0, poll)
    return seen


def button_with_text(text: str) -> Callable[[QWidget], QAbstractButton | None]:
    def choose(dialog: QWidget) -> QAbstractButton | None:
        for button in dialog.findChildren(QAbstractButton):
            if button.text().replace("&", "") == text:
                return button
        raise AssertionError(f"no button {text!r} in {dialog.objectName() or dialog}")

    return choose
