"""The main window over a real (test-driver) libvirt: grouping, rows, filter, actions that
follow the VM's state, confirmations, and the status line."""

from __future__ import annotations

import libvirt
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from app.core import uris, vmops
from app.core.connection import ConnectionSpec
from app.core.vmstate import Action, Status
from app.qt.models import Role
from tests.support.testdriver import node_uri
from tests.widgets.conftest import answer_next_dialog, button_with_text


def visible_names(window) -> list[str]:
    proxy = window.proxy
    names = []
    for g in range(proxy.rowCount()):
        group = proxy.index(g, 0)
        names.append(f"[{group.data()}]")
        for r in range(proxy.rowCount(group)):
            names.append(proxy.index(r, 0, group).data())
    return names


def test_vms_are_grouped_under_their_connection_sorted_by_name(env, qtbot) -> None:
    assert visible_names(env.window) == ["[Test]", "db", "old", "web"]
    web = env.vm_named("web")
    assert web.status is Status.RUNNING and web.os_name == "Debian 12" and web.vcpus == 2
    assert env.vm_named("db").os_name == "Fedora 38"
    assert env.vm_named("old").os_name == ""
    qtbot.waitUntil(lambda: env.window.summary.text() == "3 VMs, 2 running", timeout=1000)


def test_filter_matches_name_os_and_state(env, qtbot) -> None:
    env.window.filter.setText("fed")
    assert visible_names(env.window) == ["[Test]", "db"]
    env.window.filter.setText("shut off")
    assert visible_names(env.window) == ["[Test]", "old"]
    env.window.filter.setText("nothing-like-this")
    assert visible_names(env.window) == []
    env.window.filter.clear()
    assert visible_names(env.window) == ["[Test]", "db", "old", "web"]


def actions_enabled(env) -> set[Action]:
    return {a for a, qa in env.window.vm_actions.actions.items() if qa.isEnabled()}


def select(env, name: str) -> None:
    vm = env.vm_named(name)
    assert env.window.select_vm(vm.conn_id, vm.uuid)


def test_actions_follow_the_selected_vms_state(env) -> None:
    assert actions_enabled(env) == set()  # nothing selected
    select(env, "web")
    assert Action.SHUTDOWN in actions_enabled(env) and Action.START not in actions_enabled(env)
    select(env, "db")
    assert Action.RESUME in actions_enabled(env) and Action.PAUSE not in actions_enabled(env)
    select(env, "old")
    assert actions_enabled(env) == {Action.OPEN, Action.START, Action.DELETE}


def test_pause_then_resume_through_libvirt_events(env, qtbot) -> None:
    select(env, "web")
    env.window.vm_actions.actions[Action.PAUSE].trigger()
    qtbot.waitUntil(lambda: env.vm_named("web").status is Status.PAUSED, timeout=3000)
    # The event may come before the call returns; the actions follow once it has.
    qtbot.waitUntil(lambda: Action.RESUME in actions_enabled(env), timeout=3000)
    assert Action.PAUSE not in actions_enabled(env)
    assert "done" in env.window.statusBar().currentMessage()
    env.window.vm_actions.actions[Action.RESUME].trigger()
    qtbot.waitUntil(lambda: env.vm_named("web").status is Status.RUNNING, timeout=3000)


def test_start_and_save_state_then_start_restores(env, qtbot) -> None:
    select(env, "old")
    env.window.vm_actions.actions[Action.START].trigger()
    qtbot.waitUntil(lambda: Action.SAVE in actions_enabled(env), timeout=3000)
    env.window.vm_actions.actions[Action.SAVE].trigger()
    qtbot.waitUntil(lambda: env.vm_named("old").status is Status.SAVED, timeout=3000)
    qtbot.waitUntil(lambda: Action.START in actions_enabled(env), timeout=3000)
    env.window.vm_actions.actions[Action.START].trigger()
    qtbot.waitUntil(lambda: env.vm_named("old").status is Status.RUNNING, timeout=3000)


def test_force_off_asks_first_and_cancel_keeps_it_running(env, qtbot) -> None:
    select(env, "web")
    seen = answer_next_dialog(button_with_text("Cancel"))
    env.window.vm_actions.actions[Action.FORCE_OFF].trigger()
    assert "Force off “web”?" in seen[0].text()
    qtbot.wait(200)
    assert env.vm_named("web").status is Status.RUNNING
    answer_next_dialog(button_with_text("Force Off"))
    env.window.vm_actions.actions[Action.FORCE_OFF].trigger()
    qtbot.waitUntil(lambda: env.vm_named("web").status is Status.SHUTOFF, timeout=3000)


def test_a_vm_defined_elsewhere_appears_within_a_second(env, qtbot) -> None:
    virconn = env.conn.virconn
    virconn.defineXML(
        "<domain type='test'><name>newcomer</name><memory>65536</memory>"
        "<os><type>hvm</type></os></domain>"
    )
    qtbot.waitUntil(lambda: env.vm_named("newcomer") is not None, timeout=1000)
    assert "newcomer" in visible_names(env.window)
    virconn.lookupByName("newcomer").undefine()
    qtbot.waitUntil(lambda: env.vm_named("newcomer") is None, timeout=1000)


def test_a_failed_action_shows_its_summary_and_details(env, qtbot, monkeypatch) -> None:
    def failing_start(dom: libvirt.virDomain) -> None:
        dom.connect().lookupByName("no-such-vm")  # a real libvirt error

    monkeypatch.setitem(vmops._SIMPLE, Action.START, failing_start)
    select(env, "old")
    said: list[tuple[str, str]] = []

    def read_then_close(box: QMessageBox):
        said.append((box.text(), box.detailedText()))  # read before Close deletes it
        return button_with_text("Close")(box)

    answer_next_dialog(read_then_close)
    env.window.vm_actions.actions[Action.START].trigger()
    qtbot.waitUntil(lambda: bool(said), timeout=3000)
    summary, details = said[0]
    assert summary == "Could not start “old”: it no longer exists."
    assert "Domain not found" in details
    qtbot.waitUntil(lambda: Action.START in actions_enabled(env), timeout=3000)  # not busy


def test_context_menu_offers_the_vm_actions(env, qtbot) -> None:
    vm = env.vm_named("web")
    env.window.select_vm(vm.conn_id, vm.uuid)
    index = env.window.view.currentIndex()
    rect = env.window.view.visualRect(index)
    env.window.view.customContextMenuRequested.emit(rect.center())
    menus = [
        m
        for m in env.window.findChildren(type(env.window.menuBar().actions()[0].menu()))
        if m.objectName() == "contextMenu"
    ]
    assert menus, "no context menu opened"
    texts = [a.text().replace("&", "") for a in menus[-1].actions() if not a.isSeparator()]
    assert texts[:2] == ["Open", "Start"] and "Delete…" in texts
    menus[-1].close()


def test_shortcuts_work_and_are_unique(env, qtbot) -> None:
    from widgets.vm_actions import SPECS

    shortcuts = [spec[2] for spec in SPECS.values()]
    assert len(set(shortcuts)) == len(shortcuts)  # no two actions share a key
    select(env, "web")
    env.window.activateWindow()
    qtbot.keyClick(env.window.view, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: env.vm_named("web").status is Status.PAUSED, timeout=3000)


@pytest.mark.parametrize("name", ["web", "db"])
def test_rows_carry_cpu_history_for_running_vms(env, qtbot, name) -> None:
    vm = env.vm_named(name)
    index = env.model.vm_index(vm.conn_id, vm.uuid)
    qtbot.waitUntil(lambda: index.data(Role.CPU_HISTORY) is not None, timeout=4000)
    history = index.data(Role.CPU_HISTORY)
    assert len(history) == 120


def test_thumbnail_arrives_for_a_running_vm(env, qtbot) -> None:
    vm = env.vm_named("web")
    index = env.model.vm_index(vm.conn_id, vm.uuid)
    qtbot.waitUntil(lambda: index.data(Role.THUMBNAIL) is not None, timeout=6000)
    image = index.data(Role.THUMBNAIL)
    # Decoded at the size it is drawn (this screen is 4:3), so painting never rescales it.
    assert image.height() == 72 and 0 < image.width() <= 128
    off = env.vm_named("old")
    assert env.model.vm_index(off.conn_id, off.uuid).data(Role.THUMBNAIL) is None


def test_double_click_opens_the_vm_window(env, qtbot) -> None:
    opened = []
    env.window.openVM.connect(opened.append)
    vm = env.vm_named("web")
    env.window.select_vm(vm.conn_id, vm.uuid)
    env.window.view.doubleClicked.emit(env.window.view.currentIndex())
    assert opened and opened[0].name == "web"
    env.window.view.setFocus()
    qtbot.keyClick(env.window.view, Qt.Key.Key_Return)  # the keyboard way
    assert len(opened) == 2 and opened[1].name == "web"


def test_an_empty_list_offers_new_vm(make_ui, failures, qtbot, tmp_path) -> None:
    """No VM on the connected host: a centred message with New VM… in the list's empty
    space, which goes once a VM appears and comes back when the last one goes."""
    empty = make_ui(
        [ConnectionSpec(kind=uris.Kind.CUSTOM, uri=node_uri(tmp_path, []), name="Empty")]
    )
    window = empty.window
    state = window.view.empty_state
    qtbot.waitUntil(state.isVisible, timeout=5000)
    assert state.title.text() == "No VMs yet"
    assert state.button.text() == "New VM…" and state.button.isEnabled()
    # Centred across the list, under the connection's header.
    viewport = window.view.viewport().rect()
    header = window.view.visualRect(window.proxy.index(0, 0))
    assert state.geometry().top() > header.bottom()
    assert abs(state.geometry().center().x() - viewport.center().x()) <= 1
    triggered: list[bool] = []
    window.new_vm_action.triggered.disconnect(window.new_vm)  # no wizard in this test
    window.new_vm_action.triggered.connect(lambda *_a: triggered.append(True))
    state.button.click()
    assert triggered == [True]  # the button is the New VM action
    virconn = empty.conn.virconn
    virconn.defineXML(
        "<domain type='test'><name>first</name><memory>65536</memory>"
        "<os><type>hvm</type></os></domain>"
    )
    qtbot.waitUntil(lambda: empty.vm_named("first") is not None, timeout=5000)
    qtbot.waitUntil(lambda: not state.isVisible(), timeout=5000)
    virconn.lookupByName("first").undefine()
    qtbot.waitUntil(state.isVisible, timeout=5000)
    empty.conn.disconnect()  # nothing connected: nothing to offer (the header says why)
    qtbot.waitUntil(lambda: not state.isVisible(), timeout=5000)
    assert not window.new_vm_action.isEnabled() and not state.button.isEnabled()


def test_a_list_with_vms_shows_no_empty_state(env, qtbot) -> None:
    assert env.window.view.empty_state is not None
    assert not env.window.view.empty_state.isVisible()
    assert not env.window.is_empty()
