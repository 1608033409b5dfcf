"""Widget-test fixtures: one factory for a hub, model and main window (`make_ui`), a
private test-driver host (`node`), a helper that answers the next modal dialog the way a
person would, and a guard that fails any test in which the app called libvirt on the GUI
thread."""

from __future__ import annotations

import sys
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path

import libvirt
import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QAbstractButton, QApplication, QWidget

from app.core import uris
from app.core.connection import Connection, ConnectionSpec, State
from app.core.settings import Settings
from app.qt import jobs
from app.qt.bridge import ConnectionHub
from app.qt.models import VMTreeModel
from tests.support.local import connection_for_tests
from tests.support.testdriver import domain, node_uri
from widgets.main_window import MainWindow

ROOT = Path(__file__).resolve().parents[2]
# Code that runs on the GUI thread lives here; app.core's blocking functions are meant to
# be called from workers (or directly by a test that checks them).
GUI_DIRS = (str(ROOT / "app" / "qt") + "/", str(ROOT / "widgets") + "/")


class Env:
    def __init__(self, hub: ConnectionHub, model: VMTreeModel, window: MainWindow) -> None:
        self.hub = hub
        self.model = model
        self.window = window

    @property
    def conn(self) -> Connection:
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


class _GuardedLibvirtmod:
    """Stands in for libvirt-python's C module and notes every call made on the GUI
    thread from the Qt glue or the widgets (tests themselves may call libvirt anywhere)."""

    def __init__(self, real, violations: list[str]) -> None:
        self._real = real
        self._violations = violations

    def __getattr__(self, name: str):
        target = getattr(self._real, name)
        if not callable(target):
            return target

        def call(*args, **kwargs):
            if threading.current_thread() is threading.main_thread():
                frame = sys._getframe(1)
                while frame is not None:
                    filename = frame.f_code.co_filename
                    if filename.startswith(GUI_DIRS):
                        self._violations.append(
                            f"{name} from {filename}:{frame.f_lineno}\n"
                            + "".join(traceback.format_stack(limit=8))
                        )
                        break
                    frame = frame.f_back
            return target(*args, **kwargs)

        return call


@pytest.fixture(autouse=True)
def no_libvirt_on_the_gui_thread(monkeypatch):
    """DESIGN.md's rule, checked in every widget and integration test."""
    violations: list[str] = []
    monkeypatch.setattr(libvirt, "libvirtmod", _GuardedLibvirtmod(libvirt.libvirtmod, violations))
    yield
    assert violations == [], "libvirt called on the GUI thread:\n" + "\n".join(violations[:3])


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
def make_ui(qtbot):
    """Build hub + model + main window over the given connections, started and shown;
    everything is shut down after the test."""
    made: list[Env] = []

    def make(
        specs: list[ConnectionSpec], *, vms: int | None = None, connect_timeout: int = 5000
    ) -> Env:
        hub = ConnectionHub(
            Settings(connections=specs),
            save_settings=False,
            connection_factory=connection_for_tests,
        )
        model = VMTreeModel(hub)
        window = MainWindow(hub, model)
        qtbot.addWidget(window)
        hub.start()
        window.show()
        env = Env(hub, model, window)
        made.append(env)
        autoconnected = [c for c in hub.connections() if c.spec.autoconnect]
        qtbot.waitUntil(
            lambda: all(c.state is State.CONNECTED for c in autoconnected),
            timeout=connect_timeout,
        )
        if vms is not None:
            qtbot.waitUntil(lambda: len(model.all_vms()) == vms, timeout=5000)
        return env

    yield make
    for env in made:
        env.hub.shutdown()


@pytest.fixture
def env(make_ui, failures, node) -> Env:
    return make_ui([ConnectionSpec(kind=uris.Kind.CUSTOM, uri=node, name="Test")], vms=3)


def answer_next_dialog(
    choose: Callable[[QWidget], QAbstractButton | None], timeout: float = 10.0
) -> list[QWidget]:
    """When the next modal dialog opens (within `timeout`), click the button `choose`
    picks in it. Returns a list that receives the dialog, so the test can look at it."""
    seen: list[QWidget] = []
    deadline = time.monotonic() + timeout

    def poll() -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is None:
            if time.monotonic() < deadline:
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
