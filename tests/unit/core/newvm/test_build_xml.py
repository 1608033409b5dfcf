"""The domain XML per OS family, read back through the XML model, and checked against
libvirt's schema (virt-xml-validate)."""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path

import pytest

from app.core import newvm
from app.core.newvm import NICSource, NICSpec, PortForward, PortForwardMethod, SourceKind
from app.core.newvm.portfwd import NETDEV_JSON_CAP, QEMU_NS
from app.core.newvm.storage import DiskAction, StoragePlan
from app.core.osdb import Firmware
from app.core.osnames import os_label
from app.core.xml import NIDO_XMLNS, Domain
from tests.unit.core.newvm.conftest import GIB, KVM, make_host


def build(spec: newvm.NewVMSpec, host: newvm.HostFacts | None = None) -> Domain:
    return Domain.from_xml(newvm.build_xml(spec, host or make_host()))


def schema_valid(xml: str, tmp_path: Path) -> None:
    path = tmp_path / "domain.xml"
    path.write_text(xml, encoding="utf-8")
    out = subprocess.run(["virt-xml-validate", str(path), "domain"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr + out.stdout


def disks(dom: Domain) -> dict[str, tuple[str | None, str | None, int | None]]:
    return {d.device or "": (d.target_bus, d.target_dev, d.boot_order) for d in dom.devices.disks}


def test_windows_11(make_spec, tmp_path) -> None:
    spec = make_spec("win11", name="Windows 11")
    xml = newvm.build_xml(spec, make_host())
    schema_valid(xml, tmp_path)
    dom = Domain.from_xml(xml)
    assert dom.os.machine == "q35" and dom.os.firmware == "efi"
    assert dom.os.firmware_feature("secure-boot") is True
    assert dom.os.firmware_feature("enrolled-keys") is True
    assert dom.os.loader is None and dom.os.nvram is None  # libvirt picks the paths
    assert dom.features.smm is True
    assert disks(dom) == {"disk": ("sata", "sda", 2), "cdrom": ("sata", "sdb", 1)}
    assert [i.model for i in dom.devices.interfaces] == ["e1000e"]
    (tpm,) = dom.devices.tpms
    assert (tpm.model, tpm.backend_type, tpm.backend_version) == ("tpm-crb", "emulator", "2.0")
    assert dom.devices.videos[0].model_type == "vga"
    assert not dom.devices.rngs and not dom.devices.channels  # no virtio drivers in Windows
    assert dom.clock.offset == "localtime"
    assert dom.features.hyperv_relaxed is None  # Hyper-V enlightenments only under KVM
    kvm = build(spec, make_host(accelerator=KVM))
    assert kvm.features.hyperv_relaxed and kvm.features.hyperv_spinlock_retries == 8191
    assert kvm.clock.timer("hypervclock") is not None
    assert kvm.cpu.mode == "host-passthrough"


def test_debian(make_spec, tmp_path) -> None:
    spec = make_spec("debian11")
    xml = newvm.build_xml(spec, make_host())
    schema_valid(xml, tmp_path)
    dom = Domain.from_xml(xml)
    assert dom.type == "qemu" and dom.os.machine == "q35" and dom.os.firmware is None
    assert disks(dom) == {"disk": ("virtio", "vda", 2), "cdrom": ("sata", "sda", 1)}
    disk = dom.devices.disks[0]
    assert (disk.driver_type, disk.driver_discard) == ("qcow2", "unmap")
    assert disk.source_file == "/tmp/nido-test-root/images/debian11-2.qcow2"
    assert [i.model for i in dom.devices.interfaces] == ["virtio"]
    assert dom.devices.videos[0].model_type == "virtio"
    assert dom.devices.rngs[0].backend_path == "/dev/urandom"
    assert dom.devices.channels[0].target_name == "org.qemu.guest_agent.0"
    assert dom.devices.memballoons[0].free_page_reporting is True
    assert [c.model for c in dom.devices.controllers if c.type == "usb"] == ["qemu-xhci"]
    assert dom.devices.inputs[0].type == "tablet"
    graphics = dom.devices.graphics[0]
    assert (graphics.type, graphics.listen_type) == ("vnc", "none")
    assert dom.cpu.mode == "maximum"  # TCG: qemu64 lacks x86-64-v2
    assert dom.memory == GIB * 1 // 1024 and dom.vcpu == 2
    assert not dom.devices.tpms and dom.features.smm is None


def test_where_nido_shows_spice_a_new_vm_gets_it_with_agent_and_usb_redirection(
    make_spec, tmp_path
) -> None:
    spec = make_spec("debian11")
    xml = newvm.build_xml(spec, make_host(spice_display=True))
    schema_valid(xml, tmp_path)
    dom = Domain.from_xml(xml)
    graphics = dom.devices.graphics[0]
    assert (graphics.type, graphics.listen_type) == ("spice", "none")
    assert [(c.type, c.target_name) for c in dom.devices.channels] == [
        ("unix", "org.qemu.guest_agent.0"),
        ("spicevmc", "com.redhat.spice.0"),
    ]
    assert [(r.bus, r.type) for r in dom.devices.redirdevs] == [("usb", "spicevmc")] * 2

    # Both channels share one virtio-serial controller: no extra root port for SPICE.
    def controllers(dom: Domain) -> list[tuple[str | None, str | None]]:
        return [(c.type, c.model) for c in dom.devices.controllers]

    assert controllers(build(spec, make_host(spice_display=True))) == controllers(build(spec))


def test_spice_only_where_the_hypervisor_offers_it_and_no_usb_slots_for_old_oses(
    make_spec,
) -> None:
    host = make_host(spice_display=True)
    q35 = dataclasses.replace(host.domain_caps["q35"], graphics_types=frozenset({"vnc"}))
    no_spice = dataclasses.replace(host, domain_caps={**host.domain_caps, "q35": q35})
    dom = build(make_spec("debian11"), no_spice)
    assert dom.devices.graphics[0].type == "vnc"
    assert not dom.devices.redirdevs
    assert [c.target_name for c in dom.devices.channels] == ["org.qemu.guest_agent.0"]
    old = build(make_spec("winxp"), host)  # no virtio drivers, no xHCI
    assert old.devices.graphics[0].type == "spice"
    assert not old.devices.redirdevs and not old.devices.channels
    # What the summary says comes from the same plan.
    plan = newvm.DisplayPlan
    assert newvm.plan_display(make_spec("winxp"), host) == plan("spice", False, 0, sound=True)
    assert newvm.plan_display(make_spec("debian11"), host) == plan("spice", True, 2, sound=True)
    assert newvm.plan_display(make_spec("debian11"), no_spice) == plan("vnc", False, 0)
    # A sound card only where its sound is heard (SPICE), of a kind the OS has a driver for.
    assert [x.model for x in build(make_spec("debian11"), host).devices.sounds] == ["ich9"]
    assert [x.model for x in old.devices.sounds] == ["ac97"]
    assert not dom.devices.sounds  # VNC


def test_an_old_os_gets_bios_ide_and_no_pcie(make_spec, tmp_path) -> None:
    spec = make_spec("winxp")
    xml = newvm.build_xml(spec, make_host())
    schema_valid(xml, tmp_path)
    dom = Domain.from_xml(xml)
    assert dom.os.machine == "pc" and dom.os.firmware is None
    assert disks(dom) == {"disk": ("ide", "hda", 2), "cdrom": ("ide", "hdb", 1)}
    assert [i.model for i in dom.devices.interfaces] == ["e1000"]
    assert not [c for c in dom.devices.controllers if c.type in ("usb", "pci")]
    assert dom.devices.memballoons[0].model == "none"
    assert dom.devices.videos[0].model_type == "vga"


def test_spare_pcie_root_ports_on_q35(make_spec) -> None:
    dom = build(make_spec("debian11"))
    ports = [c for c in dom.devices.controllers if c.model == "pcie-root-port"]
    # virtio disk, NIC, xhci, virtio-serial, balloon, RNG: one port each, plus 4 spare.
    assert len(ports) == 6 + newvm.xmlbuild.SPARE_ROOT_PORTS


def test_metadata_names_the_os(make_spec) -> None:
    dom = build(make_spec("debian11"))
    assert os_label(dom) == "Debian 11"
    nido = dom.metadata(NIDO_XMLNS, "vm", "nido")
    assert (nido.get("source"), nido.get("os")) == ("iso", "debian11")
    assert nido.get("created")
    assert newvm.build_xml(make_spec(None), make_host()).count("libosinfo:os") == 0


@pytest.mark.parametrize("name", ["a <b> & 'c' \"d\"", "ünïcødé 日本", "x]]>y"])
def test_names_are_escaped(make_spec, name, tmp_path) -> None:
    spec = make_spec("debian11", name=name, title=f"{name} & co")
    xml = newvm.build_xml(spec, make_host())
    schema_valid(xml, tmp_path)
    dom = Domain.from_xml(xml)
    assert dom.name == name and dom.title == f"{name} & co"
    assert "<b>" not in xml


def test_uefi_without_secure_boot_says_so(make_spec) -> None:
    spec = make_spec("debian11", firmware=Firmware.UEFI)
    dom = build(spec)
    assert dom.os.firmware == "efi"
    assert dom.os.firmware_feature("secure-boot") is False
    assert dom.features.smm is None


def test_nic_sources(make_spec, tmp_path) -> None:
    spec = make_spec("debian11")
    spec.nics = [
        NICSpec(NICSource.USER),
        NICSpec(NICSource.NETWORK, "default", "e1000e"),
        NICSpec(NICSource.BRIDGE, "br0", "rtl8139"),
    ]
    xml = newvm.build_xml(spec, make_host())
    schema_valid(xml, tmp_path)
    user, net, bridge = Domain.from_xml(xml).devices.interfaces
    assert (user.type, user.model, user.alias) == ("user", "virtio", "ua-nic0")
    assert (net.type, net.source_network, net.model) == ("network", "default", "e1000e")
    assert (bridge.type, bridge.source_bridge, bridge.model) == ("bridge", "br0", "rtl8139")
    spec.nics = []
    assert not build(spec).devices.interfaces


FORWARDS = [PortForward(2222, 22), PortForward(5353, 53, "udp"), PortForward(8080, 80)]


def test_slirp_port_forwards(make_spec, tmp_path) -> None:
    spec = make_spec("debian11")
    spec.nics = [NICSpec(port_forwards=FORWARDS[:2]), NICSpec(port_forwards=FORWARDS[2:])]
    xml = newvm.build_xml(spec, make_host())
    schema_valid(xml, tmp_path)
    assert f"xmlns:qemu='{QEMU_NS}'" in xml
    assert "value='netdev.hostua-nic0.hostfwd=tcp:127.0.0.1:2222-:22'" in xml
    assert "value='netdev.hostua-nic0.hostfwd=udp:127.0.0.1:5353-:53'" in xml
    assert "value='netdev.hostua-nic1.hostfwd=tcp:127.0.0.1:8080-:80'" in xml
    assert xml.count("value='-set'") == 3
    assert xml.count(f"<qemu:del capability='{NETDEV_JSON_CAP}'/>") == 1
    assert "<portForward" not in xml  # libvirt 9.0 would keep it and ignore it
    dom = Domain.from_xml(xml)
    assert newvm.read_forwards(dom) == [(0, FORWARDS[0]), (0, FORWARDS[1]), (1, FORWARDS[2])]


def test_passt_port_forwards(make_spec, tmp_path) -> None:
    spec = make_spec("debian11")
    spec.nics = [NICSpec(port_forwards=FORWARDS)]
    xml = newvm.build_xml(spec, make_host(port_forwarding=PortForwardMethod.PASST))
    assert "qemu:" not in xml
    dom = Domain.from_xml(xml)
    (iface,) = dom.devices.interfaces
    assert iface.backend_type == "passt"
    assert [
        (p.proto, p.address, p.ranges[0].start, p.ranges[0].to) for p in iface.port_forwards
    ] == [
        ("tcp", "127.0.0.1", 2222, 22),
        ("udp", "127.0.0.1", 5353, 53),
        ("tcp", "127.0.0.1", 8080, 80),
    ]
    assert newvm.read_forwards(dom) == [(0, f) for f in FORWARDS]


def test_read_forwards_of_a_passt_range() -> None:
    dom = Domain.from_xml(
        "<domain type='kvm'><name>r</name><devices><interface type='user'>"
        "<backend type='passt'/><portForward proto='udp'>"
        "<range start='5000' end='5002' to='6000'/><range start='5001' exclude='yes'/>"
        "</portForward></interface></devices></domain>"
    )
    got = [(f.host_port, f.guest_port, f.proto) for _, f in newvm.read_forwards(dom)]
    assert got == [(5000, 6000, "udp"), (5001, 6001, "udp"), (5002, 6002, "udp")]


def test_an_imported_disk_boots_first_and_alone(make_spec) -> None:
    spec = make_spec("debian11", source=SourceKind.IMPORT, image_path="/images/old.vmdk")
    plan = StoragePlan(
        DiskAction.CONVERT,
        "/tmp/nido-test-root/images/debian11-2.qcow2",
        "qcow2",
        8 * GIB,
        source_path="/images/old.vmdk",
        source_format="vmdk",
    )
    dom = Domain.from_xml(newvm.build_xml(spec, make_host(), plan))
    assert disks(dom) == {"disk": ("virtio", "vda", 1)}
    assert dom.devices.disks[0].driver_type == "qcow2"
    assert dom.metadata(NIDO_XMLNS, "vm", "nido").get("source") == "import"


def test_on_the_test_driver_without_capabilities(make_spec) -> None:
    host = make_host(mode=newvm.ConnMode.TEST, accelerator=None, domain_caps={})
    spec = make_spec("win11", host)
    assert (spec.firmware, spec.tpm) == (Firmware.BIOS, False)  # no capabilities: no UEFI
    dom = build(spec, host)
    assert dom.type == "test" and dom.cpu.mode is None
    assert not [c for c in dom.devices.controllers if c.type == "pci"]
