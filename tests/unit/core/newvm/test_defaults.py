"""Defaults: osdb's recommendations per OS family, clamped to the host, guesses flagged."""

from __future__ import annotations

import dataclasses

import pytest

from app.core import newvm
from app.core.newvm import NetworkInfo, NICSource
from app.core.newvm.pool import StorageKind, StorageTarget
from app.core.osdb import Firmware
from tests.unit.core.newvm.conftest import GIB, MIB, make_host


@pytest.mark.parametrize(
    ("os_id", "machine", "bus", "nic", "firmware", "secure_boot", "tpm"),
    [
        ("win11", "q35", "sata", "e1000e", Firmware.UEFI, True, True),
        ("win10", "q35", "sata", "e1000e", Firmware.BIOS, False, False),
        ("debian11", "q35", "virtio", "virtio", Firmware.BIOS, False, False),
        ("linux2022", "q35", "virtio", "virtio", Firmware.BIOS, False, False),
        ("freebsd13.1", "pc", "virtio", "virtio", Firmware.BIOS, False, False),
        ("winxp", "pc", "ide", "e1000", Firmware.BIOS, False, False),
        ("win2k", "pc", "ide", "e1000", Firmware.BIOS, False, False),
    ],
)
def test_per_os_family(db, os_id, machine, bus, nic, firmware, secure_boot, tpm) -> None:
    spec = newvm.choose_os(newvm.NewVMSpec(), os_id, db)
    d = newvm.defaults(spec, make_host())
    assert (d.machine.value, d.disk_bus.value, d.nic_model.value) == (machine, bus, nic)
    assert (d.firmware.value, d.secure_boot.value, d.tpm.value) == (firmware, secure_boot, tpm)
    assert not {"machine", "disk_bus", "nic_model", "firmware"} & set(d.clamped_fields)


def test_windows_11_on_this_host(db) -> None:
    spec = newvm.choose_os(newvm.NewVMSpec(), "win11", db)
    d = newvm.defaults(spec, make_host())
    assert d.memory_bytes.value == 8 * GIB and d.min_memory_bytes == 4 * GIB
    # osdb recommends 128 GiB; the target has 100 GiB free.
    assert d.disk_bytes.value == 100 * GIB and d.disk_bytes.clamped
    assert d.max_disk_bytes == 100 * GIB
    assert "ram" not in d.guessed_fields  # field names are the wizard's, not osdb's
    assert d.memory_bytes.guessed  # osdb 2022-11 derives Windows 11's RAM from Windows 10
    assert d.name.value == "win11"


def test_unknown_os_is_all_guesses(db) -> None:
    spec = newvm.choose_os(newvm.NewVMSpec(), None, db)
    d = newvm.defaults(spec, make_host())
    assert {"vcpus", "memory_bytes", "disk_bytes", "machine", "disk_bus", "nic_model"} <= set(
        d.guessed_fields
    )
    assert {"firmware", "secure_boot", "tpm"} <= set(d.guessed_fields)
    assert d.name.value == "vm"
    assert "guesses" in d.message


def test_an_unknown_os_is_named_after_the_image_file(db) -> None:
    spec = newvm.choose_os(newvm.NewVMSpec(iso_path="/isos/Weird Linux 3.0.iso"), None, db)
    d = newvm.defaults(spec, make_host(existing_names=frozenset({"Weird Linux 3.0"})))
    assert d.name.value == "Weird Linux 3.0-2"  # free on the connection
    assert d.name.why == "the image's file name"


def test_an_imported_disk_of_unknown_os_is_named_after_its_file(db) -> None:
    spec = newvm.NewVMSpec(source=newvm.SourceKind.IMPORT, image_path="/vms/old/web server.vmdk")
    newvm.choose_os(spec, None, db)
    assert newvm.defaults(spec, make_host()).name.value == "web server"


def test_a_release_newer_than_the_os_list_is_named_after_its_distribution(db) -> None:
    spec = newvm.choose_os(newvm.NewVMSpec(iso_path="/isos/f.iso"), "fedora-unknown", db)
    d = newvm.defaults(spec, make_host(existing_names=frozenset({"fedora"})))
    assert d.name.value == "fedora-2" and d.name.why == "the OS's distribution"


def test_no_os_chosen_at_all_gives_family_guesses() -> None:
    d = newvm.defaults(newvm.NewVMSpec(), make_host())
    assert d.machine.value == "q35" and d.machine.guessed


def test_small_host_clamps_cpus_and_memory(db) -> None:
    host = make_host(cpus=2, physical_cores=1, memory_bytes=3 * GIB, free_memory_bytes=GIB)
    spec = newvm.choose_os(newvm.NewVMSpec(), "linux2022", db)
    d = newvm.defaults(spec, host)
    assert d.vcpus.value == 1 and d.vcpus.clamped and "physical cores" in d.vcpus.why
    # 1 GiB free, but never below the OS minimum (2 GiB for Generic Linux 2022).
    assert d.memory_bytes.value == 2 * GIB and d.memory_bytes.clamped
    assert d.max_vcpus == 2 and d.max_memory_bytes == 3 * GIB


def test_memory_keeps_a_reserve_for_the_host(db) -> None:
    host = make_host(memory_bytes=6 * GIB, free_memory_bytes=6 * GIB)
    spec = newvm.choose_os(newvm.NewVMSpec(), "win11", db)  # recommends 8 GiB
    d = newvm.defaults(spec, host)
    assert d.memory_bytes.value == 6 * GIB - 1536 * MIB  # a quarter kept for the host


def test_host_without_uefi_or_tpm_gets_bios(db) -> None:
    bare = {
        k: dataclasses.replace(c, firmware=frozenset(), loaders=(), tpm_backends=frozenset())
        for k, c in make_host().domain_caps.items()
    }
    spec = newvm.choose_os(newvm.NewVMSpec(), "win11", db)
    d = newvm.defaults(spec, make_host(domain_caps=bare))
    assert d.firmware.value is Firmware.BIOS and d.firmware.clamped
    assert d.secure_boot.value is False and d.secure_boot.clamped
    assert d.tpm.value is False and d.tpm.clamped
    assert "UEFI" in d.firmware.why


def test_name_avoids_taken_names(db) -> None:
    spec = newvm.choose_os(newvm.NewVMSpec(), "debian11", db)
    assert newvm.defaults(spec, make_host()).name.value == "debian11-2"


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, (NICSource.USER, "")),
        ({"user_networking": False}, (NICSource.NETWORK, "default")),
        (
            {"user_networking": False, "networks": (NetworkInfo("lan"),)},
            (NICSource.NETWORK, "lan"),
        ),
        ({"user_networking": False, "networks": ()}, (NICSource.BRIDGE, "br0")),
        ({"user_networking": False, "networks": (), "bridges": ()}, None),
    ],
)
def test_default_network_card(db, changes, expected) -> None:
    spec = newvm.choose_os(newvm.NewVMSpec(), "debian11", db)
    d = newvm.defaults(spec, make_host(**changes))
    assert (d.nics.value if d.nics else None) == expected
    d.apply(spec)
    assert len(spec.nics or []) == (0 if expected is None else 1)


def test_apply_fills_only_what_is_unset(db) -> None:
    spec = newvm.choose_os(newvm.NewVMSpec(name="mine", vcpus=3), "debian11", db)
    spec.nics = [newvm.NICSpec(NICSource.BRIDGE, "br0")]
    d = newvm.defaults(spec, make_host())
    d.apply(spec)
    assert (spec.name, spec.vcpus) == ("mine", 3)
    assert spec.memory_bytes == GIB and spec.disk_bytes == 20 * GIB
    assert spec.nics[0].source is NICSource.BRIDGE and spec.nics[0].model == "virtio"
    d.apply(spec, overwrite=True)
    assert (spec.name, spec.vcpus) == ("debian11-2", 2)
    assert spec.nics[0].source is NICSource.USER


def test_disk_is_not_clamped_when_free_space_is_unknown(db) -> None:
    target = StorageTarget(StorageKind.POOL, "/x", pool="nido", exists=False, free_bytes=None)
    spec = newvm.choose_os(newvm.NewVMSpec(), "win11", db)
    d = newvm.defaults(spec, make_host(storage=target))
    assert d.disk_bytes.value == 128 * GIB and not d.disk_bytes.clamped
    assert d.max_disk_bytes is None
