"""The wizard from the main window on libvirt's test driver: New VM (Ctrl+N) targets the
chosen connection, Create makes the VM off the GUI thread and opens its window, a failure
reaches the person as a clear message with nothing left behind, and Cancel removes
everything made so far."""

from __future__ import annotations

import threading
import time

import pytest
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QMenu, QWizard

from app.core import newvm, uris
from app.core.connection import ConnectionSpec
from app.qt.models import Role
from tests.support.testdriver import domain, node_uri
from tests.widgets.conftest import answer_next_dialog, button_with_text
from tests.widgets.newvm.conftest import go_to, next_enabled, set_iso, settle
from widgets.newvm import NewVMWizard, PageId


def open_wizard(qtbot, window) -> NewVMWizard:
    qtbot.waitUntil(window.new_vm_action.isEnabled)
    window.new_vm_action.trigger()
    wizard = window.new_vm_wizard
    assert isinstance(wizard, NewVMWizard)
    qtbot.waitUntil(lambda: wizard.host is not None, timeout=10_000)
    return wizard


def pools(conn) -> list[tuple[str, list[str]]]:
    """The test host's storage pools and their volumes (called from the test thread)."""
    found = []
    for pool in conn.virconn.listAllStoragePools(0):
        vols = pool.listVolumes() if pool.isActive() else []
        found.append((pool.name(), vols))
    return found


def test_the_new_vm_action(test_env, qtbot) -> None:
    window = test_env.window
    action = window.new_vm_action
    assert action.shortcut() == QKeySequence(QKeySequence.StandardKey.New)
    assert action.shortcut().toString() == "Ctrl+N"
    assert not action.icon().isNull()
    toolbar = window.findChild(type(window.addToolBar("x")), "toolbar")
    assert toolbar.actions()[0] is action
    file_menu = window.menuBar().actions()[0].menu()
    assert file_menu.actions()[0] is action
    qtbot.waitUntil(action.isEnabled)
    test_env.hub.connections()[0].disconnect()
    qtbot.waitUntil(lambda: not action.isEnabled(), timeout=5000)


def test_the_wizard_targets_the_selected_connection(make_ui, failures, qtbot, tmp_path) -> None:
    first = node_uri(tmp_path, [domain("a")])
    second = node_uri(tmp_path, [domain("b")])
    env = make_ui(
        [
            ConnectionSpec(kind=uris.Kind.CUSTOM, uri=first, name="First"),
            ConnectionSpec(kind=uris.Kind.CUSTOM, uri=second, name="Second"),
        ],
        vms=2,
    )
    window = env.window
    assert window.target_connection().spec.name == "First"  # nothing selected: the first
    b = env.vm_named("b")
    window.select_vm(b.conn_id, b.uuid)
    assert window.target_connection().spec.name == "Second"
    group = window.proxy.mapFromSource(env.model.group_index(env.hub.connections()[0].spec.id))
    window.view.setCurrentIndex(group)
    assert group.data(Role.KIND) == "connection"
    menu = QMenu()
    window._fill_connection_menu(menu, group.data(Role.CONNECTION))
    assert menu.actions()[0] is window.new_vm_action  # New VM… on the connection's menu
    wizard = open_wizard(qtbot, window)
    assert wizard.conn.spec.name == "First"
    assert wizard.windowTitle() == "New VM on First"
    assert "b" not in wizard.host.existing_names and "a" in wizard.host.existing_names
    wizard.reject()


def test_create_makes_the_vm_and_opens_its_window(test_env, qtbot, isos) -> None:
    window, model = test_env.window, test_env.model
    opened = []
    window.openVM.connect(opened.append)
    wizard = open_wizard(qtbot, window)
    set_iso(qtbot, wizard, isos["debian11"])
    go_to(qtbot, wizard, PageId.SUMMARY)
    name = "New <VM> & “ü” 'q'"
    wizard.summary_page.name.setText(name)
    settle(qtbot, wizard)
    progress: list[tuple[str, float]] = []
    wizard.createProgress.connect(lambda text, f: progress.append((text, f)))
    wizard.next()  # Create
    assert wizard.currentId() == PageId.CREATE
    assert not wizard.button(QWizard.WizardButton.BackButton).isVisible()
    qtbot.waitUntil(lambda: len(opened) == 1, timeout=15_000)
    vm = opened[0]
    assert vm.name == name and vm.conn_id == test_env.conn.spec.id
    assert vm.vcpus == 2 and vm.memory_kib == wizard.spec.memory_bytes // 1024
    assert window.selected_key() == vm.key  # the new VM is selected in the list
    qtbot.waitUntil(lambda: window.new_vm_wizard is None)  # closed and deleted
    assert [f for _t, f in progress] == sorted(f for _t, f in progress)  # only forward
    assert progress[-1] == ("Opening the VM…", 1.0)
    assert ("nido", ["New-VM-u-q.qcow2"]) in pools(test_env.conn)
    assert model.find_vm_by_name(name).status.active


def test_a_failure_is_told_and_nothing_remains(test_env, qtbot, isos, monkeypatch) -> None:
    """Someone takes the name between the check and the creation: the engine refuses it,
    removes the disk and the pool it made, and the person reads why."""
    window = test_env.window
    wizard = open_wizard(qtbot, window)
    set_iso(qtbot, wizard, isos["debian11"])
    go_to(qtbot, wizard, PageId.SUMMARY)
    wizard.summary_page.name.setText("contested")
    settle(qtbot, wizard)
    real_create = newvm.create

    def racing_create(virconn, spec, host, progress, cancelled, **kw):
        kw["call"](virconn.defineXML, domain("contested", state="shutoff"))
        return real_create(virconn, spec, host, progress, cancelled, **kw)

    monkeypatch.setattr(newvm, "create", racing_create)
    told: list[tuple[str, str]] = []

    def read_and_close(box):
        told.append((box.objectName(), box.text()))
        return button_with_text("Close")(box)

    answer_next_dialog(read_and_close)
    wizard.next()
    qtbot.waitUntil(lambda: bool(told), timeout=10_000)
    assert told[0] == (
        "errorDialog",
        "Could not define “contested”: there is already a VM called “contested”; "
        "everything made so far was removed.",
    )
    qtbot.waitUntil(lambda: wizard.currentId() == PageId.SUMMARY)
    assert wizard.isVisible() and not wizard.creating
    assert all(vols == [] for _name, vols in pools(test_env.conn))
    assert not any(name == "nido" for name, _ in pools(test_env.conn))


def test_cancel_while_creating_removes_everything(test_env, qtbot, isos, monkeypatch) -> None:
    window = test_env.window
    wizard = open_wizard(qtbot, window)
    set_iso(qtbot, wizard, isos["debian11"])
    go_to(qtbot, wizard, PageId.SUMMARY)
    real_create = newvm.create
    waiting = threading.Event()
    outcome: list[str] = []

    def slow_create(virconn, spec, host, progress, cancelled, **kw):
        # The disk and pool are made first (as the engine would, before a long copy)...
        progress("Copying the disk image… 40%", 0.4)
        waiting.set()
        deadline = time.monotonic() + 10
        while not cancelled() and time.monotonic() < deadline:
            time.sleep(0.02)
        try:
            return real_create(virconn, spec, host, progress, cancelled, **kw)
        except Exception as exc:
            outcome.append(str(exc))
            raise

    monkeypatch.setattr(newvm, "create", slow_create)
    name = wizard.spec.name
    wizard.next()
    qtbot.waitUntil(waiting.is_set, timeout=5000)
    qtbot.waitUntil(lambda: wizard.create_page.bar.value() == 400)
    assert wizard.create_page.status.text() == "Copying the disk image… 40%"
    wizard.button(QWizard.WizardButton.CancelButton).click()
    assert wizard.create_page.status.text() == "Cancelling: removing what was made…"
    qtbot.waitUntil(lambda: window.new_vm_wizard is None, timeout=10_000)
    assert outcome and "was cancelled; everything made so far was removed" in outcome[0]
    assert test_env.vm_named(name) is None
    assert all(vols == [] for _name, vols in pools(test_env.conn))


@pytest.mark.parametrize("closing", ["escape", "close"])
def test_closing_before_create_makes_nothing(test_env, qtbot, isos, closing) -> None:
    wizard = open_wizard(qtbot, test_env.window)
    set_iso(qtbot, wizard, isos["debian11"])
    go_to(qtbot, wizard, PageId.SUMMARY)
    assert next_enabled(wizard)
    if closing == "escape":
        wizard.reject()
    else:
        wizard.close()
    qtbot.waitUntil(lambda: test_env.window.new_vm_wizard is None)
    assert pools(test_env.conn) == []
    assert len(test_env.model.all_vms()) == 3


def test_in_the_application_create_opens_the_vm_window(qtbot, node, isos) -> None:
    """Nido itself: New VM from the main window, Create, and the new VM's own window."""
    from app.core.settings import Settings
    from widgets.application import Nido

    nido = Nido(Settings(connections=[]), save_settings=False)
    nido.start()
    nido.handle(node, None)
    wizard = open_wizard(qtbot, nido.window)
    set_iso(qtbot, wizard, isos["debian11"])
    go_to(qtbot, wizard, PageId.SUMMARY)
    wizard.summary_page.name.setText("fresh & new")
    settle(qtbot, wizard)
    wizard.next()
    qtbot.waitUntil(lambda: len(nido.vm_windows) == 1, timeout=15_000)
    (window,) = nido.vm_windows.values()
    assert window.windowTitle() == "fresh & new — Nido"
    assert window.isVisible()
    window.close()
    nido.hub.shutdown()
    nido.window.hide()
    nido.window.deleteLater()
