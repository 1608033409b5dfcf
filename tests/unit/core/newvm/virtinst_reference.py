"""What virt-install (Debian's virtinst) makes of a Linux guest, for comparison.

    virt-install --osinfo linux2022 --print-xml --name vitest --memory 2048 --vcpus 2
                 --cdrom install.iso --disk size=20 --virt-type qemu

virt-install needs libvirt's storage driver for ``--disk size=``, and an event loop for
the embedded driver (it registers none), so it runs against a private session daemon
(tests/support/private_daemon.py, as `nobody` when root) in a temporary directory. It
prints two documents: the install-phase domain and the one it defines after the install.
The result is cached by the versions of virtinst, libvirt, QEMU and osinfo-db: the daemon
probes QEMU first (about 4 s).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.guest.cache import cached_product, recipe_hash
from tests.support.private_daemon import PrivateDaemon
from tests.unit.core.osdb.conftest import IsoSpec, build_iso

PACKAGES = ("virtinst", "libvirt-daemon", "qemu-system-x86", "osinfo-db")
ARGS = (
    "--osinfo", "linux2022", "--print-xml", "--name", "vitest", "--memory", "2048",
    "--vcpus", "2", "--disk", "size=20", "--virt-type", "qemu",
)  # fmt: skip


def _versions() -> str:
    out = subprocess.run(
        ["dpkg-query", "-W", "-f", "${Package} ${Version}\n", *PACKAGES],
        capture_output=True,
        text=True,
    )
    return out.stdout


def _build(into: Path) -> None:
    daemon = PrivateDaemon()
    try:
        iso = build_iso(daemon.dir / "install.iso", IsoSpec("NIDO_TEST"))
        if os.geteuid() == 0:
            shutil.chown(iso, "nobody", "nogroup")
        daemon.start()
        env = {**os.environ, "HOME": str(daemon.dir), "XDG_DATA_HOME": str(daemon.dir / "data")}
        out = subprocess.run(
            [
                "virt-install",
                "--connect",
                daemon.uri("qemu", "session"),
                "--cdrom",
                str(iso),
                *ARGS,
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        if out.returncode != 0:
            raise RuntimeError(f"virt-install failed: {out.stderr}")
    finally:
        daemon.cleanup()
    first, _, second = out.stdout.partition("</domain>\n")
    (into / "install.xml").write_text(first + "</domain>\n")
    (into / "final.xml").write_text(second)


def virtinst_xml() -> tuple[str, str]:
    """(install-phase XML, post-install XML) from virt-install."""
    if shutil.which("virt-install") is None:
        pytest.fail("virt-install is missing: install Debian's virtinst package")
    key = "virtinst-" + recipe_hash(_versions(), Path(__file__).read_bytes())
    product = cached_product(key, _build)
    return (product / "install.xml").read_text(), (product / "final.xml").read_text()
