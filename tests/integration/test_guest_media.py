"""The test guests boot through libvirt's embedded QEMU driver and behave as promised.

- The Linux guest reaches its ready marker, shows its colour bars, idles quietly and
  powers off on the ACPI power button; an ACPI reboot brings it back up.
- The GRUB rescue ISO boots from a CD-ROM and puts its menu on the screen.

Timings are printed (``pytest -s`` shows them); only generous bounds are asserted.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import libvirt
import pytest

from tests.guest import (
    GRUB_READY_MARKER,
    Boot,
    LinuxGuest,
    accelerator,
    cdrom_domain_xml,
    domain_xml,
    has_el_torito_boot,
    linux_guest,
    rescue_iso,
)
from tests.guest.cache import cached_product
from tests.guest.libvirt_env import (
    Screenshot,
    embedded_connection,
    screenshot,
    wait_for_state,
    wait_for_text,
)
from tests.guest.linux import FB_HEIGHT, FB_WIDTH, PATTERN_FIRST_ROW

pytestmark = pytest.mark.integration

BOOT_TIMEOUT = 90.0  # TCG on a busy 2-core machine; a normal boot takes ~2-3 s
SHUTDOWN_TIMEOUT = 30.0


@pytest.fixture(scope="module")
def accel() -> str:
    return accelerator()


@pytest.fixture(scope="module")
def guest() -> LinuxGuest:
    return linux_guest()


@pytest.fixture(scope="module")
def conn() -> Iterator[libvirt.virConnect]:
    with embedded_connection() as connection:
        yield connection


@pytest.fixture
def serial_log(conn: libvirt.virConnect, request: pytest.FixtureRequest) -> Path:
    root = Path(conn.getURI().partition("root=")[2])
    return root / f"{request.node.name[:40]}.serial.log"


def _start(conn: libvirt.virConnect, xml: str) -> tuple[libvirt.virDomain, float]:
    dom = conn.defineXML(xml)
    start = time.monotonic()
    dom.create()
    return dom, start


def _cleanup(dom: libvirt.virDomain) -> None:
    if dom.isActive():
        dom.destroy()
    dom.undefine()


def _assert_colour_bars(shot: Screenshot) -> None:
    assert (shot.width, shot.height) == (FB_WIDTH, FB_HEIGHT)
    assert shot.distinct_colours() >= 8
    # The sixth of eight colour bars is red, the seventh blue.
    r, g, b = shot.pixel(FB_WIDTH * 11 // 16, PATTERN_FIRST_ROW + 40)
    assert r > 200 and g < 60 and b < 60, (r, g, b)
    r, g, b = shot.pixel(FB_WIDTH * 13 // 16, FB_HEIGHT - 120)
    assert r < 60 and g < 60 and b > 200, (r, g, b)


def test_linux_guest_boots_shows_pattern_and_powers_off_on_acpi_button(
    conn: libvirt.virConnect, guest: LinuxGuest, accel: str, serial_log: Path
) -> None:
    name = "nido-linux <test> & 'co'"
    dom, start = _start(conn, domain_xml(name, guest, accel, serial_log=serial_log))
    try:
        assert dom.name() == name
        wait_for_text(serial_log, guest.ready_marker, BOOT_TIMEOUT)
        boot_seconds = time.monotonic() - start
        print(f"\n{accel}: ready marker {boot_seconds:.2f} s after start")

        _assert_colour_bars(screenshot(conn, dom))

        cpu_before, idle_start = dom.info()[4], time.monotonic()
        time.sleep(5)
        idle_percent = (dom.info()[4] - cpu_before) / 1e9 / (time.monotonic() - idle_start) * 100
        print(f"{accel}: idle QEMU process uses {idle_percent:.1f} % of a core")
        assert idle_percent < 25, "the idle guest keeps QEMU busy"

        pressed = time.monotonic()
        dom.shutdownFlags(libvirt.VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN)
        wait_for_state(dom, libvirt.VIR_DOMAIN_SHUTOFF, SHUTDOWN_TIMEOUT)
        print(f"{accel}: shut off {time.monotonic() - pressed:.2f} s after the power button")
        assert guest.poweroff_marker in serial_log.read_text(errors="replace")
    finally:
        _cleanup(dom)


def test_linux_guest_reboots_through_acpi(
    conn: libvirt.virConnect, guest: LinuxGuest, accel: str, serial_log: Path
) -> None:
    dom, _ = _start(conn, domain_xml("nido-reboot", guest, accel, serial_log=serial_log))
    try:
        wait_for_text(serial_log, guest.ready_marker, BOOT_TIMEOUT)
        # libvirt presses the power button, and resets the machine when the guest powers
        # off instead of letting QEMU quit: the guest boots again in the same process.
        pressed = time.monotonic()
        dom.reboot(libvirt.VIR_DOMAIN_REBOOT_ACPI_POWER_BTN)
        wait_for_text(serial_log, guest.ready_marker, BOOT_TIMEOUT, count=2)
        print(f"\n{accel}: ready again {time.monotonic() - pressed:.2f} s after ACPI reboot")
        assert dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING
        assert guest.poweroff_marker in serial_log.read_text(errors="replace")
    finally:
        _cleanup(dom)


def test_grub_iso_boots_from_cdrom_and_shows_its_menu(
    conn: libvirt.virConnect, accel: str, serial_log: Path
) -> None:
    iso = rescue_iso()
    assert has_el_torito_boot(iso)
    assert iso.stat().st_size < 4 * 1024 * 1024
    dom, start = _start(conn, cdrom_domain_xml("nido-grub", iso, accel, serial_log=serial_log))
    try:
        wait_for_text(serial_log, GRUB_READY_MARKER, BOOT_TIMEOUT)
        print(f"\n{accel}: GRUB ready {time.monotonic() - start:.2f} s after start")
        deadline = time.monotonic() + 20
        while True:  # the menu is drawn just after the marker
            shot = screenshot(conn, dom)
            if shot.distinct_colours() >= 2 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert shot.distinct_colours() >= 2, "the screen is blank"
        assert any(shot.rgb), "the screen is black"
    finally:
        _cleanup(dom)


def test_bzimage_guest_boots_with_a_vesa_framebuffer(
    conn: libvirt.virConnect, accel: str, serial_log: Path
) -> None:
    """The stock bzImage, through its real-mode setup code and vga=0x392."""
    guest = linux_guest(Boot.BZIMAGE)
    assert guest.kernel.name == "vmlinuz"
    dom, start = _start(conn, domain_xml("nido-bzimage", guest, accel, serial_log=serial_log))
    try:
        wait_for_text(serial_log, guest.ready_marker, BOOT_TIMEOUT)
        print(f"\n{accel}: bzImage ready marker {time.monotonic() - start:.2f} s after start")
        _assert_colour_bars(screenshot(conn, dom))
    finally:
        _cleanup(dom)


def test_cache_builds_a_product_once_when_processes_race(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NIDO_TEST_CACHE", str(tmp_path))
    builds: list[int] = []

    def build(directory: Path) -> None:
        builds.append(1)
        time.sleep(0.2)  # long enough for every racer to reach the lock
        (directory / "product").write_text("done")

    with ThreadPoolExecutor(4) as pool:  # flock excludes threads too: one open() each
        paths = list(pool.map(lambda _: cached_product("demo-1", build), range(4)))
    assert len(set(paths)) == 1
    assert builds == [1]
    assert (paths[0] / "product").read_text() == "done"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
