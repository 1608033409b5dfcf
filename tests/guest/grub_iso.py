"""A small BIOS-bootable GRUB disc (about 600 KiB) for tests that boot from a CD-ROM.

``grub-mkrescue`` builds it from the host's ``grub-common`` and ``xorriso``; the i386-pc
GRUB images come from the host's ``grub-pc-bin`` or, if that is not installed, from the
package fetched with ``apt-get download``. The disc boots to a menu that waits forever:

- "Nido test disc" prints :data:`BOOT_MESSAGE`;
- "Power off" runs GRUB's ``halt``, an ACPI power-off, so a keyboard test can select it
  and see the domain shut off;
- "Reboot" resets the machine;
- ``c`` opens the GRUB command line, for typing tests.

When the domain has a serial port GRUB also talks to it, and prints
:data:`READY_MARKER` there just before the menu comes up. Note: GRUB polls the keyboard in
a busy loop, so this guest keeps one host core busy until it is destroyed, and it ignores
the ACPI power button (libvirt ``shutdown`` does nothing).
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from tests.guest import cache, debian

READY_MARKER = "NIDO-GRUB-READY"
BOOT_MESSAGE = "NIDO-GRUB-ENTRY-BOOTED"
VOLUME_ID = "NIDO_TEST_GRUB"
SECTOR = 2048

_HERE = Path(__file__).parent
_GRUB_PC_DIR = Path("/usr/lib/grub/i386-pc")
#: Modules installed on the disc besides what its core image needs to find itself.
_MODULES = "normal configfile echo halt reboot test serial terminal sleep ls cat help"

GRUB_CFG = f"""\
if serial --unit=0 --speed=115200; then
    terminal_input --append serial
    terminal_output --append serial
fi
set timeout=-1
set default=0
echo "{READY_MARKER}"

menuentry "Nido test disc" {{
    echo "{BOOT_MESSAGE}"
    sleep 5
}}
menuentry "Power off" {{
    halt
}}
menuentry "Reboot" {{
    reboot
}}
"""


def _tool_versions() -> str:
    out = subprocess.run(
        ["dpkg-query", "-W", "-f", "${Package}=${Version}\n", "grub-common", "xorriso"],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(
            "the rescue ISO needs grub-common and xorriso: apt-get install grub-common xorriso"
        )
    return out.stdout


def _grub_pc_dir(work: Path) -> Path:
    """The host's i386-pc GRUB images, or the ones in Debian's grub-pc-bin package."""
    if (_GRUB_PC_DIR / "eltorito.img").exists():
        return _GRUB_PC_DIR
    pkg = debian.Package("grub-pc-bin", debian.candidate_version("grub-pc-bin"))
    deb = debian.download([pkg], work / "debs")[pkg.name]
    prefix = "usr/lib/grub/i386-pc/"
    debian.extract(
        deb,
        lambda name: (
            work / "i386-pc" / name.removeprefix(prefix) if name.startswith(prefix) else None
        ),
    )
    return work / "i386-pc"


def _build(product: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="nido-iso-") as tmp_name:
        tmp = Path(tmp_name)
        root = tmp / "root"
        (root / "boot" / "grub").mkdir(parents=True)
        (root / "boot" / "grub" / "grub.cfg").write_text(GRUB_CFG)
        iso = product / "nido-grub-rescue.iso"
        proc = subprocess.run(
            [
                "grub-mkrescue",
                "--directory",
                str(_grub_pc_dir(tmp)),
                "--fonts=",
                "--locales=",
                "--themes=",
                "--compress=xz",
                f"--install-modules={_MODULES}",
                "--output",
                str(iso),
                str(root),
                "--",
                "-volid",
                VOLUME_ID,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0 or not iso.exists():
            raise RuntimeError(f"grub-mkrescue failed ({proc.returncode}): {proc.stderr.strip()}")
    if not has_el_torito_boot(iso):
        raise RuntimeError(f"{iso} has no bootable El Torito entry")


def has_el_torito_boot(iso: Path) -> bool:
    """True if ``iso`` has an El Torito boot record whose catalog has a bootable entry.

    That is what BIOS needs to boot a disc, and what libosinfo checks before it accepts a
    file as install media.
    """
    with iso.open("rb") as f:
        f.seek(17 * SECTOR)
        record = f.read(SECTOR)
        if record[0:7] != b"\x00CD001\x01" or not record[7:39].startswith(
            b"EL TORITO SPECIFICATION"
        ):
            return False
        catalog_lba = int.from_bytes(record[0x47:0x4B], "little")
        f.seek(catalog_lba * SECTOR)
        catalog = f.read(64)
    validation, initial = catalog[:32], catalog[32:64]
    checksum = sum(int.from_bytes(validation[i : i + 2], "little") for i in range(0, 32, 2))
    return (
        validation[0] == 1
        and validation[30:32] == b"\x55\xaa"
        and checksum & 0xFFFF == 0
        and initial[0] == 0x88
    )


def rescue_iso() -> Path:
    """Return the cached GRUB rescue ISO, building it first if needed (well under 1 s)."""
    recipe = cache.recipe_hash(_tool_versions(), Path(__file__))
    product = cache.cached_product(f"grub-rescue-{recipe}", _build)
    return product / "nido-grub-rescue.iso"
