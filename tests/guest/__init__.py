"""Test guests that the test suite builds from Debian packages and caches.

- :func:`linux_guest`: Debian's stock kernel with a busybox initramfs, booted directly. It
  reaches its ready marker in about 2 s under TCG, powers off on the ACPI power button,
  shows colour bars on a 1920x1080 framebuffer, and idles at well under 1 % of a core.
- :func:`rescue_iso`: a 600 KiB BIOS GRUB disc that waits in its menu.
- :func:`accelerator`: "kvm" or "qemu" (TCG) for test domains, by a cached boot probe.
- :func:`domain_xml` and :func:`cdrom_domain_xml`: literal domain XML for either guest.
- :mod:`tests.guest.libvirt_env`: an embedded ``qemu:///embed`` connection on the session's
  root with its event loop, and waits for serial text, domain states and screenshots.

Products are cached under ``$NIDO_TEST_CACHE`` (else ``$XDG_CACHE_HOME/nido-tests`` or
``~/.cache/nido-tests``); ``python -m tests.guest`` builds everything and prints timings.
"""

from tests.guest.accel import accelerator
from tests.guest.cache import cache_root
from tests.guest.domain import cdrom_domain_xml, domain_xml
from tests.guest.grub_iso import READY_MARKER as GRUB_READY_MARKER
from tests.guest.grub_iso import has_el_torito_boot, rescue_iso
from tests.guest.linux import POWEROFF_MARKER, READY_MARKER, Boot, LinuxGuest, linux_guest

__all__ = [
    "GRUB_READY_MARKER",
    "POWEROFF_MARKER",
    "READY_MARKER",
    "Boot",
    "LinuxGuest",
    "accelerator",
    "cache_root",
    "cdrom_domain_xml",
    "domain_xml",
    "has_el_torito_boot",
    "linux_guest",
    "rescue_iso",
]
