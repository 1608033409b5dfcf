"""Boot the test guest with ``qemu-system-x86_64`` alone, without libvirt.

Used by the accelerator probe and handy for debugging the guest itself: the serial port is
QEMU's stdout, and the time to the ready marker is measured from the moment QEMU starts.
"""

from __future__ import annotations

import os
import selectors
import shutil
import subprocess
import time
from pathlib import Path

from tests.guest.domain import GUEST_MEMORY_MIB
from tests.guest.linux import LinuxGuest

QEMU = "qemu-system-x86_64"


def qemu_command(
    guest: LinuxGuest,
    accel: str,
    *,
    memory_mib: int = GUEST_MEMORY_MIB,
    extra: list[str] | None = None,
) -> list[str]:
    """A QEMU command line booting ``guest`` with ``accel`` ("kvm" or "qemu"/"tcg")."""
    binary = shutil.which(QEMU) or f"/usr/bin/{QEMU}"
    accel_args = ["-accel", "kvm"] if accel == "kvm" else ["-accel", "tcg"]
    return [
        binary,
        *accel_args,
        "-machine",
        "pc",
        "-m",
        str(memory_mib),
        "-nodefaults",
        "-no-user-config",
        "-no-reboot",
        "-vga",
        "std",
        "-display",
        "none",
        "-monitor",
        "none",
        "-serial",
        "stdio",
        "-kernel",
        str(guest.kernel),
        "-initrd",
        str(guest.initrd),
        "-append",
        guest.cmdline,
        *(extra or []),
    ]


def time_to_marker(
    guest: LinuxGuest, accel: str, timeout: float, *, log: Path | None = None
) -> float | None:
    """Boot ``guest`` and return the seconds until its ready marker, or None on time-out.

    QEMU is killed either way. The serial output is written to ``log`` if given.
    """
    marker = guest.ready_marker.encode()
    start = time.monotonic()
    proc = subprocess.Popen(
        qemu_command(guest, accel),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert proc.stdout is not None
    output = bytearray()
    elapsed: float | None = None
    try:
        with selectors.DefaultSelector() as selector:
            selector.register(proc.stdout, selectors.EVENT_READ)
            while (left := start + timeout - time.monotonic()) > 0:
                if not selector.select(left):
                    continue
                chunk = os.read(proc.stdout.fileno(), 65536)
                if not chunk:  # QEMU exited
                    break
                output += chunk
                if marker in output:
                    elapsed = time.monotonic() - start
                    break
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()
        if log is not None:
            log.write_bytes(bytes(output))
    return elapsed
