"""The New-VM wizard end to end on "This computer" (the embedded QEMU driver, TCG here):
the person opens New VM, picks the GRUB rescue disc, chooses the OS from the list, sets
vCPUs, memory and disk, two user-mode NICs with port forwards, UEFI with Secure Boot and
a TPM, names the VM, and presses Create. One guest boot checks all of it: the guest runs
on OVMF with swtpm, its disk has the size asked for, its XML holds every choice, QEMU
listens on the forwarded ports, and its window is asked for."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

import libvirt
import pytest

from app.core import newvm
from app.core.newvm import NICSource, PortForward
from app.core.newvm.checks import port_problem
from app.core.osdb import Firmware
from app.core.xml import Domain
from tests.guest import rescue_iso
from tests.integration.test_newvm_create import swtpm_pids
from tests.widgets.newvm.conftest import go_to, next_enabled, set_iso, settle
from widgets.newvm import NewVMWizard, PageId

pytestmark = pytest.mark.integration

CREATE_TIMEOUT_MS = 60_000
GIB = 1024**3
MIB = 1024**2
NAME = "nido-it-wizard <ü> & 'q'"


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(type=kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_wizard_makes_a_running_uefi_guest_with_every_choice(this_computer, qtbot) -> None:
    window, model, conn = this_computer.window, this_computer.model, this_computer.conn
    opened = []
    window.openVM.connect(opened.append)
    qtbot.waitUntil(window.new_vm_action.isEnabled)
    window.new_vm_action.trigger()
    wizard = window.new_vm_wizard
    assert isinstance(wizard, NewVMWizard)
    qtbot.waitUntil(lambda: wizard.host is not None, timeout=30_000)
    host = wizard.host
    assert host.mode is newvm.ConnMode.EMBEDDED and host.user_networking

    # Source: the rescue disc.
    set_iso(qtbot, wizard, rescue_iso())
    assert next_enabled(wizard), wizard.source_page.iso_message.text()
    # Operating system: whatever was detected, the person picks Generic Linux 2022.
    go_to(qtbot, wizard, PageId.OS)
    page = wizard.os_page
    page.other.setChecked(True)
    page.search.setText("linux2022")
    item = page.list.item(0)
    assert item.toolTip().endswith("· linux2022")
    page.list.setCurrentItem(item)
    settle(qtbot, wizard)
    assert wizard.spec.os is not None and wizard.spec.os.short_id == "linux2022"

    # Resources: 2 vCPUs, 2 GiB (the OS minimum), a 3 GiB disk.
    go_to(qtbot, wizard, PageId.RESOURCES)
    res = wizard.resources_page
    res.vcpus.control.slider.setValue(2)
    res.memory.control.spin.setValue(2048)
    res.disk.control.spin.setValue(3)
    settle(qtbot, wizard)
    assert (wizard.spec.vcpus, wizard.spec.memory_bytes, wizard.spec.disk_bytes) == (
        2,
        2 * GIB,
        3 * GIB,
    )

    # Network: two user-mode cards, virtio and e1000e, each with a port forward.
    go_to(qtbot, wizard, PageId.NETWORK)
    net = wizard.network_page
    net.add_nic_button.click()
    net.boxes[1].model.setCurrentIndex(net.boxes[1].model.findData("e1000e"))
    ports = [free_port(), free_port(socket.SOCK_DGRAM)]
    net.boxes[0].add_forward.click()
    net.boxes[0].forwards[0].host.setValue(ports[0])
    net.boxes[1].add_forward.click()
    net.boxes[1].forwards[0].proto.setCurrentIndex(1)  # UDP
    net.boxes[1].forwards[0].host.setValue(ports[1])
    net.boxes[1].forwards[0].guest.setValue(53)
    settle(qtbot, wizard)
    forwards = [PortForward(ports[0], 22), PortForward(ports[1], 53, "udp")]
    assert [n.port_forwards for n in wizard.spec.nics] == [[forwards[0]], [forwards[1]]]

    # Firmware: UEFI with Secure Boot and a TPM, offered by the host's capabilities.
    go_to(qtbot, wizard, PageId.FIRMWARE)
    fw = wizard.firmware_page
    assert fw.uefi.isEnabled() and fw.tpm.isEnabled(), (fw.uefi_hint.text(), fw.tpm_hint.text())
    fw.uefi.setChecked(True)
    fw.secure.setChecked(True)
    fw.tpm.setChecked(True)

    # Name and summary, then Create.
    go_to(qtbot, wizard, PageId.SUMMARY)
    wizard.summary_page.name.setText(NAME)
    settle(qtbot, wizard)
    qtbot.waitUntil(lambda: wizard.summary_page.storage != [])
    summary = wizard.summary_page.summary_text()
    assert "Firmware: UEFI with Secure Boot, with an emulated TPM 2.0." in summary
    assert "2 vCPUs and 2 GiB of memory" in summary
    assert "Display: SPICE: with the SPICE agent" in summary  # spice-client-glib is here
    assert next_enabled(wizard)
    t0 = time.monotonic()
    wizard.next()
    qtbot.waitUntil(lambda: len(opened) == 1, timeout=CREATE_TIMEOUT_MS)
    print(f"\nCreate → VM listed and its window asked for: {time.monotonic() - t0:.2f} s")
    vm = opened[0]
    assert vm.name == NAME and vm.status.active
    qtbot.waitUntil(lambda: window.new_vm_wizard is None)

    # What libvirt and QEMU really have (the test asks libvirt itself).
    dom = conn.virconn.lookupByUUIDString(vm.uuid)
    assert dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING
    for xml in (dom.XMLDesc(0), dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)):
        model_xml = Domain.from_xml(xml)
        assert model_xml.name == NAME
        assert (model_xml.vcpu, model_xml.memory) == (2, 2 * GIB // 1024)
        assert [(i.type, i.model) for i in model_xml.devices.interfaces] == [
            ("user", "virtio"),
            ("user", "e1000e"),
        ]
        assert newvm.read_forwards(model_xml) == [(0, forwards[0]), (1, forwards[1])]
        (tpm,) = model_xml.devices.tpms
        assert (tpm.backend_type, tpm.backend_version) == ("emulator", "2.0")
        assert [g.type for g in model_xml.devices.graphics] == ["spice"]
        assert "com.redhat.spice.0" in [c.target_name for c in model_xml.devices.channels]
        assert [(r.bus, r.type) for r in model_xml.devices.redirdevs] == [("usb", "spicevmc")] * 2
    live = Domain.from_xml(dom.XMLDesc(0))
    # Its sound card, with SPICE's audio (libvirt's choice for a SPICE display), runs.
    assert [s.model for s in live.devices.sounds] == ["ich9"]
    assert "<audio id='1' type='spice'/>" in dom.XMLDesc(0)
    assert "/OVMF/" in (live.os.loader or "") and live.os.loader_secure is True
    assert live.os.nvram and os.path.exists(live.os.nvram)
    assert swtpm_pids(vm.uuid), "no swtpm process for the guest"
    assert wizard.spec.firmware is Firmware.UEFI
    disk = next(d for d in live.devices.disks if d.device == "disk")
    info = newvm.inspect_image(disk.source_file)
    assert (info.format, info.virtual_size) == ("qcow2", 3 * GIB)
    assert Path(disk.source_file).parent == Path(host.storage.path)
    cdrom = next(d for d in live.devices.disks if d.device == "cdrom")
    assert cdrom.source_file == str(rescue_iso()) and cdrom.boot_order == 1
    for fwd in forwards:  # QEMU's slirp listens on every forwarded host port
        assert "already in use" in port_problem(fwd), fwd
    assert model.vm(vm.conn_id, vm.uuid) is not None
    assert all(n.source is NICSource.USER for n in wizard.spec.nics)


def test_importing_a_vmdk_converts_it_with_progress(this_computer, qtbot, tmp_path) -> None:
    """A VMDK is converted to qcow2 in the connection's storage (qemu-img, with progress),
    the original stays as it was, and the guest starts from the converted disk."""
    window, conn = this_computer.window, this_computer.conn
    vmdk = tmp_path / "appliance.vmdk"
    subprocess.run(
        ["qemu-img", "create", "-q", "-f", "vmdk", str(vmdk), "256M"], check=True, timeout=30
    )
    before = vmdk.read_bytes()
    opened = []
    window.openVM.connect(opened.append)
    qtbot.waitUntil(window.new_vm_action.isEnabled)
    window.new_vm_action.trigger()
    wizard = window.new_vm_wizard
    qtbot.waitUntil(lambda: wizard.host is not None, timeout=30_000)
    source = wizard.source_page
    source.import_radio.setChecked(True)
    source.image.edit.setText(str(vmdk))
    source.copy.setChecked(True)
    settle(qtbot, wizard)
    assert next_enabled(wizard), wizard.problems
    go_to(qtbot, wizard, PageId.OS)
    wizard.os_page.search.setText("linux2022")
    wizard.os_page.list.setCurrentRow(0)
    go_to(qtbot, wizard, PageId.RESOURCES)
    assert wizard.resources_page.disk.isHidden()
    wizard.resources_page.memory.control.spin.setValue(2048)
    wizard.resources_page.vcpus.control.spin.setValue(1)
    go_to(qtbot, wizard, PageId.SUMMARY)
    wizard.summary_page.name.setText("nido-it-wizard-import")
    settle(qtbot, wizard)
    qtbot.waitUntil(lambda: wizard.summary_page.storage != [])
    assert wizard.summary_page.storage[-1].startswith(
        f"Convert the VMDK image {vmdk} to qcow2 at {wizard.host.storage.path}/"
    )
    steps: list[str] = []
    wizard.createProgress.connect(lambda text, _f: steps.append(text))
    wizard.next()
    qtbot.waitUntil(lambda: len(opened) == 1, timeout=CREATE_TIMEOUT_MS)
    assert any(s.startswith("Converting the disk image…") for s in steps), steps
    dom = conn.virconn.lookupByUUIDString(opened[0].uuid)
    assert dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING
    (disk,) = Domain.from_xml(dom.XMLDesc(0)).devices.disks
    info = newvm.inspect_image(disk.source_file)
    assert (info.format, info.virtual_size) == ("qcow2", 256 * MIB)
    assert Path(disk.source_file).parent == Path(wizard.host.storage.path)
    assert vmdk.read_bytes() == before
