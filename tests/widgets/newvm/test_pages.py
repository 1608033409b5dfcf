"""Resources, Network, Firmware and Name & Summary: the host's bounds and the OS's
recommendations on the sliders, only the network sources and firmware the host offers,
and every bad value stopping the page it is on with a short message."""

from __future__ import annotations

import dataclasses
import socket

import pytest

from app.core.newvm import ConnMode, NetworkInfo, NICSource, PortForward, PortForwardMethod
from app.core.osdb import Firmware
from tests.widgets.newvm.conftest import go_to, next_enabled, set_iso, settle
from widgets.newvm import PageId
from widgets.newvm.summary_page import summary_rows

GIB = 1024**3
MIB = 1024**2


@pytest.fixture
def at(made_wizard, qtbot, isos):
    """A wizard for the Debian 11 disc, at the given page."""

    def make(page: PageId, **host_changes: object):
        wizard = made_wizard(**host_changes)
        set_iso(qtbot, wizard, isos["debian11"])
        go_to(qtbot, wizard, page)
        return wizard

    return make


# -- Resources ------------------------------------------------------------------------


def test_sliders_start_at_the_os_recommendation_within_the_host(at) -> None:
    wizard = at(PageId.RESOURCES)
    page, host, d = wizard.resources_page, wizard.host, wizard.defaults
    assert page.vcpus.control.slider.maximum() == host.cpus == 8
    assert page.vcpus.control.value() == d.vcpus.value == 2
    assert page.memory.control.slider.minimum() == d.min_memory_bytes // MIB
    assert page.memory.control.slider.maximum() == host.memory_bytes // MIB
    assert page.memory.control.value() * MIB == wizard.spec.memory_bytes == d.memory_bytes.value
    assert page.disk.control.slider.maximum() == 100  # GiB free in the storage target
    assert page.disk.control.value() == wizard.spec.disk_bytes // GIB == 20
    assert page.memory.hint.text() == (
        "Recommended: 1 GiB (osinfo-db's recommended RAM for Debian 11)"
    )
    assert "16 GiB of memory with 12 GiB free now" in page.host_line.text()
    assert "TCG" in page.host_line.text()
    assert next_enabled(wizard)


def test_memory_is_clamped_to_what_the_host_can_spare(made_wizard, qtbot, isos) -> None:
    wizard = made_wizard(free_memory_bytes=6 * GIB)
    set_iso(qtbot, wizard, isos["win11"])
    go_to(qtbot, wizard, PageId.RESOURCES)
    d = wizard.defaults
    assert d.memory_bytes.clamped
    assert wizard.spec.memory_bytes == 6 * GIB
    assert wizard.resources_page.memory.control.value() == 6 * 1024
    assert "cut to what this host can spare" in wizard.resources_page.memory.hint.text()


@pytest.mark.parametrize(
    ("mib", "message", "blocks"),
    [
        (512, "Debian 11 needs at least 1 GiB.", True),
        (17 * 1024, "This host has 16 GiB of memory.", True),
        (13 * 1024, "Only 12 GiB is free now: the host may have to swap.", False),
    ],
    ids=["below-os-minimum", "above-host", "above-free"],
)
def test_memory_bounds(at, qtbot, mib, message, blocks) -> None:
    wizard = at(PageId.RESOURCES)
    page = wizard.resources_page
    page.memory.control.spin.setValue(mib)
    settle(qtbot, wizard)
    assert wizard.spec.memory_bytes == mib * MIB
    assert page.memory.message.text() == message
    assert page.memory.message.blocking is blocks
    assert next_enabled(wizard) is not blocks
    page.memory.control.spin.setValue(2048)
    settle(qtbot, wizard)
    assert page.memory.message.isHidden() and next_enabled(wizard)


def test_vcpus_above_physical_cores_warn_and_above_cpus_block(at, qtbot) -> None:
    wizard = at(PageId.RESOURCES)
    page = wizard.resources_page
    page.vcpus.control.slider.setValue(6)
    settle(qtbot, wizard)
    assert wizard.spec.vcpus == 6
    assert "4 physical cores" in page.vcpus.message.text()
    assert not page.vcpus.message.blocking and next_enabled(wizard)
    page.vcpus.control.spin.setValue(9)
    settle(qtbot, wizard)
    assert page.vcpus.message.text() == "This host has 8 CPUs."
    assert not next_enabled(wizard)


def test_a_disk_larger_than_the_free_space_blocks(at, qtbot) -> None:
    wizard = at(PageId.RESOURCES)
    page = wizard.resources_page
    page.disk.control.spin.setValue(101)
    settle(qtbot, wizard)
    assert page.disk.message.text().startswith("Only 100 GiB is free in folder ")
    assert not next_enabled(wizard)
    page.disk.control.slider.setValue(50)
    page.disk.control.slider.setValue(100)
    settle(qtbot, wizard)
    assert wizard.spec.disk_bytes == 100 * GIB
    assert page.disk.message.isHidden() and next_enabled(wizard)


# -- Network --------------------------------------------------------------------------


def sources(box) -> list[tuple[str, bool]]:
    model = box.source.model()
    return [(box.source.itemText(i), model.item(i).isEnabled()) for i in range(box.source.count())]


def test_network_sources_are_what_the_connection_offers(at) -> None:
    wizard = at(PageId.NETWORK)
    (box,) = wizard.network_page.boxes
    assert sources(box) == [
        ("User-mode NAT (no set-up; the guest reaches out, not in)", True),
        ("Virtual network “default”", True),
        ("Virtual network “isolated” — not available", False),
        ("Host bridge br0", True),
    ]
    assert box.model.currentData() == "virtio"


def test_a_system_connection_offers_no_user_mode_nat(at) -> None:
    wizard = at(
        PageId.NETWORK,
        mode=ConnMode.SYSTEM,
        user_networking=False,
        port_forwarding=PortForwardMethod.NONE,
        networks=(NetworkInfo("default"),),
        bridges=(),
    )
    (box,) = wizard.network_page.boxes
    assert sources(box) == [("Virtual network “default”", True)]
    assert wizard.spec.nics[0].source is NICSource.NETWORK
    assert not hasattr(box, "add_forward")  # no port forwards off user-mode NAT


def test_zero_to_four_nics(at, qtbot) -> None:
    wizard = at(PageId.NETWORK)
    page = wizard.network_page
    for n in (2, 3, 4):
        page.add_nic_button.click()
        assert len(page.boxes) == len(wizard.spec.nics) == n
    assert not page.add_nic_button.isEnabled()
    for n in (3, 2, 1, 0):
        page.boxes[0].findChild(type(page.add_nic_button), "nic0Remove").click()
        assert len(wizard.spec.nics) == n
    assert page.none_label.isVisible()
    settle(qtbot, wizard)
    assert next_enabled(wizard)  # no network is a valid choice


def test_a_host_port_in_use_blocks(at, qtbot) -> None:
    wizard = at(PageId.NETWORK)
    page = wizard.network_page
    page.boxes[0].add_forward.click()
    settle(qtbot, wizard)
    assert wizard.spec.nics[0].port_forwards == [PortForward(2222, 22)]
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        row = page.boxes[0].forwards[0]
        row.host.setValue(port)
        settle(qtbot, wizard)
        row = page.boxes[0].forwards[0]
        assert row.message.text() == f"Port {port} (TCP) is already in use."
        assert not next_enabled(wizard)
        # The same port for UDP is free.
        row.proto.setCurrentIndex(1)
        settle(qtbot, wizard)
        assert page.boxes[0].forwards[0].message.isHidden()
        assert next_enabled(wizard)


def test_one_host_port_forwarded_twice_blocks(at, qtbot) -> None:
    wizard = at(PageId.NETWORK)
    page = wizard.network_page
    page.add_nic_button.click()
    page.boxes[0].add_forward.click()
    page.boxes[1].add_forward.click()
    settle(qtbot, wizard)
    first, second = wizard.spec.nics[0].port_forwards[0], wizard.spec.nics[1].port_forwards[0]
    assert first.host_port != second.host_port  # new forwards do not collide
    page.boxes[1].forwards[0].host.setValue(first.host_port)
    settle(qtbot, wizard)
    assert page.boxes[1].forwards[0].message.text() == (
        f"Port {first.host_port} is forwarded twice."
    )
    assert not next_enabled(wizard)


# -- Firmware -------------------------------------------------------------------------


def test_firmware_offers_what_domain_capabilities_list(at, qtbot) -> None:
    wizard = at(PageId.FIRMWARE)
    page = wizard.firmware_page
    assert page.bios.isChecked() and page.uefi.isEnabled()
    assert not page.secure.isEnabled()  # needs UEFI first
    assert page.secure_hint.text() == "Secure Boot needs UEFI."
    assert page.tpm.isEnabled() and not page.tpm.isChecked()
    page.uefi.setChecked(True)
    page.secure.setChecked(True)
    page.tpm.setChecked(True)
    settle(qtbot, wizard)
    spec = wizard.spec
    assert (spec.firmware, spec.secure_boot, spec.tpm) == (Firmware.UEFI, True, True)
    assert next_enabled(wizard)
    page.bios.setChecked(True)  # Secure Boot goes with UEFI
    settle(qtbot, wizard)
    assert (spec.firmware, spec.secure_boot) == (Firmware.BIOS, False)
    assert not page.secure.isEnabled()


def test_no_uefi_or_tpm_where_the_host_has_none(at) -> None:
    wizard = at(PageId.FIRMWARE, domain_caps={})
    page = wizard.firmware_page
    assert not page.uefi.isEnabled() and not page.tpm.isEnabled() and not page.secure.isEnabled()
    assert page.uefi_hint.text() == "This host offers no UEFI firmware."
    assert "no emulated TPM" in page.tpm_hint.text()


# -- Name and summary -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Enter a name."),
        ("a/b", "A name cannot contain “/”."),
        ("taken", "There is already a VM called “taken”."),
    ],
    ids=["empty", "slash", "taken"],
)
def test_bad_names_are_refused_on_the_page(at, qtbot, name, message) -> None:
    wizard = at(PageId.SUMMARY)
    page = wizard.summary_page
    page.name.setText(name)
    settle(qtbot, wizard)
    assert page.name_message.text() == message
    assert not next_enabled(wizard)


def test_names_with_spaces_unicode_and_markup_work(at, qtbot) -> None:
    wizard = at(PageId.SUMMARY)
    page = wizard.summary_page
    name = "Mein Rechner <ü> & \"quoted\" 'too'"
    page.name.setText(name)
    settle(qtbot, wizard)
    assert page.name_message.isHidden()
    assert next_enabled(wizard)
    assert wizard.spec.name == name
    page.customize.setChecked(True)
    qtbot.waitUntil(lambda: "&lt;ü&gt; &amp;" in page.xml.toPlainText())
    assert page.xml.isVisible() and page.xml.isReadOnly()
    assert "Mein-Rechner-u-quoted-too.qcow2" in page.xml.toPlainText()


def test_the_summary_says_every_choice(at, qtbot) -> None:
    wizard = at(PageId.NETWORK)
    wizard.network_page.boxes[0].add_forward.click()
    settle(qtbot, wizard)
    go_to(qtbot, wizard, PageId.FIRMWARE)
    wizard.firmware_page.uefi.setChecked(True)
    wizard.firmware_page.secure.setChecked(True)
    wizard.firmware_page.tpm.setChecked(True)
    go_to(qtbot, wizard, PageId.SUMMARY)
    page = wizard.summary_page
    qtbot.waitUntil(lambda: page.storage != [])
    assert page.summary_text().splitlines() == [
        "Installs from: debian11.iso, as a CD-ROM the VM starts from first; then it starts "
        "from its disk.",
        "Operating system: Debian 11.",
        "Processors and memory: 2 vCPUs and 1 GiB of memory.",
        "Disk: Create folder /tmp/nido-test-root/images. Create a 20 GiB disk (it grows as "
        "it fills) at /tmp/nido-test-root/images/debian11-2.qcow2.",
        "Network: 1 card: user-mode NAT (virtio); forwards 127.0.0.1:2222 → guest port 22 (TCP).",
        "Firmware: UEFI with Secure Boot, with an emulated TPM 2.0.",
        "Display: VNC.",  # this host: no SPICE client
        "Runs under: TCG: software emulation, much slower than KVM.",
        "Then: Nido starts the VM and opens its window.",
    ]
    with_spice = dataclasses.replace(wizard.host, spice_display=True)
    display = dict(summary_rows(wizard.spec, with_spice, page.storage))["Display"]
    assert display.startswith("SPICE: ") and "clipboard is shared" in display
    assert "USB devices can be redirected to it" in display
    assert display.endswith("its sound plays on this computer.")
    assert page.findChild(type(page.name_message).__mro__[1], "summaryFirmware").text() == (
        "UEFI with Secure Boot, with an emulated TPM 2.0."
    )


def test_back_and_forth_keeps_the_persons_choices(at, qtbot) -> None:
    wizard = at(PageId.RESOURCES)
    wizard.resources_page.memory.control.spin.setValue(3072)
    go_to(qtbot, wizard, PageId.SUMMARY)
    wizard.summary_page.name.setText("mine")
    settle(qtbot, wizard)
    for _ in range(4):
        wizard.back()
    assert wizard.currentId() == PageId.OS
    go_to(qtbot, wizard, PageId.SUMMARY)
    assert wizard.resources_page.memory.control.value() == 3072
    assert wizard.summary_page.name.text() == "mine"
    assert wizard.spec.memory_bytes == 3072 * MIB
