"""Regenerate the libvirt-produced part of the domain-XML corpus. Run by hand, not by pytest.

    .venv/bin/python tests/unit/core/xml/make_corpus.py

The hand-written ``corpus/doc-*.xml`` files come from libvirt's domain format
documentation. This script writes what libvirt itself makes of them and of a few guests:

- ``lv-<doc>.xml``: each doc file defined on an embedded QEMU driver, dumped with
  ``VIR_DOMAIN_XML_INACTIVE`` (and a few with ``SECURE``/``MIGRATABLE``);
- ``lv-running-*.xml``: ``XMLDesc`` of guests really running under TCG (64 MiB, no disk,
  SeaBIOS waiting for a boot device), destroyed and undefined afterwards;
- ``test-*.xml``: the ``test:///default`` driver's domains;
- ``virtinst-*.xml``: ``virt-install --print-xml`` output (Debian's ``virtinst``),
  run against its own embedded driver with an event loop registered for it.

Needs QEMU, libvirt and, for the last group, virtinst. Files it cannot make are skipped
with a message; everything it writes is deterministic apart from UUIDs and MACs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import libvirt

CORPUS = Path(__file__).with_name("corpus")

RUNNING_GUESTS = {
    "lv-running-i440fx": """<domain type='qemu'>
  <name>nido-corpus-running</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type></os>
  <devices><graphics type='vnc'/></devices>
</domain>""",
    "lv-running-q35": """<domain type='qemu'>
  <name>nido-corpus-running-q35 &amp; “friends”</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='q35'>hvm</type></os>
  <devices>
    <serial type='pty'/>
    <channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>
    <input type='tablet' bus='usb'/>
    <graphics type='spice' autoport='yes'><listen type='address'/></graphics>
    <graphics type='vnc' port='-1' passwd='corpus'/>
    <video><model type='virtio'/></video>
    <rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>
  </devices>
</domain>""",
}

EXTRA_FLAGS = {
    "doc-q35-desktop": {"secure": libvirt.VIR_DOMAIN_XML_SECURE},
    "doc-graphics-vnc": {"secure": libvirt.VIR_DOMAIN_XML_SECURE},
    "doc-everything": {"migratable": libvirt.VIR_DOMAIN_XML_MIGRATABLE},
}

VIRT_INSTALL_WRAPPER = """
import runpy, sys, threading
import libvirt
libvirt.virEventRegisterDefaultImpl()
def _loop():
    while True:
        libvirt.virEventRunDefaultImpl()
threading.Thread(target=_loop, daemon=True).start()
sys.path.insert(0, "/usr/share/virt-manager")
import virtinst.diskbackend as _db
_db.manage_path = lambda conn, path: (path, None, None)  # embedded driver: no pools
sys.argv = ["virt-install", *sys.argv[1:]]
runpy.run_path("/usr/bin/virt-install", run_name="__main__")
"""

VIRT_INSTALL_RUNS = {
    "virtinst-debian11": [
        "--osinfo", "debian11", "--name", "vi-debian11", "--memory", "1024",
        "--disk", "path={disk}", "--cdrom", "{iso}",
    ],
    "virtinst-win10": [
        "--osinfo", "win10", "--name", "vi-win10", "--memory", "4096", "--vcpus", "2",
        "--disk", "path={disk},bus=sata", "--cdrom", "{iso}", "--tpm", "emulator",
    ],
    "virtinst-linux2022-kernel": [
        "--osinfo", "linux2022", "--name", "vi-kernel", "--memory", "256",
        "--virt-type", "qemu", "--disk", "none", "--graphics", "vnc",
        "--network", "user", "--boot",
        "kernel=/srv/vmlinuz,initrd=/srv/initrd.img,kernel_args=console=ttyS0 vga=0x392",
        "--filesystem", "/srv/share,share,driver.type=virtiofs", "--memorybacking",
        "source.type=memfd,access.mode=shared", "--noautoconsole",
    ],
    "virtinst-uefi": [
        "--osinfo", "fedora36", "--name", "vi-uefi", "--memory", "2048", "--boot", "uefi",
        "--disk", "path={disk}", "--import", "--graphics", "spice", "--sound", "ich9",
        "--channel", "spicevmc", "--rng", "/dev/urandom", "--noautoconsole",
    ],
}  # fmt: skip


def start_event_loop() -> None:
    libvirt.virEventRegisterDefaultImpl()

    def loop() -> None:
        while True:
            libvirt.virEventRunDefaultImpl()

    threading.Thread(target=loop, daemon=True, name="libvirt-events").start()


def make_root(prefix: str) -> Path:
    root = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    root.chmod(0o755)  # QEMU runs as libvirt-qemu and must reach its files below root
    (root / "etc").mkdir()
    # Without a virtlogd daemon, QEMU's output must go to plain files.
    (root / "etc" / "qemu.conf").write_text('stdio_handler = "file"\n')
    return root


def write(name: str, text: str) -> None:
    (CORPUS / f"{name}.xml").write_text(text)
    print(f"wrote {name}.xml")


def dump_doc_files(conn: libvirt.virConnect) -> None:
    undefine = libvirt.VIR_DOMAIN_UNDEFINE_NVRAM | libvirt.VIR_DOMAIN_UNDEFINE_TPM
    for path in sorted(CORPUS.glob("doc-*.xml")):
        try:
            dom = conn.defineXML(path.read_text())
        except libvirt.libvirtError as exc:
            print(f"libvirt rejects {path.name}: {exc}")
            continue
        try:
            stem = path.stem.removeprefix("doc-")
            write(f"lv-{stem}", dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
            for label, flag in EXTRA_FLAGS.get(path.stem, {}).items():
                write(f"lv-{stem}-{label}", dom.XMLDesc(flag | libvirt.VIR_DOMAIN_XML_INACTIVE))
        finally:
            dom.undefineFlags(undefine)


def dump_running(conn: libvirt.virConnect) -> None:
    for name, xml in RUNNING_GUESTS.items():
        dom = conn.defineXML(xml)
        try:
            dom.create()
            time.sleep(1.0)
            write(name, dom.XMLDesc(0))
            if name == "lv-running-q35":
                write(f"{name}-secure", dom.XMLDesc(libvirt.VIR_DOMAIN_XML_SECURE))
                write(f"{name}-migratable", dom.XMLDesc(libvirt.VIR_DOMAIN_XML_MIGRATABLE))
        except libvirt.libvirtError as exc:
            print(f"could not run {name}: {exc}")
        finally:
            if dom.isActive():
                dom.destroy()
            dom.undefine()


def dump_test_driver() -> None:
    conn = libvirt.open("test:///default")
    try:
        write("test-default", conn.lookupByName("test").XMLDesc(0))
        write("test-default-inactive", conn.lookupByName("test").XMLDesc(
            libvirt.VIR_DOMAIN_XML_INACTIVE))  # fmt: skip
        for stem in ("q35-desktop", "hostdev", "unicode-escapes", "interfaces"):
            dom = conn.defineXML((CORPUS / f"doc-{stem}.xml").read_text())
            write(f"test-{stem}", dom.XMLDesc(0))
    finally:
        conn.close()


def dump_virt_install() -> None:
    if not Path("/usr/bin/virt-install").exists():
        print("virt-install missing (apt-get install virtinst); skipping its samples")
        return
    work = Path(tempfile.mkdtemp(prefix="nxc-vi-", dir="/tmp"))
    try:
        disk = work / "disk.qcow2"
        iso = work / "install.iso"
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(disk), "1G"], check=True)
        iso.write_bytes(b"\0" * 65536)
        wrapper = work / "wrap.py"
        wrapper.write_text(VIRT_INSTALL_WRAPPER)
        for name, args in VIRT_INSTALL_RUNS.items():
            root = make_root("nxc-vr-")
            argv = [a.format(disk=disk, iso=iso) for a in args]
            cmd = ["/usr/bin/python3", str(wrapper), "--connect", f"qemu:///embed?root={root}",
                   "--print-xml", *argv]  # fmt: skip
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
            shutil.rmtree(root, ignore_errors=True)
            if done.returncode != 0:
                print(f"virt-install {name} failed: {done.stderr.strip()}")
                continue
            docs = ["<domain" + part for part in done.stdout.split("<domain")[1:]]
            for i, doc in enumerate(docs, 1):
                text = doc.replace(str(disk), "/var/lib/libvirt/images/vi.qcow2")
                text = text.replace(str(iso), "/var/lib/libvirt/images/install.iso")
                write(f"{name}-{i}" if len(docs) > 1 else name, text)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    start_event_loop()
    root = make_root("nxc-")
    try:
        conn = libvirt.open(f"qemu:///embed?root={root}")
        try:
            dump_doc_files(conn)
            dump_running(conn)
        finally:
            conn.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    dump_test_driver()
    dump_virt_install()
    return 0


if __name__ == "__main__":
    os.umask(0o022)
    sys.exit(main())
