"""The pure label helpers: reading a primary volume descriptor and naming a distribution
from the labels of a disc osinfo-db does not know."""

from __future__ import annotations

from pathlib import Path

from app.core.osdb import MediaIdentity
from app.core.osdb.media import PVD_OFFSET, check_image, distro_hint, family_hint

DISTROS = {"debian", "ubuntu", "fedora", "opensuse", "freebsd", "win", "alt", "archlinux"}


def test_check_image_reads_the_labels_byte_for_byte(isos: dict[str, Path]) -> None:
    path, identity = check_image(isos["opensuse15.4"])
    assert path == str(isos["opensuse15.4"])
    assert identity == MediaIdentity(
        volume_id="openSUSE-Leap-15.4-DVD-x86_64",
        system_id="LINUX",
        publisher_id="SUSE LINUX GmbH",
        application_id="",
    )
    assert isos["opensuse15.4"].read_bytes()[PVD_OFFSET + 1 : PVD_OFFSET + 6] == b"CD001"


def test_distro_hint_reads_every_label() -> None:
    assert distro_hint(MediaIdentity("Debian 12.5.0 amd64 n"), DISTROS) == "debian"
    assert distro_hint(MediaIdentity("openSUSE-Leap-16.0-DVD-x86_64"), DISTROS) == "opensuse"
    assert distro_hint(MediaIdentity("14_1_RELEASE_AMD64_CD", "FreeBSD"), DISTROS) == "freebsd"
    ms = MediaIdentity("X23_X64FRE_EN-US", publisher_id="MICROSOFT CORPORATION")
    assert distro_hint(ms, DISTROS) == "win"
    assert distro_hint(MediaIdentity("archlinux-2024.11.01-x86_64"), DISTROS) == "archlinux"
    assert distro_hint(MediaIdentity("ARCH_202411"), DISTROS) == "archlinux"


def test_distro_hint_ignores_short_and_unknown_words() -> None:
    # 'alt' is a distro id in osinfo-db, but far too common a word to trust.
    assert distro_hint(MediaIdentity("ALT DISC 1"), DISTROS) is None
    assert distro_hint(MediaIdentity("FAMILY PHOTOS 2024"), DISTROS) is None
    assert distro_hint(MediaIdentity(), DISTROS) is None


def test_family_hint() -> None:
    assert family_hint(MediaIdentity("X", system_id="LINUX")) == "linux"
    assert family_hint(MediaIdentity("Linux Mint 21.3 Cinnamon 64-bit")) == "linux"
    assert family_hint(MediaIdentity("X", system_id="FreeBSD")) == "freebsd"
    assert family_hint(MediaIdentity("LINUXMINT")) is None
    assert family_hint(MediaIdentity("X", system_id="Win32")) is None
