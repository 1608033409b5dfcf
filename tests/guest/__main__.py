"""Build (or find cached) every test guest and print where they are and how long it took.

Run from the project root: ``python -m tests.guest``. ``--boot-test`` also boots the Linux
guest once under TCG with QEMU alone and prints the time to its ready marker.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import TypeVar

from tests.guest import Boot, accelerator, cache_root, linux_guest, rescue_iso
from tests.guest.direct_boot import time_to_marker

T = TypeVar("T")


def _timed(label: str, build: Callable[[], T]) -> T:
    start = time.monotonic()
    result = build()
    print(f"{label:<22} {time.monotonic() - start:7.3f} s")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.guest", description=__doc__)
    parser.add_argument("--boot-test", action="store_true", help="boot the guest once (TCG)")
    args = parser.parse_args()

    print(f"cache: {cache_root()}")
    guest = _timed("linux guest", linux_guest)
    _timed("linux guest (cached)", linux_guest)
    iso = _timed("rescue iso", rescue_iso)
    _timed("rescue iso (cached)", rescue_iso)
    accel = _timed("accelerator", accelerator)
    print()
    print(f"kernel   {guest.kernel}")
    print(f"bzImage  {linux_guest(Boot.BZIMAGE).kernel}")
    print(f"initrd   {guest.initrd}")
    print(f"cmdline  {guest.cmdline}")
    print(f"iso      {iso} ({iso.stat().st_size // 1024} KiB)")
    print(f"accel    {accel}")
    if args.boot_test:
        for boot in Boot:
            seconds = time_to_marker(linux_guest(boot), "qemu", 120)
            result = f"after {seconds:.2f} s" if seconds is not None else "not within 120 s"
            print(f"boot {boot:<8} under TCG: ready marker {result}")


if __name__ == "__main__":
    main()
