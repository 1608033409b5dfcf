"""Every bad input of the wizard gives a problem on its field; good input gives none."""

from __future__ import annotations

import dataclasses
import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.core import newvm
from app.core.newvm import ImportMode, NICSource, NICSpec, PortForward, Severity, SourceKind
from app.core.newvm.pool import StorageKind, StorageTarget
from app.core.osdb import Firmware
from tests.unit.core.newvm.conftest import GIB, MIB, make_host


def fields(problems: list[newvm.Problem], severity: Severity = Severity.ERROR) -> set[str]:
    return {p.field for p in problems if p.severity is severity}


def messages(problems: list[newvm.Problem]) -> str:
    return " | ".join(p.message for p in problems)


@pytest.fixture
def spec(make_spec) -> newvm.NewVMSpec:
    return make_spec("debian11", name="web server")


def test_a_good_spec_has_no_problems(spec) -> None:
    assert newvm.validate(spec, make_host()) == []


# -- the source ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("", "Choose a disc image"),
        ("/nonexistent/debian.iso", "does not exist"),
        ("/", "is a folder"),
    ],
)
def test_bad_iso_paths(spec, path, words) -> None:
    spec.iso_path = path
    problems = newvm.validate(spec, make_host())
    assert fields(problems) == {"iso_path"} and words in messages(problems)


def test_a_file_that_is_not_an_iso(spec, tmp_path: Path) -> None:
    spec.iso_path = str(tmp_path / "notes.iso")
    Path(spec.iso_path).write_bytes(b"hello" * 10000)
    problems = newvm.validate(spec, make_host())
    assert fields(problems) == {"iso_path"} and "not an ISO" in messages(problems)


def test_an_unreadable_iso(spec, monkeypatch) -> None:
    def refuse(*_a, **_k):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("app.core.osdb.media.open", refuse, raising=False)
    problems = newvm.validate(spec, make_host())
    assert fields(problems) == {"iso_path"} and "cannot read" in messages(problems)


def test_a_local_iso_on_a_remote_host(spec) -> None:
    problems = newvm.validate(spec, make_host(local=False))
    assert "remote host" in messages([p for p in problems if p.field == "iso_path"])


def _image(tmp_path: Path, fmt: str, size: str = "64M", name: str = "") -> str:
    path = tmp_path / (name or f"disk.{fmt}")
    subprocess.run(["qemu-img", "create", "-q", "-f", fmt, str(path), size], check=True)
    return str(path)


@pytest.fixture
def import_spec(spec, tmp_path) -> Iterator[newvm.NewVMSpec]:
    spec.source = SourceKind.IMPORT
    spec.image_path = _image(tmp_path, "qcow2")
    yield spec


@pytest.mark.parametrize("fmt", ["qcow2", "raw", "vmdk", "vdi"])
def test_importable_images(import_spec, tmp_path, fmt) -> None:
    import_spec.image_path = _image(tmp_path, fmt)
    assert newvm.validate(import_spec, make_host()) == []


@pytest.mark.parametrize("fmt", ["qcow2", "raw"])
def test_qcow2_and_raw_can_be_used_in_place(import_spec, tmp_path, fmt) -> None:
    import_spec.image_path = _image(tmp_path, fmt)
    import_spec.import_mode = ImportMode.IN_PLACE
    assert newvm.validate(import_spec, make_host(storage=None)) == []


@pytest.mark.parametrize("fmt", ["vmdk", "vdi"])
def test_vmdk_and_vdi_are_never_used_in_place(import_spec, tmp_path, fmt) -> None:
    import_spec.image_path = _image(tmp_path, fmt)
    import_spec.import_mode = ImportMode.IN_PLACE
    problems = newvm.validate(import_spec, make_host())
    assert fields(problems) == {"import_mode"} and "converted" in messages(problems)


def test_bad_imports(import_spec, tmp_path, iso, monkeypatch) -> None:
    host = make_host()
    for path, words in [
        ("", "Choose a disk image"),
        (str(tmp_path / "missing.qcow2"), "does not exist"),
        (str(tmp_path), "not a file"),
        (_image(tmp_path, "vpc"), "vpc image"),
        (str(iso), "install from it instead"),
        (_image(tmp_path, "raw", "4k"), "too small"),
    ]:
        import_spec.image_path = path
        problems = newvm.validate(import_spec, host)
        assert fields(problems) == {"image_path"}, path
        assert words in messages(problems), path
    import_spec.image_path = _image(tmp_path, "qcow2", name="locked.qcow2")
    monkeypatch.setattr(os, "access", lambda *_a, **_k: False)
    assert "cannot be read" in messages(newvm.validate(import_spec, host))


def test_a_copy_needs_room(import_spec, tmp_path) -> None:
    import_spec.image_path = str(tmp_path / "full.raw")
    with open(import_spec.image_path, "wb") as f:
        f.write(b"\1" * (2 * MIB))
    small = StorageTarget(StorageKind.DIR, str(tmp_path), free_bytes=MIB)
    problems = newvm.validate(import_spec, make_host(storage=small))
    assert fields(problems) == {"image_path"} and "Only 1 MiB is free" in messages(problems)
    import_spec.import_mode = ImportMode.IN_PLACE
    assert newvm.validate(import_spec, make_host(storage=small)) == []


# -- name and title -------------------------------------------------------------------


@pytest.mark.parametrize("name", ["", "a/b", "taken", "two\nlines", " padded "])
def test_bad_names(spec, name) -> None:
    spec.name = name
    assert fields(newvm.validate(spec, make_host())) == {"name"}


@pytest.mark.parametrize("name", ["my web server", "ünïcødé 日本", "<b>&amp;<b>", 'it\'s "q"'])
def test_names_with_spaces_unicode_and_markup_are_fine(spec, name) -> None:
    spec.name = name
    assert newvm.validate(spec, make_host()) == []


def test_a_title_is_one_line(spec) -> None:
    spec.title = "Web\nserver"
    assert fields(newvm.validate(spec, make_host())) == {"title"}


# -- resources ------------------------------------------------------------------------


def test_memory_bounds(spec) -> None:
    host = make_host()
    spec.memory_bytes = 256 * MIB  # Debian 11 needs 1 GiB
    problems = newvm.validate(spec, host)
    assert fields(problems) == {"memory"} and "at least 1 GiB" in messages(problems)
    spec.memory_bytes = 17 * GIB
    problems = newvm.validate(spec, host)
    assert fields(problems) == {"memory"} and "has 16 GiB" in messages(problems)
    spec.memory_bytes = 13 * GIB  # 12 GiB free
    problems = newvm.validate(spec, host)
    assert fields(problems) == set() and fields(problems, Severity.WARNING) == {"memory"}


def test_vcpu_bounds(spec) -> None:
    host = make_host()
    spec.vcpus = 0
    assert fields(newvm.validate(spec, host)) == {"vcpus"}
    spec.vcpus = 9
    assert "8 CPUs" in messages(newvm.validate(spec, host))
    spec.vcpus = 6  # 4 physical cores
    problems = newvm.validate(spec, host)
    assert fields(problems) == set() and fields(problems, Severity.WARNING) == {"vcpus"}


def test_disk_bounds(spec) -> None:
    host = make_host()
    spec.disk_bytes = 101 * GIB
    problems = newvm.validate(spec, host)
    assert fields(problems) == {"disk"} and "Only 100 GiB is free" in messages(problems)
    spec.disk_bytes = 0
    assert fields(newvm.validate(spec, host)) == {"disk"}
    spec.disk_bytes = 4 * GIB  # Debian 11's minimum is 10 GiB: allowed, but said
    problems = newvm.validate(spec, host)
    assert fields(problems) == set() and fields(problems, Severity.WARNING) == {"disk"}
    spec.disk_bytes = 20 * GIB
    assert fields(newvm.validate(spec, make_host(storage=None))) == {"disk"}


# -- network --------------------------------------------------------------------------


def test_at_most_four_nics(spec) -> None:
    spec.nics = [NICSpec() for _ in range(5)]
    assert fields(newvm.validate(spec, make_host())) == {"nics"}


@pytest.mark.parametrize(
    ("nic", "changes", "words"),
    [
        (NICSpec(model="pcnet32"), {}, "Unknown network card model"),
        (NICSpec(NICSource.USER), {"user_networking": False}, "session and embedded"),
        (NICSpec(NICSource.NETWORK, "nowhere"), {}, "no network “nowhere”"),
        (NICSpec(NICSource.NETWORK, "isolated"), {}, "not running"),
        (NICSpec(NICSource.BRIDGE, "br9"), {}, "bridge “br9”"),
    ],
)
def test_nic_sources_the_host_cannot_provide(spec, nic, changes, words) -> None:
    spec.nics = [NICSpec(NICSource.BRIDGE, "br0"), nic]
    problems = newvm.validate(spec, make_host(**changes))
    assert {p.field.split(".")[0] for p in problems} == {"nics[1]"}
    assert words in messages(problems)


@pytest.fixture
def listening() -> Iterator[tuple[int, int]]:
    """A TCP and a UDP port in use on 127.0.0.1."""
    tcp = socket.socket()
    tcp.bind(("127.0.0.1", 0))
    tcp.listen()
    udp = socket.socket(type=socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    yield tcp.getsockname()[1], udp.getsockname()[1]
    tcp.close()
    udp.close()


def test_a_host_port_in_use(spec, listening) -> None:
    tcp_port, udp_port = listening
    spec.nics[0].port_forwards = [
        PortForward(tcp_port, 22),
        PortForward(udp_port, 53, "udp"),
        PortForward(udp_port, 54, "tcp"),  # the same number over TCP may well be free
    ]
    problems = newvm.validate(spec, make_host())
    assert fields(problems) == {"nics[0].port_forwards[0]", "nics[0].port_forwards[1]"}
    assert f"Port {tcp_port} (TCP) is already in use." in messages(problems)
    assert f"Port {udp_port} (UDP) is already in use." in messages(problems)
    # A remote host's ports cannot be tried from here.
    assert newvm.validate(spec, make_host(local=False, storage=None)) != []
    assert not any("in use" in p.message for p in newvm.validate(spec, make_host(local=False)))


def test_a_privileged_host_port(spec, monkeypatch) -> None:
    class NoPrivilege(socket.socket):
        def bind(self, address) -> None:  # what an unprivileged user gets for port 80
            raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(socket, "socket", NoPrivilege)
    spec.nics[0].port_forwards = [PortForward(80, 80)]
    assert "Port 80 needs administrator rights." in messages(newvm.validate(spec, make_host()))


@pytest.mark.parametrize(
    ("forwards", "words"),
    [
        ([PortForward(0, 22)], "from 1 to 65535"),
        ([PortForward(2222, 70000)], "from 1 to 65535"),
        ([PortForward(2222, 22, "sctp")], "TCP or UDP"),
        ([PortForward(40222, 22), PortForward(40222, 23)], "forwarded twice"),
        ([PortForward(40222, 22), PortForward(40223, 22)], "Guest port 22 is forwarded twice"),
        ([PortForward(40222, 22, host_address="192.0.2.1")], "not an address of this computer"),
    ],
)
def test_bad_port_forwards(spec, forwards, words) -> None:
    spec.nics[0].port_forwards = forwards
    problems = newvm.validate(spec, make_host())
    assert fields(problems) == {f"nics[0].port_forwards[{len(forwards) - 1}]"}
    assert words in messages(problems)


def test_port_forwards_only_where_they_work(spec) -> None:
    spec.nics = [NICSpec(NICSource.BRIDGE, "br0", port_forwards=[PortForward(40222, 22)])]
    assert "Only user-mode" in messages(newvm.validate(spec, make_host()))
    spec.nics = [NICSpec(port_forwards=[PortForward(40222, 22)])]
    host = make_host(port_forwarding=newvm.PortForwardMethod.NONE)
    assert "cannot forward ports" in messages(newvm.validate(spec, host))


def test_the_same_host_port_on_two_nics(spec) -> None:
    spec.nics = [NICSpec(port_forwards=[PortForward(40222, 22)]) for _ in range(2)]
    assert fields(newvm.validate(spec, make_host())) == {"nics[1].port_forwards[0]"}


# -- firmware and machine -----------------------------------------------------------


def _without(host: newvm.HostFacts, **changes: Any) -> newvm.HostFacts:
    caps = {k: dataclasses.replace(c, **changes) for k, c in host.domain_caps.items()}
    return dataclasses.replace(host, domain_caps=caps)


def test_firmware_the_host_does_not_offer(make_spec) -> None:
    spec = make_spec("win11")
    assert (spec.firmware, spec.secure_boot, spec.tpm) == (Firmware.UEFI, True, True)
    assert newvm.validate(spec, make_host()) == []
    no_ovmf = _without(make_host(), firmware=frozenset(), loaders=())
    assert {"firmware", "secure_boot"} <= fields(newvm.validate(spec, no_ovmf))
    no_swtpm = _without(make_host(), tpm_backends=frozenset({"passthrough"}))
    assert fields(newvm.validate(spec, no_swtpm)) == {"tpm"}
    no_secure = _without(make_host(), loader_secure=frozenset({"no"}))
    assert fields(newvm.validate(spec, no_secure)) == {"secure_boot"}
    old = make_host(libvirt_version=7_000_000)  # no <firmware><feature> yet
    assert fields(newvm.validate(spec, old)) == {"secure_boot"}


def test_secure_boot_needs_uefi_and_q35(make_spec) -> None:
    spec = make_spec("debian11")
    spec.secure_boot = True
    assert "needs UEFI" in messages(newvm.validate(spec, make_host()))
    spec.firmware = Firmware.UEFI
    assert newvm.validate(spec, make_host()) == []
    spec.machine = "pc"  # OVMF supports SMM, and so Secure Boot, only on Q35
    assert fields(newvm.validate(spec, make_host())) == {"secure_boot"}


def test_an_os_that_needs_uefi(make_spec) -> None:
    spec = make_spec("debian11")
    spec.os_defaults = dataclasses.replace(spec.os_defaults, bios_supported=False)
    assert fields(newvm.validate(spec, make_host())) == {"firmware"}
    spec = make_spec("winxp", firmware=Firmware.UEFI, machine="q35", disk_bus="sata")
    problems = newvm.validate(spec, make_host())
    assert fields(problems, Severity.WARNING) == {"firmware"}


def test_machine_and_bus(spec) -> None:
    spec.machine = "virt"
    assert "machine" in fields(newvm.validate(spec, make_host()))
    spec.machine, spec.disk_bus = "q35", "ide"  # Q35 has no IDE
    assert fields(newvm.validate(spec, make_host())) == {"disk_bus"}


def test_problems_for() -> None:
    problems = [newvm.Problem("nics[0].source", "a"), newvm.Problem("nicsx", "b")]
    assert newvm.problems_for(problems, "nics") == problems[:1]
    assert newvm.problems_for(problems, "nics[0]") == problems[:1]
