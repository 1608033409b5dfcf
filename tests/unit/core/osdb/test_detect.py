"""Detection of install images built with the labels of real releases, and the defaults the
wizard derives from what was detected."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.osdb import GIB, MIB, Firmware, Match, OSDatabase, Source


def test_debian_11_netinst(db: OSDatabase, isos: dict[str, Path]) -> None:
    det = db.detect(isos["debian11"])
    assert det.match is Match.EXACT
    assert det.os is not None and det.basis == det.os
    assert det.os.id == "http://debian.org/debian/11"
    assert det.os.short_id == "debian11"
    assert det.os.version == "11"
    assert (det.os.family, det.os.distro) == ("linux", "debian")
    assert det.os.vendor == "Debian Project"
    assert det.os.codename == "bullseye"
    assert str(det.os.release_date) == "2021-08-14"
    assert (det.arch, det.live, det.installer) == ("x86_64", False, True)
    assert det.identity.volume_id == "Debian 11.5.0 amd64 n"
    assert det.alternatives == ()
    assert det.message == ""
    assert det.path == str(isos["debian11"])

    d = db.defaults_for(det)
    assert d.match is Match.EXACT and d.message == ""
    assert (d.ram.value, d.ram.source) == (1 * GIB, Source.OSINFO)
    assert (d.min_ram.value, d.min_ram.source) == (1 * GIB, Source.OSINFO)
    assert (d.disk.value, d.min_disk.value) == (20 * GIB, 10 * GIB)
    assert (d.disk_gib, d.min_disk_gib, d.ram_mib) == (20, 10, 1024)
    assert d.min_vcpus.value == 1
    # osinfo-db recommends no vCPU count: Nido's 2 is marked as a guess.
    assert (d.vcpus.value, d.vcpus.source) == (2, Source.DERIVED)
    assert d.guessed_fields == ("vcpus",)
    assert (d.machine.value, d.disk_bus.value, d.nic_model.value) == ("q35", "virtio", "virtio")
    assert d.virtio_disk and d.virtio_net
    assert d.firmware.value is Firmware.BIOS and d.uefi_supported is True
    assert not d.secure_boot.value and not d.tpm.value


def test_ubuntu_server_22_04_live_installer(db: OSDatabase, isos: dict[str, Path]) -> None:
    det = db.detect(isos["ubuntu22.04"])
    assert det.match is Match.EXACT
    assert det.os is not None and det.os.short_id == "ubuntu22.04"
    assert (det.arch, det.live, det.installer) == ("x86_64", True, True)
    d = db.defaults_for(det)
    assert (d.ram.value, d.min_ram.value) == (4 * GIB, 2 * GIB)
    assert (d.disk.value, d.min_disk.value) == (25 * GIB, 10 * GIB)
    assert d.ram.source is Source.OSINFO and d.disk.source is Source.OSINFO
    assert (d.disk_bus.value, d.nic_model.value, d.machine.value) == ("virtio", "virtio", "q35")


def test_fedora_37_server(db: OSDatabase, isos: dict[str, Path]) -> None:
    det = db.detect(isos["fedora37"])
    assert det.match is Match.EXACT
    assert det.os is not None and det.os.id == "http://fedoraproject.org/fedora/37"
    assert det.variant == "Fedora Server 37"
    assert det.label == "Fedora Server 37"
    assert det.identity.system_id == "LINUX"
    d = db.defaults_for(det)
    assert (d.ram.value, d.min_ram.value, d.disk.value) == (2 * GIB, 1 * GIB, 20 * GIB)
    assert d.virtio_disk and d.virtio_net and d.machine.value == "q35"


def test_fedora_39_is_newer_than_the_database(db: OSDatabase, isos: dict[str, Path]) -> None:
    det = db.detect(isos["fedora39"])
    assert det.match is Match.FAMILY
    assert det.os is not None and det.os.short_id == "fedora-unknown"
    assert det.label == "Fedora (a release newer than the OS list)"
    assert "newer than Nido's OS list" in det.message
    assert "osinfo-db 2022" in det.message
    d = db.defaults_for(det)
    assert d.match is Match.FAMILY and d.message == det.message
    assert (d.ram.value, d.disk.value) == (2 * GIB, 20 * GIB)
    assert d.virtio_disk and d.virtio_net


def test_opensuse_leap_15_4_needs_system_and_publisher(
    db: OSDatabase, isos: dict[str, Path]
) -> None:
    det = db.detect(isos["opensuse15.4"])
    assert det.match is Match.EXACT
    assert det.os is not None and det.os.short_id == "opensuse15.4"
    assert det.identity.publisher_id == "SUSE LINUX GmbH"
    d = db.defaults_for(det)
    assert (d.ram.value, d.min_ram.value) == (2 * GIB, 1 * GIB)
    assert (d.disk.value, d.min_disk.value) == (16 * GIB, 3 * GIB)
    assert d.virtio_disk and d.virtio_net


def test_freebsd_13_1_has_no_resources_in_osinfo(db: OSDatabase, isos: dict[str, Path]) -> None:
    det = db.detect(isos["freebsd13.1"])
    assert det.match is Match.EXACT
    assert det.os is not None and det.os.short_id == "freebsd13.1"
    assert det.os.family == "freebsd"
    d = db.defaults_for(det)
    # Neither FreeBSD 13.1 nor any release it derives from lists resources: guesses.
    assert d.guessed
    assert {"ram", "min_ram", "disk", "min_disk", "vcpus"} <= set(d.guessed_fields)
    assert (d.ram.value, d.ram.source) == (2 * GIB, Source.GUESSED)
    assert (d.min_ram.value, d.disk.value) == (512 * MIB, 20 * GIB)
    # Its devices are known: virtio drivers, no Q35 chipset listed.
    assert (d.disk_bus.source, d.nic_model.source) == (Source.OSINFO, Source.OSINFO)
    assert (d.disk_bus.value, d.nic_model.value, d.machine.value) == ("virtio", "virtio", "pc")
    assert d.firmware.value is Firmware.BIOS


def test_arch_linux_by_application_id(db: OSDatabase, isos: dict[str, Path]) -> None:
    det = db.detect(isos["archlinux"])
    assert det.match is Match.EXACT
    assert det.os is not None and det.os.short_id == "archlinux"
    assert det.identity.application_id == "ARCH LINUX LIVE/RESCUE CD"
    assert det.live is True
    assert not det.os.is_eol()  # rolling


def test_windows_11_gets_uefi_secure_boot_and_tpm(db: OSDatabase, isos: dict[str, Path]) -> None:
    det = db.detect(isos["win11"])
    assert det.match is Match.EXACT
    assert det.os is not None and det.os.id == "http://microsoft.com/win/11"
    assert det.os.family == "winnt"
    assert det.arch == "x86_64"
    assert det.languages == ("en_US",)
    # Windows 10 and 11 consumer discs carry the same labels: say so.
    assert [o.short_id for o in det.alternatives] == ["win10"]
    assert "Microsoft Windows 10" in det.message

    d = db.defaults_for(det)
    assert (d.firmware.value, d.firmware.source) == (Firmware.UEFI, Source.OSINFO)
    assert d.bios_supported is False and d.uefi_supported is True
    assert (d.secure_boot.value, d.secure_boot.source) == (True, Source.RULE)
    assert (d.tpm.value, d.tpm.source) == (True, Source.RULE)
    assert (d.min_ram.value, d.min_vcpus.value, d.min_disk.value) == (4 * GIB, 2, 64 * GIB)
    assert d.min_ram.source is Source.OSINFO
    # Only minimums in osinfo-db: RAM and disk are twice the minimum, and marked guesses.
    assert (d.ram.value, d.ram.source) == (8 * GIB, Source.DERIVED)
    assert (d.disk.value, d.vcpus.value) == (128 * GIB, 2)
    assert set(d.guessed_fields) == {"ram", "vcpus", "disk"}
    # No inbox virtio drivers in Windows.
    assert (d.machine.value, d.disk_bus.value, d.nic_model.value) == ("q35", "sata", "e1000e")


def test_windows_10_enterprise(db: OSDatabase, isos: dict[str, Path]) -> None:
    det = db.detect(isos["win10-enterprise"])
    assert det.match is Match.EXACT
    assert det.os is not None and det.os.short_id == "win10"
    assert det.variant == "Microsoft Windows 10 Enterprise"
    assert det.label == "Microsoft Windows 10 Enterprise"
    assert det.alternatives == ()
    d = db.defaults_for(det)
    assert (d.disk_bus.value, d.nic_model.value) == ("sata", "e1000e")
    assert d.firmware.value is Firmware.BIOS
    assert not d.secure_boot.value and not d.tpm.value
    assert (d.min_ram.value, d.ram.value, d.disk.value) == (2 * GIB, 4 * GIB, 40 * GIB)


def test_windows_xp_is_legacy(db: OSDatabase, isos: dict[str, Path]) -> None:
    det = db.detect(isos["winxp"])
    assert det.match is Match.EXACT
    assert det.os is not None and det.os.short_id == "winxp"
    assert det.arch == "i686"
    d = db.defaults_for(det)
    assert d.arch == "i686"
    assert (d.firmware.value, d.firmware.source) == (Firmware.BIOS, Source.RULE)
    assert d.uefi_supported is False
    # XP has no AHCI driver: i440FX with IDE, and the e1000 osinfo-db lists.
    assert (d.machine.value, d.disk_bus.value, d.nic_model.value) == ("pc", "ide", "e1000")
    assert (d.ram.value, d.min_ram.value) == (512 * MIB, 64 * MIB)
    assert (d.vcpus.value, d.min_vcpus.value) == (1, 1)
    assert not d.tpm.value and not d.secure_boot.value


def test_old_debian_gets_bios(db: OSDatabase, isos: dict[str, Path]) -> None:
    det = db.detect(isos["debian6"])
    assert det.os is not None and det.os.short_id == "debian6"
    assert det.os.is_eol()
    d = db.defaults_for(det)
    assert d.firmware.value is Firmware.BIOS and d.uefi_supported is None
    assert (d.machine.value, d.disk_bus.value, d.nic_model.value) == ("pc", "virtio", "virtio")
    assert (d.ram.value, d.min_ram.value, d.disk.value) == (512 * MIB, 128 * MIB, 5 * GIB)


def test_debian_12_stands_in_as_debian_11(db: OSDatabase, isos: dict[str, Path]) -> None:
    det = db.detect(isos["debian12"])
    assert det.match is Match.LIKELY
    assert det.os is None
    assert det.basis is not None and det.basis.short_id == "debian11"
    assert det.label == "Probably Debian (not in the OS list)"
    assert "“Debian 12.5.0 amd64 n”" in det.message
    assert "Debian 11" in det.message
    assert (det.arch, det.live, det.installer) == (None, None, None)
    d = db.defaults_for(det)
    assert d.match is Match.LIKELY and d.message == det.message
    assert d.os is not None and d.os.short_id == "debian11"
    assert d.virtio_disk and d.ram.value == 1 * GIB


def test_ubuntu_24_04_stands_in_as_the_newest_ubuntu(db: OSDatabase, isos: dict[str, Path]) -> None:
    det = db.detect(isos["ubuntu24.04"])
    assert det.match is Match.LIKELY
    # 22.10 is a pre-release in osinfo-db 2022-11: the stand-in is the newest release.
    assert det.basis is not None and det.basis.short_id == "ubuntu22.04"
    assert det.label == "Probably Ubuntu (not in the OS list)"


@pytest.mark.parametrize("name", ["some-linux", "linux-mint"])
def test_unknown_linux_uses_generic_linux(db: OSDatabase, isos: dict[str, Path], name: str) -> None:
    det = db.detect(isos[name])
    assert det.match is Match.LIKELY
    assert det.basis is not None and det.basis.short_id == "linux2022"
    assert det.label == "Probably Linux (not in the OS list)"
    assert "It looks like Linux" in det.message
    d = db.defaults_for(det)
    assert (d.ram.value, d.disk.value) == (4 * GIB, 25 * GIB)
    assert d.virtio_disk and d.virtio_net


def test_unlisted_windows_disc_gets_windows_11_settings(
    db: OSDatabase, isos: dict[str, Path]
) -> None:
    det = db.detect(isos["unlisted-windows"])
    assert det.match is Match.LIKELY
    assert det.basis is not None and det.basis.short_id == "win11"
    assert det.label == "Probably Microsoft Windows (not in the OS list)"
    d = db.defaults_for(det)
    assert d.uefi and d.secure_boot.value and d.tpm.value
    assert (d.disk_bus.value, d.nic_model.value) == ("sata", "e1000e")


def test_unknown_media_gets_guessed_defaults(db: OSDatabase, isos: dict[str, Path]) -> None:
    det = db.detect(isos["unknown"])
    assert det.match is Match.NONE and not det.recognised
    assert det.os is None and det.basis is None
    assert det.label == "Unknown operating system"
    assert "does not know this disc (“FAMILY PHOTOS 2024”)" in det.message
    d = db.defaults_for(det)
    assert d.match is Match.NONE and d.message == det.message
    assert d.os is None
    assert (d.machine.value, d.disk_bus.value, d.nic_model.value) == ("q35", "sata", "e1000e")
    assert d.firmware.value is Firmware.BIOS
    assert (d.ram.value, d.min_ram.value, d.vcpus.value, d.disk.value) == (
        2 * GIB,
        1 * GIB,
        2,
        20 * GIB,
    )
    assert all(v.source is Source.GUESSED for v in d.values().values())
    assert set(d.guessed_fields) == set(d.values())


def test_detect_accepts_relative_paths(
    db: OSDatabase, isos: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(isos["debian11"].parent)
    det = db.detect("debian11.iso")
    assert det.path == str(isos["debian11"])
    assert det.os is not None and det.os.short_id == "debian11"
