"""Nido's XML for a Linux guest against virt-install's, device class by device class.

Both describe the same request: Generic Linux 2022 (virt-install ``--osinfo linux2022``),
2 vCPUs, 2 GiB, a 20 GiB disk, an install ISO, user-mode networking, under TCG. Every
class either matches or differs for a reason written down here. A class that appears,
disappears or changes on either side fails the test until this table says why.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter

import pytest

from app.core import newvm
from app.core.xml import NIDO_XMLNS
from tests.unit.core.newvm.conftest import GIB, make_host
from tests.unit.core.newvm.virtinst_reference import virtinst_xml

LIBOSINFO = "{http://libosinfo.org/xmlns/libvirt/domain/1.0}"

SAME = {
    "domain type": "TCG on this machine for both",
    "memory": "",
    "vcpu": "",
    "machine": "Q35: osinfo-db lists it for the OS",
    "features": "ACPI, APIC, vmport off",
    "clock": "UTC; RTC catch-up, PIT delay, no HPET",
    "pm": "no S3/S4: unreliable in guests",
    "metadata libosinfo": "the OS id, which the VM list shows",
    "disk disk": "virtio-blk vda, thin qcow2 with discard=unmap",
    "disk cdrom": "SATA sda, read-only raw",
    "controller usb": "qemu-xhci with 15 ports",
    "controller pcie-root": "written out, as the root ports' parent",
    "interface": "user-mode NAT, virtio-net",
    "console": "a serial console on a pty",
    "channel org.qemu.guest_agent.0": "the QEMU guest agent's channel",
    "channel com.redhat.spice.0": "the SPICE agent's channel (clipboard, resolution)",
    "redirdev": "two SPICE USB redirection slots",
    "input tablet": "a USB tablet: the pointer follows the host's without grabbing",
    "video": "virtio (libvirt uses virtio-vga as the primary, so BIOS text mode works)",
    "rng": "virtio-rng from /dev/urandom",
    "sound": "an ICH9 HD Audio card (its sound plays in Nido's SPICE console)",
}
DIFFERENT = {
    "boot": (
        "Nido: per-device <boot order> (CD 1, disk 2) in one definition; virt-install: "
        "<os><boot dev='cdrom'/><boot dev='hd'/>, then a second, post-install definition "
        "with the disk only. Per-device order is the form OVMF honours as well as SeaBIOS, "
        "and Nido's definition stays the one the person sees; the CD stays attached "
        "(installers eject it; Nido's VM window can eject it later)."
    ),
    "controller pci": (
        "Nido adds one PCIe root port per device plus 4 spare (for hot-plugging up to four "
        "NICs or disks): 10 here. virt-install always adds 14; every idle port is one more "
        "device the firmware enumerates at each boot, which is slow under TCG."
    ),
    "graphics": (
        "Both SPICE (where Nido can show it). Nido's listens nowhere (<listen "
        "type='none'/>): no TCP port on the host at all; Nido's display connects through "
        "virDomainOpenGraphicsFD. virt-install's listens on an automatic TCP port, which "
        "any local user can connect to without a password."
    ),
    "memballoon": (
        "Nido turns on free page reporting: memory the guest frees goes back to the "
        "host, which matters on a home PC that runs several guests."
    ),
}
NIDO_ONLY = {
    "cpu": (
        "Under TCG Nido asks for the 'maximum' CPU model; virt-install leaves libvirt's "
        "default qemu64, which lacks x86-64-v2 (SSE4.2, POPCNT) that RHEL 9 and other "
        "current distributions need to boot. (Under KVM both use host-passthrough.)"
    ),
    "metadata nido": "Nido's own record: created when, from what, for which OS",
}
VIRTINST_ONLY = {
    "on_reboot": (
        "virt-install's install-phase XML says destroy, so that virt-install (which keeps "
        "running) can restart the guest with its post-install XML. Nido creates the VM and "
        "hands it to the person: a reboot must reboot, with libvirt's default (restart)."
    ),
    "emulator": (
        "virt-install writes the emulator path; Nido lets libvirt choose it, so the VM "
        "survives QEMU moving (libvirt fills it in on define anyway)."
    ),
}


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _attr(elem: ET.Element, path: str, name: str) -> str:
    """An attribute of the element at path ('.' for elem itself), '' when absent."""
    found = elem.find(path)
    return (found.get(name) or "") if found is not None else ""


def _top_level(root: ET.Element) -> dict[str, str]:
    timers = [" ".join(f"{k}={v}" for k, v in t.attrib.items()) for t in root.iter("timer")]
    found = {
        "domain type": root.get("type", ""),
        "memory": f"{int(root.findtext('memory') or 0) * 1024 // GIB} GiB",
        "vcpu": (root.findtext("vcpu") or "").strip(),
        "machine": _attr(root, "os/type", "machine"),
        "features": " ".join(
            _local(f.tag) + (f"={f.get('state')}" if f.get("state") else "")
            for f in root.findall("features/*")
        ),
        "clock": " ".join([_attr(root, "clock", "offset"), *timers]),
        "pm": " ".join(f"{_local(p.tag)}={p.get('enabled')}" for p in root.findall("pm/*")),
    }
    if root.find("cpu") is not None:
        found["cpu"] = _attr(root, "cpu", "mode")
    if root.findtext("on_reboot"):
        found["on_reboot"] = root.findtext("on_reboot") or ""
    for meta in root.findall("metadata/*"):
        if meta.tag == f"{LIBOSINFO}libosinfo":
            found["metadata libosinfo"] = _attr(meta, f"{LIBOSINFO}os", "id")
        elif meta.tag == f"{{{NIDO_XMLNS}}}vm":
            found["metadata nido"] = "present"
        else:
            found[f"metadata {meta.tag}"] = "present"
    boot_os = [b.get("dev") or "" for b in root.findall("os/boot")]
    ordered = sorted(
        (int(_attr(d, "boot", "order")), "cdrom" if d.get("device") == "cdrom" else "hd")
        for d in root.findall("devices/disk")
        if d.find("boot") is not None
    )
    found["boot"] = (
        f"os/boot {','.join(boot_os)}" if boot_os else
        f"per-device {','.join(dev for _, dev in ordered)}"
    )  # fmt: skip
    return found


def _device(dev: ET.Element) -> tuple[str, str]:
    """(class, signature) of one child of <devices>."""
    tag, kind = dev.tag, dev.get("type") or ""
    if tag == "disk":
        sig = [_attr(dev, "target", "bus"), _attr(dev, "target", "dev")]
        sig += [_attr(dev, "driver", "type"), _attr(dev, "driver", "discard")]
        sig.append("readonly" if dev.find("readonly") is not None else "")
        return f"disk {dev.get('device')}", " ".join(sig)
    if tag == "controller":
        return f"controller {kind}", f"{dev.get('model')} ports={dev.get('ports')}"
    if tag == "interface":
        return "interface", f"{kind} {_attr(dev, 'model', 'type')}"
    if tag == "channel":
        return f"channel {_attr(dev, 'target', 'name')}", kind
    if tag == "input":
        return f"input {kind}", dev.get("bus") or ""
    if tag == "graphics":
        listen = _attr(dev, "listen", "type") or f"autoport={dev.get('autoport')}"
        return "graphics", f"{kind} {listen}"
    if tag == "video":
        return "video", _attr(dev, "model", "type")
    if tag == "memballoon":
        return "memballoon", f"{dev.get('model')} reporting={dev.get('freePageReporting')}"
    if tag == "rng":
        return (
            "rng",
            f"{dev.get('model')} {_attr(dev, 'backend', 'model')} {dev.findtext('backend')}",
        )
    if tag == "redirdev":
        return "redirdev", f"{dev.get('bus')} {kind}"
    if tag == "emulator":
        return "emulator", dev.text or ""
    return tag, kind or dev.get("model") or ""


def classes(text: str) -> dict[str, str]:
    """Device class -> a short signature of what the XML asks for."""
    root = ET.fromstring(text)
    found = _top_level(root)
    pci: Counter[str] = Counter()
    redirs = 0
    for dev in root.iterfind("devices/*"):
        if dev.tag == "controller" and dev.get("type") == "pci":
            pci[dev.get("model") or ""] += 1
            continue
        name, signature = _device(dev)
        if name == "redirdev":
            redirs += 1
            signature += f" x{redirs}"
        found[name] = signature
    if pci["pcie-root"]:
        found["controller pcie-root"] = "1"
    if pci["pcie-root-port"]:
        found["controller pci"] = f"{pci['pcie-root-port']} root ports"
    return found


@pytest.fixture(scope="module")
def both(db, iso) -> tuple[dict[str, str], dict[str, str]]:
    host = make_host(existing_names=frozenset(), spice_display=True)
    spec = newvm.NewVMSpec(iso_path=str(iso), name="vitest")
    newvm.choose_os(spec, "linux2022", db)
    newvm.defaults(spec, host).apply(spec)
    spec.vcpus, spec.memory_bytes, spec.disk_bytes = 2, 2 * GIB, 20 * GIB
    install, _final = virtinst_xml()
    return classes(newvm.build_xml(spec, host)), classes(install)


def test_every_class_is_accounted_for(both) -> None:
    nido, virtinst = both
    assert set(nido) - set(virtinst) == set(NIDO_ONLY), "classes only Nido writes"
    assert set(virtinst) - set(nido) == set(VIRTINST_ONLY), "classes only virt-install writes"
    assert set(nido) & set(virtinst) == set(SAME) | set(DIFFERENT), "classes both write"


@pytest.mark.parametrize("name", sorted(SAME))
def test_same(both, name) -> None:
    nido, virtinst = both
    assert nido[name] == virtinst[name]


@pytest.mark.parametrize("name", sorted(DIFFERENT))
def test_different_for_a_reason(both, name) -> None:
    nido, virtinst = both
    assert nido[name] != virtinst[name], f"now the same: move {name!r} to SAME"


def test_the_expected_signatures(both) -> None:
    """What each side says for the classes that differ, so a change on either side shows."""
    nido, virtinst = both
    assert {k: (nido.get(k), virtinst.get(k)) for k in DIFFERENT} == {
        "boot": ("per-device cdrom,hd", "os/boot cdrom,hd"),
        "controller pci": ("10 root ports", "14 root ports"),
        "graphics": ("spice none", "spice autoport=yes"),
        "memballoon": ("virtio reporting=on", "virtio reporting=None"),
    }
    assert nido["cpu"] == "maximum"


def test_the_post_install_definition_drops_the_cd_boot() -> None:
    _install, final = virtinst_xml()
    root = ET.fromstring(final)
    assert [b.get("dev") for b in root.findall("os/boot")] == ["hd"]
    assert root.find("devices/disk[@device='cdrom']/source") is None
