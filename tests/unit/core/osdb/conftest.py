"""Small install images for the detection tests, built once per session with xorriso.

Each image carries an El Torito boot record (libosinfo refuses media without one) and the
labels of a real release's ISO as osinfo-db matches them. libisofs upper-cases the system
ID and the publisher, so the builder writes the primary volume descriptor's labels itself,
byte for byte, after xorriso made the image.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

PVD = 16 * 2048
_FIELDS = {
    "system": (8, 32),
    "volume": (40, 32),
    "publisher": (318, 128),
    "application": (574, 128),
}


@dataclass(frozen=True)
class IsoSpec:
    volume: str
    system: str = ""
    publisher: str = ""
    application: str = ""
    bootable: bool = True


# Labels of real install discs, as osinfo-db 2022-11 lists them (/usr/share/osinfo/os).
SPECS: dict[str, IsoSpec] = {
    "debian11": IsoSpec("Debian 11.5.0 amd64 n"),
    "debian12": IsoSpec("Debian 12.5.0 amd64 n"),  # newer than the database
    "debian6": IsoSpec("Debian 6.0.10 amd64 1"),
    "ubuntu22.04": IsoSpec("Ubuntu-Server 22.04.3 LTS amd64"),
    "fedora37": IsoSpec("Fedora-S-dvd-x86_64-37", system="LINUX"),
    "fedora39": IsoSpec("Fedora-S-dvd-x86_64-39", system="LINUX"),  # -> fedora-unknown
    "opensuse15.4": IsoSpec(
        "openSUSE-Leap-15.4-DVD-x86_64", system="LINUX", publisher="SUSE LINUX GmbH"
    ),
    "freebsd13.1": IsoSpec("13_1_RELEASE_AMD64_CD", system="FreeBSD"),
    "archlinux": IsoSpec(
        "ARCH_202411",
        publisher="ARCH LINUX <HTTPS://ARCHLINUX.ORG>",
        application="ARCH LINUX LIVE/RESCUE CD",
    ),
    "win11": IsoSpec("CCCOMA_X64FRE_EN-US_DV9", publisher="MICROSOFT CORPORATION"),
    "win10-enterprise": IsoSpec("CENA_X64FREV_EN-US_DV5", publisher="MICROSOFT CORPORATION"),
    "winxp": IsoSpec("WXPFPP_EN", publisher="MICROSOFT CORPORATION"),
    "ubuntu24.04": IsoSpec("Ubuntu 24.04.1 LTS amd64"),  # newer than the database
    "some-linux": IsoSpec("NIDOLINUX 1.0", system="LINUX"),
    "linux-mint": IsoSpec("Linux Mint 21.3 Cinnamon 64-bit"),  # not in osinfo-db 2022-11
    "unlisted-windows": IsoSpec("NIDO_X64FRE_EN-US", publisher="MICROSOFT CORPORATION"),
    "unknown": IsoSpec("FAMILY PHOTOS 2024"),
    "not-bootable": IsoSpec("Debian 11.5.0 amd64 n", bootable=False),
}


def build_iso(path: Path, spec: IsoSpec) -> Path:
    if shutil.which("xorriso") is None:
        pytest.fail("xorriso is not installed (installers/debian-deps.sh installs it)")
    root = path.with_suffix(".d")
    root.mkdir()
    (root / "boot.img").write_bytes(b"\xeb\xfe" + b"\0" * 2046)  # a 2 KiB 'jmp $'
    (root / "README.TXT").write_text("Nido test image\n")
    boot = ["-b", "boot.img", "-no-emul-boot"] if spec.bootable else []
    subprocess.run(
        ["xorriso", "-as", "mkisofs", "-quiet", "-o", str(path), "-V", "X", *boot, str(root)],
        check=True,
        capture_output=True,
    )
    shutil.rmtree(root)
    with open(path, "r+b") as f:
        for key, (offset, length) in _FIELDS.items():
            text = getattr(spec, key).encode("ascii")
            assert len(text) <= length, (key, text)
            f.seek(PVD + offset)
            f.write(text.ljust(length, b" "))
    return path


@pytest.fixture(scope="session")
def isos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every image of SPECS, by name."""
    d = tmp_path_factory.mktemp("osdb-isos")
    return {name: build_iso(d / f"{name}.iso", spec) for name, spec in SPECS.items()}
