"""The New-VM engine end to end on the embedded QEMU driver (TCG on the build machines):
the GRUB rescue ISO becomes a running guest with the chosen CPUs, memory, NICs, firmware
and port forwards; UEFI with Secure Boot and a TPM starts OVMF and swtpm; a failure after
the start leaves nothing behind, NVRAM and TPM state included.

The embedded root is the session's (one per process); these tests remove what they made
and nothing else.

swtpm under the embedded driver as root needs ``swtpm_user``/``swtpm_group = "root"`` in
the root's qemu.conf (app/core/embedded.py writes them); without them swtpm_setup fails.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import libvirt
import pytest

from app.core import accel, newvm, osdb, uris
from app.core.errors import NidoError
from app.core.newvm import NICSource, NICSpec, PortForward
from app.core.newvm.checks import port_problem
from app.core.xml import Domain
from tests.guest import accelerator, rescue_iso
from tests.guest.libvirt_env import embedded_connection, screenshot
from tests.unit.core.newvm.fakes import Faults, Faulty

pytestmark = pytest.mark.integration

GIB = 1024**3


@pytest.fixture(scope="module")
def env() -> Iterator[tuple[libvirt.virConnect, newvm.HostFacts, bool, Path]]:
    root = uris.embed_root()
    if os.geteuid() == 0:  # Nido's qemu.conf lets swtpm run in a root under root's home
        assert "swtpm_user" in (Path(root) / "etc" / "qemu.conf").read_text()
    swtpm_ok = True
    kind = accelerator()
    chosen = accel.Accelerator(kind, kind.upper(), "the test suite's boot probe")
    with embedded_connection() as conn:
        host = newvm.gather_host_facts(conn, accelerator=chosen)
        yield conn, host, swtpm_ok, Path(os.path.realpath(root))


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(type=kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_spec(db: osdb.OSDatabaseClient, host: newvm.HostFacts, name: str) -> newvm.NewVMSpec:
    spec = newvm.NewVMSpec(iso_path=str(rescue_iso()), name=name)
    newvm.choose_os(spec, "linux2022", db)
    newvm.defaults(spec, host).apply(spec)
    spec.vcpus, spec.memory_bytes, spec.disk_bytes = 1, 2 * GIB, 3 * GIB
    return spec


def listing(path: Path | str) -> set[str]:
    return set(os.listdir(path)) if os.path.isdir(path) else set()


def swtpm_pids(uuid: str) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                cmd = (entry / "cmdline").read_bytes()
                if b"swtpm" in cmd.split(b"\0")[0] and uuid.encode() in cmd:
                    pids.append(int(entry.name))
    return pids


def remove(conn: libvirt.virConnect, uuid: str) -> None:
    """Take away what one test made: the domain, its NVRAM and TPM state, its disk."""
    dom = conn.lookupByUUIDString(uuid)
    disk = Domain.from_xml(dom.XMLDesc(0)).devices.disks[0].source_file
    if dom.isActive():
        dom.destroy()
    dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_NVRAM | libvirt.VIR_DOMAIN_UNDEFINE_TPM)
    if disk:
        os.unlink(disk)


def wait_for_picture(conn: libvirt.virConnect, dom: libvirt.virDomain, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while True:
        colours = screenshot(conn, dom).distinct_colours()
        if colours >= 2 or time.monotonic() > deadline:
            return colours
        time.sleep(0.5)


def test_bios_guest_with_user_nics_and_port_forwards(env, db) -> None:
    conn, host, _, _ = env
    spec = make_spec(db, host, "newvm <bios> & 'ü'")
    forwards0 = [
        PortForward(free_port(), 22),
        PortForward(free_port(socket.SOCK_DGRAM), 53, "udp"),
    ]
    forwards1 = [PortForward(free_port(), 80)]
    spec.nics = [
        NICSpec(NICSource.USER, model="virtio", port_forwards=forwards0),
        NICSpec(NICSource.USER, model="e1000e", port_forwards=forwards1),
    ]
    assert newvm.errors(newvm.validate(spec, host)) == []
    steps: list[tuple[str, float]] = []
    start = time.monotonic()
    uuid = newvm.create(conn, spec, host, lambda t, f: steps.append((t, f)), lambda: False)
    print(f"\ncreate: {time.monotonic() - start:.2f} s; {[t for t, _ in steps]}")
    try:
        dom = conn.lookupByUUIDString(uuid)
        assert dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING
        for xml in (dom.XMLDesc(0), dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)):
            model = Domain.from_xml(xml)
            assert model.name == "newvm <bios> & 'ü'"
            assert (model.vcpu, model.memory) == (1, 2 * GIB // 1024)
            assert [(i.type, i.model) for i in model.devices.interfaces] == [
                ("user", "virtio"),
                ("user", "e1000e"),
            ]
            assert newvm.read_forwards(model) == [(0, f) for f in forwards0] + [
                (1, f) for f in forwards1
            ]
            assert model.os.firmware is None and model.os.loader is None  # BIOS
        disk = Domain.from_xml(dom.XMLDesc(0)).devices.disks[0].source_file
        assert disk is not None
        info = newvm.inspect_image(disk)
        assert (info.format, info.virtual_size) == ("qcow2", 3 * GIB)
        # QEMU's slirp listens on every forwarded host port.
        for fwd in forwards0 + forwards1:
            assert "already in use" in port_problem(fwd), fwd
        # The GRUB disc booted from the CD-ROM: its menu is on the screen.
        assert wait_for_picture(conn, dom, 30.0) >= 2
    finally:
        remove(conn, uuid)
    with pytest.raises(libvirt.libvirtError):
        conn.lookupByUUIDString(uuid)
    assert not os.path.exists(disk)
    for fwd in forwards0 + forwards1:
        assert port_problem(fwd) == ""


def test_uefi_secure_boot_and_tpm(env, db) -> None:
    conn, host, _swtpm_ok, root = env
    spec = make_spec(db, host, "newvm-uefi")
    spec.firmware, spec.secure_boot, spec.tpm = osdb.Firmware.UEFI, True, True
    assert newvm.errors(newvm.validate(spec, host)) == []
    start = time.monotonic()
    uuid = newvm.create(conn, spec, host, lambda *_: None, lambda: False)
    print(f"\ncreate (UEFI, Secure Boot, TPM): {time.monotonic() - start:.2f} s")
    try:
        dom = conn.lookupByUUIDString(uuid)
        assert dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING
        live = Domain.from_xml(dom.XMLDesc(0))
        assert "/OVMF/" in (live.os.loader or "") and live.os.loader_secure is True
        assert live.os.nvram and os.path.exists(live.os.nvram)
        assert live.features.smm is True
        (tpm,) = live.devices.tpms
        assert (tpm.backend_type, tpm.backend_version) == ("emulator", "2.0")
        assert swtpm_pids(uuid), "no swtpm process for the guest"
        state = root / "lib" / "swtpm" / uuid
        assert state.is_dir()
        nvram = live.os.nvram
    finally:
        remove(conn, uuid)
    assert not os.path.exists(nvram) and not state.exists()
    assert swtpm_pids(uuid) == []


def test_a_failure_after_the_start_leaves_nothing(env, db) -> None:
    """The guest ran (NVRAM made, swtpm started) when creation failed: all of it goes."""
    conn, host, swtpm_ok, root = env
    spec = make_spec(db, host, "newvm-rollback")
    spec.firmware = osdb.Firmware.UEFI
    spec.tpm = swtpm_ok
    swtpm_before = (
        set(os.listdir(root / "lib" / "swtpm")) if (root / "lib/swtpm").exists() else set()
    )
    images = host.storage.path if host.storage is not None else ""
    images_before = set(os.listdir(images)) if os.path.isdir(images) else set()
    faults = Faults("virDomain.state")
    with pytest.raises(NidoError) as info:
        newvm.create(Faulty(conn, faults), spec, host, lambda *_: None, lambda: False)
    assert "virDomain.create" in faults.calls  # it had started
    assert info.value.summary.endswith("everything made so far was removed.")
    assert "newvm-rollback" not in {d.name() for d in conn.listAllDomains(0)}
    assert not (root / "lib" / "qemu" / "nvram" / "newvm-rollback_VARS.fd").exists()
    swtpm_after = (
        set(os.listdir(root / "lib" / "swtpm")) if (root / "lib/swtpm").exists() else set()
    )
    assert swtpm_after <= swtpm_before
    assert (set(os.listdir(images)) if os.path.isdir(images) else set()) == images_before


def test_a_failed_definition_removes_the_disk(env, db) -> None:
    conn, host, _, _ = env
    spec = make_spec(db, host, "newvm-nodefine")
    images = host.storage.path if host.storage is not None else ""
    before = listing(images)
    with pytest.raises(NidoError) as info:
        newvm.create(
            Faulty(conn, Faults("virConnect.defineXML")), spec, host, lambda *_: None, lambda: False
        )
    assert info.value.summary.startswith("Could not define “newvm-nodefine”")
    assert listing(images) == before
