"""Deleting a VM (with the choice about its disks) and the VM window."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QCheckBox, QDialog

from app.core import stats, uris
from app.core.connection import ConnectionSpec, State
from app.core.vmstate import Action, Status
from app.core.xml.domain import Domain
from tests.support.testdriver import domain, node_uri
from tests.widgets.conftest import answer_next_dialog
from widgets.vm_window import DEFAULT_SIZE, SIZE_KEY, VMWindow, remembered_size

CDROM = (
    "<disk type='file' device='cdrom'><source file='{iso}'/>"
    "<target dev='sda' bus='sata'/><readonly/></disk>"
)


@pytest.fixture
def disks_env(make_ui, tmp_path: Path, failures):
    own = tmp_path / "own.qcow2"
    shared = tmp_path / "shared.qcow2"
    iso = tmp_path / "install.iso"
    for f in (own, shared, iso):
        f.write_bytes(b"x" * 1024)
    victim = domain("victim", disk=str(own)).replace(
        "</devices>",
        f"<disk type='file' device='disk'><source file='{shared}'/><target dev='vdb' bus='virtio'/>"
        f"</disk>{CDROM.format(iso=iso)}</devices>",
    )
    neighbour = domain("neighbour", state="shutoff", disk=str(shared))
    uri = node_uri(tmp_path, [victim, neighbour])
    env = make_ui([ConnectionSpec(kind=uris.Kind.CUSTOM, uri=uri)], vms=2)
    return env.hub, env.model, env.window, own, shared, iso


def test_delete_offers_own_disks_protects_shared_ones_and_never_the_iso(disks_env, qtbot) -> None:
    _hub, model, window, own, shared, iso = disks_env
    victim = model.find_vm_by_name("victim")
    window.select_vm(victim.conn_id, victim.uuid)
    seen: list[QDialog] = []

    def choose(dialog):
        seen.append(dialog)
        boxes = {b.text(): b for b in dialog.findChildren(QCheckBox)}
        assert any(str(own) in t for t in boxes)
        assert not any(str(iso) in t for t in boxes), "an install disc must never be offered"
        shared_box = next(b for t, b in boxes.items() if str(shared) in t)
        assert not shared_box.isEnabled() and "neighbour" in shared_box.text()
        return dialog.delete_button

    answer_next_dialog(choose)
    window.vm_actions.actions[Action.DELETE].trigger()
    qtbot.waitUntil(lambda: model.find_vm_by_name("victim") is None, timeout=5000)
    qtbot.waitUntil(lambda: not own.exists(), timeout=3000)
    assert shared.exists() and iso.exists()
    assert model.find_vm_by_name("neighbour") is not None
    assert seen and seen[0].windowTitle() == "Delete VM"


def test_cancelled_delete_keeps_everything(disks_env, qtbot) -> None:
    _hub, model, window, own, _shared, _iso = disks_env
    victim = model.find_vm_by_name("victim")
    window.select_vm(victim.conn_id, victim.uuid)
    seen = answer_next_dialog(lambda d: d.reject())  # the person presses Cancel / Escape
    window.vm_actions.actions[Action.DELETE].trigger()
    qtbot.waitUntil(lambda: bool(seen), timeout=3000)
    qtbot.wait(300)
    assert model.find_vm_by_name("victim") is not None and own.exists()
    assert window.vm_actions.actions[Action.DELETE].isEnabled()


def test_vm_window_shows_details_state_and_xml(disks_env, qtbot) -> None:
    hub, model, _window, *_ = disks_env
    vm = model.find_vm_by_name("victim")
    vmw = VMWindow(hub, model, vm)
    qtbot.addWidget(vmw)
    vmw.show()
    assert vmw.windowTitle() == "victim — Nido"
    assert vmw.fields["State"].text() == "Running"
    assert vmw.fields["Operating system"].text() == "Debian 12"
    assert vmw.fields["Memory"].text() == "256 MiB"
    vmw.tabs.setCurrentWidget(vmw.xml_view)
    qtbot.waitUntil(lambda: "<name>victim</name>" in vmw.xml_view.toPlainText(), timeout=3000)

    # The Overview's graphs receive the live history (two ticks make the first rate).
    def cpu_points() -> int:
        ys = vmw.graphs.cpu.curve.getData()[1]
        return 0 if ys is None else len(ys)

    qtbot.waitUntil(lambda: cpu_points() == 120, timeout=5000)
    # The test driver reports no memory figures: the memory graph has its samples, as gaps.
    mem = vmw.graphs.memory.curve.getData()[1]
    assert len(mem) == 120 and all(v != v for v in mem)
    # Pause from the VM window's own toolbar; the window follows the event.
    vmw.actions_.actions[Action.PAUSE].trigger()
    qtbot.waitUntil(lambda: vmw.fields["State"].text() == "Paused", timeout=3000)
    assert model.find_vm_by_name("victim").status is Status.PAUSED
    assert hub.connections()[0].state is State.CONNECTED


def test_closed_vm_window_leaves_nothing_behind(disks_env, qtbot, failures) -> None:
    hub, model, window, *_ = disks_env
    vm = model.find_vm_by_name("victim")
    vmw = VMWindow(hub, model, vm)
    vmw.show()
    vmw.close()  # deleted on close
    qtbot.wait(50)
    window.select_vm(vm.conn_id, vm.uuid)
    window.vm_actions.actions[Action.PAUSE].trigger()  # changes the model under it
    qtbot.waitUntil(lambda: model.find_vm_by_name("victim").status is Status.PAUSED, timeout=3000)
    qtbot.wait(100)
    assert failures == []  # no "C++ object already deleted" from the closed window


def test_a_new_vm_window_opens_at_the_size_the_last_one_was_left(disks_env, qtbot) -> None:
    hub, model, *_ = disks_env
    vm = model.find_vm_by_name("victim")
    hub.settings.window_geometry.pop(SIZE_KEY, None)
    first = VMWindow(hub, model, vm)
    assert first.size().toTuple() == DEFAULT_SIZE
    first.show()
    # A size other than the default that the window can take (its content sets a minimum).
    least = first.minimumSizeHint().expandedTo(first.minimumSize())
    target = (max(least.width(), 600) + 57, max(least.height(), 400) + 31)
    assert target != DEFAULT_SIZE
    first.resize(*target)
    qtbot.waitUntil(lambda: first.size().toTuple() == target, timeout=2000)
    first.close()
    assert hub.settings.window_geometry[SIZE_KEY] == f"{target[0]}x{target[1]}"
    second = VMWindow(hub, model, vm)
    assert second.size().toTuple() == target
    second.close()
    for odd in ("", "700", "axb", "10x10", "99999x500"):
        assert remembered_size(odd) == DEFAULT_SIZE


def test_vm_window_survives_a_rename_of_its_vm(disks_env, qtbot) -> None:
    hub, model, _window, *_ = disks_env
    vm = model.find_vm_by_name("neighbour")  # shut off: a new definition applies at once
    vmw = VMWindow(hub, model, vm)
    qtbot.addWidget(vmw)
    vmw.show()
    virconn = hub.connections()[0].virconn
    model_xml = Domain.from_xml(virconn.lookupByUUIDString(vm.uuid).XMLDesc(0))
    model_xml.title = "Zebra <&> crossing"  # re-sorts the row: removed and inserted again
    virconn.defineXML(model_xml.to_xml())
    qtbot.waitUntil(lambda: vmw.windowTitle() == "Zebra <&> crossing — Nido", timeout=3000)
    assert vmw.isVisible()
    assert vmw.fields["Name"].text() == "neighbour"


def test_delete_button_names_what_it_deletes(qtbot) -> None:
    from app.core.inventory import VMInfo
    from app.core.vmops import DiskImage
    from widgets.delete_dialog import DeleteDialog

    vm = VMInfo("c", "u", "web", "", Status.SHUTOFF, "", 1, 1024, True)
    dialog = DeleteDialog(vm, [DiskImage("/img/R&D.qcow2", "vda")])
    qtbot.addWidget(dialog)
    assert dialog.delete_button.text() == "Delete VM and 1 disk image"
    ((box, _disk),) = dialog.disk_boxes
    assert box.text() == "/img/R&&D.qcow2  (vda)"  # shown as R&D, not as a shortcut
    box.setChecked(False)
    assert dialog.delete_button.text() == "Delete VM"
    assert dialog.chosen_paths() == []


def test_a_running_vm_renamed_in_its_definition_shows_the_new_title(disks_env, qtbot) -> None:
    hub, model, _window, *_ = disks_env
    vm = model.find_vm_by_name("victim")  # running: the live XML keeps its old title
    virconn = hub.connections()[0].virconn
    saved = Domain.from_xml(virconn.lookupByUUIDString(vm.uuid).XMLDesc(0))
    saved.title = "Renamed while running"
    virconn.defineXML(saved.to_xml())
    qtbot.waitUntil(
        lambda: model.find_vm_by_name("victim").title == "Renamed while running", timeout=3000
    )


def test_ctrl_q_in_a_vm_window_asks_to_quit(disks_env, qtbot) -> None:
    hub, model, window, *_ = disks_env
    vmw = VMWindow(hub, model, model.find_vm_by_name("victim"))
    qtbot.addWidget(vmw)
    vmw.show()
    vmw.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is vmw, timeout=3000)
    with qtbot.waitSignal(window.quitRequested, timeout=2000):
        qtbot.keyClick(vmw.tabs, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)


def test_disk_and_network_rates_are_asked_only_while_a_window_shows_them(
    disks_env, qtbot, monkeypatch
) -> None:
    hub, model, _window, *_ = disks_env
    asked: list[list[str]] = []
    real_sample = stats.sample

    def sample(virconn, what=stats.LIST_STATS, detail=()):
        asked.append(list(detail))
        return real_sample(virconn, what, detail)

    monkeypatch.setattr(stats, "sample", sample)
    vm = model.find_vm_by_name("victim")
    qtbot.waitUntil(lambda: len(asked) >= 1, timeout=5000)
    assert asked[-1] == []  # the list alone asks for no detail
    first, second = VMWindow(hub, model, vm), VMWindow(hub, model, vm)  # delete on close
    for w in (first, second):
        w.show()
    qtbot.waitUntil(lambda: asked[-1] == [vm.uuid], timeout=5000)
    first.close()  # the other window still shows them
    n = len(asked)
    qtbot.waitUntil(lambda: len(asked) > n, timeout=5000)
    assert asked[-1] == [vm.uuid]
    second.close()
    qtbot.waitUntil(lambda: asked[-1] == [], timeout=5000)
