"""Nido driving a real QEMU guest on "This computer" (the embedded driver, no daemon):
define, start, pause, resume, save, restore, reboot, shut down and delete, with what the
window shows checked after each libvirt event."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import libvirt
import pytest
from PySide6.QtWidgets import QCheckBox

from app.core.vmstate import Action, Status
from app.core.xml.devices import Disk
from app.core.xml.domain import Domain
from app.qt.models import Role
from tests.guest import READY_MARKER, accelerator, domain_xml, linux_guest
from tests.guest.libvirt_env import wait_for_text
from tests.widgets.conftest import answer_next_dialog
from widgets.vm_list import group_detail

pytestmark = pytest.mark.integration

BOOT_TIMEOUT_S = 90.0
STATE_TIMEOUT_MS = 60_000


def define_guest(conn, name: str, tmp_path: Path) -> tuple[Path, Path]:
    """A test guest with a real qcow2 data disk, defined through the XML model."""
    serial = tmp_path / "serial.log"
    disk = tmp_path / "data.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(disk), "16M"], check=True)
    model = Domain.from_xml(domain_xml(name, linux_guest(), accelerator(), serial_log=serial))
    model.add_device(
        Disk(
            type="file",
            device="disk",
            driver_name="qemu",
            driver_type="qcow2",
            source_file=str(disk),
            target_dev="vda",
            target_bus="virtio",
        )
    )
    conn.virconn.defineXML(model.to_xml())
    return serial, disk


def row(window, name: str):
    proxy = window.proxy
    for g in range(proxy.rowCount()):
        group = proxy.index(g, 0)
        for r in range(proxy.rowCount(group)):
            index = proxy.index(r, 0, group)
            if index.data(Role.VM).name == name:
                return index
    return None


def shown_status(window, name: str) -> Status | None:
    index = row(window, name)
    return index.data(Role.VM).status if index is not None else None


def enabled(window) -> set[Action]:
    return {a for a, qa in window.vm_actions.actions.items() if qa.isEnabled()}


def test_the_whole_life_of_a_real_guest(this_computer, qtbot, tmp_path) -> None:
    env = this_computer
    hub, model, window, conn = env.hub, env.model, env.window, env.conn
    name = "nido-it-life"
    assert conn.mode_text == "embedded, no daemon"
    assert group_detail(conn).startswith("embedded, no daemon · ")
    if Path("/sys/module/kvm_pvm").exists():
        assert conn.accelerator.domain_type == "qemu"  # PVM counts as no usable KVM

    serial, disk = define_guest(conn, name, tmp_path)
    qtbot.waitUntil(lambda: shown_status(window, name) is Status.SHUTOFF, timeout=1000)
    vm = model.find_vm_by_name(name)
    window.select_vm(vm.conn_id, vm.uuid)
    assert enabled(window) == {Action.OPEN, Action.START, Action.DELETE}

    t0 = time.monotonic()
    window.vm_actions.actions[Action.START].trigger()
    qtbot.waitUntil(lambda: shown_status(window, name) is Status.RUNNING, timeout=STATE_TIMEOUT_MS)
    # While the start call is still returning, only Open is offered; then the rest.
    qtbot.waitUntil(lambda: Action.SHUTDOWN in enabled(window), timeout=STATE_TIMEOUT_MS)
    assert Action.START not in enabled(window)
    boot = wait_for_text(serial, READY_MARKER, BOOT_TIMEOUT_S)
    print(f"start -> ready marker: {time.monotonic() - t0:.1f} s (wait {boot:.1f} s)")

    # The live thumbnail shows the guest's colour bars.
    def thumbnail_colours() -> int:
        thumb = row(window, name).data(Role.THUMBNAIL)
        if thumb is None:
            return 0
        y = thumb.height() * 4 // 5  # through the colour bars
        return len({thumb.pixel(x, y) for x in range(0, thumb.width(), 4)})

    # Refreshed every few seconds: the bars appear once the guest has drawn them.
    qtbot.waitUntil(lambda: thumbnail_colours() >= 4, timeout=20_000)
    qtbot.waitUntil(lambda: row(window, name).data(Role.CPU_HISTORY) is not None, timeout=5000)
    stats = hub.vm_stats(vm.conn_id, vm.uuid)
    assert stats is not None and stats.memory_kib[-1] > 10 * 1024  # QEMU's RSS, in KiB

    window.vm_actions.actions[Action.PAUSE].trigger()
    qtbot.waitUntil(lambda: shown_status(window, name) is Status.PAUSED, timeout=STATE_TIMEOUT_MS)
    qtbot.waitUntil(lambda: Action.RESUME in enabled(window), timeout=STATE_TIMEOUT_MS)
    assert Action.PAUSE not in enabled(window)
    window.vm_actions.actions[Action.RESUME].trigger()
    qtbot.waitUntil(lambda: shown_status(window, name) is Status.RUNNING, timeout=STATE_TIMEOUT_MS)
    qtbot.waitUntil(lambda: Action.SAVE in enabled(window), timeout=STATE_TIMEOUT_MS)

    window.vm_actions.actions[Action.SAVE].trigger()
    qtbot.waitUntil(lambda: shown_status(window, name) is Status.SAVED, timeout=STATE_TIMEOUT_MS)
    qtbot.waitUntil(
        lambda: enabled(window) == {Action.OPEN, Action.START, Action.DELETE},
        timeout=STATE_TIMEOUT_MS,
    )
    assert row(window, name).data(Role.THUMBNAIL) is None
    window.vm_actions.actions[Action.START].trigger()  # restores the saved state
    qtbot.waitUntil(lambda: shown_status(window, name) is Status.RUNNING, timeout=STATE_TIMEOUT_MS)
    qtbot.waitUntil(lambda: Action.REBOOT in enabled(window), timeout=STATE_TIMEOUT_MS)
    # The restored QEMU starts a fresh serial log. A guest that booted again would print
    # its ready marker there within its boot time; a restored one prints nothing.
    qtbot.wait(int(max(8.0, 3 * boot) * 1000))
    assert READY_MARKER.encode() not in serial.read_bytes(), "Start rebooted instead of restoring"

    window.vm_actions.actions[Action.REBOOT].trigger()
    wait_for_text(serial, READY_MARKER, BOOT_TIMEOUT_S)  # alive after the restore
    assert shown_status(window, name) is Status.RUNNING
    qtbot.waitUntil(lambda: Action.SHUTDOWN in enabled(window), timeout=STATE_TIMEOUT_MS)

    window.vm_actions.actions[Action.SHUTDOWN].trigger()  # ACPI power button
    qtbot.waitUntil(lambda: shown_status(window, name) is Status.SHUTOFF, timeout=STATE_TIMEOUT_MS)
    qtbot.waitUntil(lambda: Action.DELETE in enabled(window), timeout=STATE_TIMEOUT_MS)
    assert disk.exists()

    def confirm(dialog):
        boxes = dialog.findChildren(QCheckBox)
        assert [b.isChecked() for b in boxes] == [True] and str(disk) in boxes[0].text()
        return dialog.delete_button

    answer_next_dialog(confirm)
    window.vm_actions.actions[Action.DELETE].trigger()
    qtbot.waitUntil(lambda: row(window, name) is None, timeout=STATE_TIMEOUT_MS)
    qtbot.waitUntil(lambda: not disk.exists(), timeout=5000)
    with pytest.raises(libvirt.libvirtError):
        conn.virconn.lookupByName(name)


def test_the_window_says_why_guests_run_without_kvm(this_computer, qtbot) -> None:
    window, conn = this_computer.window, this_computer.conn
    if conn.accelerator.is_kvm:
        pytest.skip("this host really has KVM")
    qtbot.waitUntil(lambda: window.statusBar().currentMessage() != "", timeout=2000)
    message = window.statusBar().currentMessage()
    assert message.startswith("This computer: ")
    assert "in software (TCG)" in message
