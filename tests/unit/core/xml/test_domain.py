"""Domain-level behaviour: building, devices, metadata, OS and graphics helpers."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from app.core.xml import (
    DEVICE_TYPES,
    NIDO_XMLNS,
    Channel,
    Device,
    Disk,
    Domain,
    Emulator,
    Filesystem,
    Graphics,
    Interface,
    Video,
    XMLParseError,
)

from .helpers import CORPUS_DIR, read_corpus

NEW_DOMAIN = """<domain type='kvm'>
  <name>fresh</name>
  <memory unit='KiB'>2097152</memory>
  <currentMemory unit='KiB'>2097152</currentMemory>
  <vcpu>2</vcpu>
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
  </os>
</domain>
"""


def corpus(name: str) -> Domain:
    return Domain.from_xml(read_corpus(CORPUS_DIR / name))


def test_new_builds_a_minimal_domain() -> None:
    dom = Domain.new("fresh", memory_kib=2 * 1024 * 1024, vcpus=2, machine="q35")
    assert dom.to_xml() == NEW_DOMAIN


def test_a_built_domain_reads_back_everything() -> None:
    dom = Domain.new("built", virt_type="qemu", memory_kib=65536)
    dom.os.kernel = "/boot/vmlinuz"
    dom.os.cmdline = "console=ttyS0 vga=0x392"
    dom.features.acpi = True
    dom.add_device(Video(model_type="vga"))
    dom.add_device(Graphics(type="vnc", port=-1, autoport=True))
    dom.add_device(Channel(type="unix", target_type="virtio", target_name="org.qemu.guest_agent.0"))
    back = Domain.from_xml(dom.to_xml())
    assert (back.type, back.name, back.memory, back.vcpu) == ("qemu", "built", 65536, 1)
    assert back.os.cmdline == "console=ttyS0 vga=0x392"
    assert [d.kind for d in back.devices.all()] == ["channel", "graphics", "video"]
    assert back.devices.channels[0].target_name == "org.qemu.guest_agent.0"


def test_from_xml_refuses_other_documents() -> None:
    with pytest.raises(ValueError, match="<domain>"):
        Domain.from_xml("<network><name>default</name></network>")
    with pytest.raises(XMLParseError):
        Domain.from_xml("<domain>")


def test_devices_are_typed_and_unknown_ones_survive() -> None:
    dom = corpus("doc-comments-unknown.xml")
    devices = dom.devices.all()
    assert [type(d).__name__ for d in devices] == ["Disk", "Device", "Graphics"]
    assert devices[1].kind == "hologram"
    assert set(DEVICE_TYPES) >= {
        "emulator", "disk", "controller", "lease", "filesystem", "interface", "input", "hub",
        "graphics", "video", "console", "serial", "parallel", "channel", "sound", "audio",
        "watchdog", "memballoon", "rng", "tpm", "hostdev", "redirdev", "smartcard", "shmem",
        "memory", "iommu", "vsock", "panic",
    }  # fmt: skip


def test_every_device_class_reads_its_corpus_example() -> None:
    dom = corpus("doc-everything.xml")
    d = dom.devices
    assert d.emulator == "/usr/bin/qemu-system-x86_64"
    assert isinstance(d.emulators[0], Emulator)
    assert d.disks[0].source_file == "/var/lib/libvirt/images/sink.qcow2"
    assert d.disks[0].boot_order == 1
    assert [c.type for c in d.controllers] == ["usb", "ccid", "virtio-serial"]
    assert d.leases[0].target_path == "/var/lib/libvirt/sanlock/sink"
    assert (d.filesystems[0].driver_type, d.filesystems[0].target_dir) == ("virtiofs", "share")
    assert d.interfaces[0].mac == "52:54:00:00:00:99"
    assert d.smartcards[0].mode == "passthrough"
    assert (d.serials[0].type, d.parallels[0].type, d.consoles[0].type) == ("pty",) * 3
    assert d.channels[0].target_name == "org.qemu.guest_agent.0"
    assert (d.inputs[0].type, d.inputs[0].bus) == ("tablet", "usb")
    assert (d.tpms[0].model, d.tpms[0].backend_version) == ("tpm-crb", "2.0")
    assert d.graphics[0].type == "spice"
    assert (d.sounds[0].model, d.audios[0].id, d.audios[0].type) == ("ich9", 1, "spice")
    assert (d.videos[0].model_type, d.videos[0].primary) == ("virtio", True)
    assert (d.hostdevs[0].vendor_id, d.hostdevs[0].product_id) == ("0x046d", "0xc52b")
    assert d.redirdevs[0].type == "spicevmc"
    assert d.hubs[0].type == "usb"
    assert (d.watchdogs[0].model, d.watchdogs[0].action) == ("i6300esb", "reset")
    assert d.memballoons[0].model == "virtio"
    assert d.rngs[0].backend_path == "/dev/urandom"
    assert d.panics[0].model == "isa"
    assert (d.shmems[0].name, d.shmems[0].size) == ("ivshmem0", 4096)
    assert (d.memories[0].model, d.memories[0].target_size) == ("dimm", 262144)
    assert (d.iommus[0].model, d.iommus[0].driver_intremap) == ("intel", True)
    assert d.vsocks[0].cid_auto is True
    assert dom.max_memory == 8 * 1024 * 1024 and dom.max_memory_slots == 4
    assert (dom.memory_backing.source_type, dom.memory_backing.access_mode) == ("memfd", "shared")


def test_running_guest_xml_has_live_details() -> None:
    dom = corpus("lv-running-q35.xml")
    assert dom.id == 2
    vnc = next(g for g in dom.devices.graphics if g.type == "vnc")
    assert (vnc.port, vnc.autoport, vnc.listen) == (5901, True, "127.0.0.1")
    assert dom.devices.consoles[0].tty == "/dev/pts/0"
    assert dom.devices.channels[0].target_state == "disconnected"
    assert dom.devices.controllers[0].alias == "usb"
    assert dom.devices.videos[0].address.slot == "0x01"


def test_add_device_groups_devices_by_kind() -> None:
    dom = corpus("doc-q35-desktop.xml")
    disk = dom.add_device(Disk(type="file", device="disk", source_file="/b.img", target_dev="vdb"))
    kinds = [d.kind for d in dom.devices.all()]
    assert kinds.index("disk") == 1 and kinds.count("disk") == 3
    assert kinds[4] == "controller"  # the new disk went right after the other two
    nic = dom.add_device(Interface(type="bridge", source_bridge="br0", model="virtio"))
    assert dom.devices.interfaces[-1] == nic
    fs = dom.add_device(
        Filesystem(type="mount", driver_type="virtiofs", source_dir="/s", target_dir="s")
    )
    kinds = [d.kind for d in dom.devices.all()]
    assert kinds.index("filesystem") == kinds.index("interface") - 1  # libvirt's order
    dom.remove_device(disk)
    dom.remove_device(nic)
    dom.remove_device(fs)
    assert dom.to_xml() == read_corpus(CORPUS_DIR / "doc-q35-desktop.xml")


def test_removing_a_stranger_is_an_error() -> None:
    dom = corpus("doc-minimal.xml")
    with pytest.raises(ValueError, match="not a device of this domain"):
        dom.remove_device(Disk())
    other = corpus("doc-disks.xml")
    with pytest.raises(ValueError):
        dom.remove_device(other.devices.disks[0])


def test_a_removed_device_prints_flush_left_and_can_come_back() -> None:
    dom = corpus("doc-disks.xml")
    original = dom.to_xml()
    disk = dom.devices.disks[1]
    inside = disk.to_xml()
    assert inside.startswith("<disk type='block' device='disk'>\n  <driver")
    assert inside.endswith("\n</disk>")
    dom.remove_device(disk)
    assert disk.to_xml() == inside
    assert ET.fromstring(inside).find("source").get("dev") == "/dev/vg0/guest-data"  # type: ignore[union-attr]
    dom.add_device(disk)
    assert [d.target_dev for d in dom.devices.disks][-1] == "vdb"  # back, after its kind
    back = Domain.from_xml(dom.to_xml())
    assert len(back.devices.disks) == 8
    assert back.devices.disks[-1].to_xml() == inside
    assert back.to_xml() != original


def test_fragment_parsed_alone_is_reindented_when_added() -> None:
    dom = Domain.new("frag")
    dom.add_device(Disk.from_xml("<disk type='file'>\n  <source file='/x'/>\n</disk>"))
    assert dom.to_xml().endswith(
        "  <devices>\n"
        "    <disk type='file'>\n"
        "      <source file='/x'/>\n"
        "    </disk>\n"
        "  </devices>\n"
        "</domain>\n"
    )


def test_a_one_line_document_stays_on_one_line() -> None:
    dom = corpus("doc-compact-oneline.xml")
    dom.add_device(Disk(type="file", device="cdrom", source_file="/c.iso", target_dev="sda"))
    dom.title = "T"
    out = dom.to_xml()
    assert "\n" not in out
    assert (
        "<disk type='file' device='cdrom'><source file='/c.iso'/><target dev='sda'/></disk>" in out
    )


def test_crlf_document_keeps_its_untouched_lines() -> None:
    text = read_corpus(CORPUS_DIR / "doc-odd-formatting.xml")
    dom = Domain.from_xml(text)
    dom.vcpu = 2
    out = dom.to_xml()
    assert out.count("\r\n") == text.count("\r\n")
    assert '\t<memory  unit = "KiB" >65536</memory>\r\n' in out
    assert '<vcpu placement="static" >2</vcpu>' in out


def test_metadata_is_found_by_namespace_not_prefix() -> None:
    dom = corpus("doc-metadata-namespaces.xml")
    assert dom.metadata(NIDO_XMLNS, "vm", "other-prefix").get("os") == "debian12"
    assert dom.metadata("urn:example:app", "app", "x").get("version") == "3"
    assert dom.metadata("urn:cockpit:machines", "machine", "c").get("cockpit:pinned") == "true"
    assert dom.metadata("urn:nothing", "vm", "n").get("os") is None
    assert ("http://libosinfo.org/xmlns/libvirt/domain/1.0", "libosinfo") in dom.metadata_keys()


def test_metadata_write_creates_and_remove_cleans_up() -> None:
    dom = Domain.new("meta")
    before = dom.to_xml()
    meta = dom.metadata(NIDO_XMLNS, "vm", "nido")
    assert meta.get("os") is None and not meta.exists
    assert dom.to_xml() == before
    meta.set("os", "debian12")
    meta.text = "note"
    assert (
        "  <metadata>\n"
        "    <nido:vm xmlns:nido='https://nido.invalid/xmlns/1.0' os='debian12'>note</nido:vm>\n"
        "  </metadata>\n"
    ) in dom.to_xml()
    with pytest.raises(ValueError):
        meta.set("xmlns:evil", "urn:x")
    meta.remove()
    assert dom.to_xml() == before
    with pytest.raises(ValueError):
        dom.metadata(NIDO_XMLNS, "not a name", "nido")


def test_graphics_listen_keeps_attribute_and_element_in_step() -> None:
    dom = corpus("doc-graphics-vnc.xml")
    vnc = dom.devices.graphics[0]
    assert vnc.listen == "0.0.0.0"
    vnc.listen = "127.0.0.1"
    assert (vnc._listen_attr, vnc.listen_address) == ("127.0.0.1", "127.0.0.1")
    none = corpus("doc-direct-kernel.xml").devices.graphics[0]
    assert (none.listen, none.listen_type) == (None, "none")
    none.listen = "::1"
    assert (none.listen_type, none.listen_address, none._listen_attr) == ("address", "::1", None)
    fresh = Graphics(type="vnc")
    fresh.listen = "0.0.0.0"
    assert fresh.to_xml() == (
        "<graphics type='vnc' listen='0.0.0.0'>\n"
        "  <listen type='address' address='0.0.0.0'/>\n"
        "</graphics>"
    )
    fresh.listen = None
    assert fresh.to_xml() == "<graphics type='vnc'/>"


def test_boot_devices_and_firmware_features() -> None:
    dom = corpus("doc-uefi-secureboot.xml")
    assert dom.os.boot_devices == ["cdrom", "hd"]
    assert dom.os.firmware_feature("secure-boot") is True
    assert dom.os.firmware_feature("no-such") is None
    dom.os.boot_devices = ["hd", "network"]
    dom.os.set_firmware_feature("enrolled-keys", False)
    back = Domain.from_xml(dom.to_xml())
    assert back.os.boot_devices == ["hd", "network"]
    assert back.os.firmware_feature("enrolled-keys") is False
    back.os.set_firmware_feature("secure-boot", None)
    back.os.set_firmware_feature("enrolled-keys", None)
    assert "<firmware" not in back.to_xml()
    assert "<loader secure='yes'/>" in back.to_xml()
    fresh = Domain.new("b")
    fresh.os.boot_devices = ["cdrom"]
    fresh.os.boot_devices = []
    assert fresh.to_xml() == Domain.new("b").to_xml()
    with pytest.raises(ValueError):
        fresh.os.firmware_feature("bad name']")


def test_disk_source_path_follows_the_disk_type() -> None:
    dom = corpus("doc-disks.xml")
    paths = [d.source_path for d in dom.devices.disks]
    assert paths[:4] == [
        "/var/lib/libvirt/images/system.qcow2",
        "/dev/vg0/guest-data",
        "scratch.qcow2",
        "export0",
    ]
    block = dom.devices.disks[1]
    block.source_path = "/dev/vg0/other"
    assert block.source_dev == "/dev/vg0/other"
    with pytest.raises(ValueError, match="volume"):
        dom.devices.disks[2].source_path = "/x"


def test_objects_compare_by_element() -> None:
    dom = corpus("doc-disks.xml")
    assert dom.devices.disks[0] == dom.devices.disks[0]
    assert dom.devices.disks[0] != dom.devices.disks[1]
    assert len({dom.devices.disks[0], dom.devices.disks[0]}) == 1
    assert isinstance(dom.devices.all()[0], Device)
    with pytest.raises(LookupError):
        Domain.new("x").cpu.to_xml()
