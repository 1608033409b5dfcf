"""A minimal Linux test guest: Debian's stock kernel plus a busybox initramfs.

The guest boots directly (``<os><kernel>/<initrd>/<cmdline>``), so no BIOS disk read
happens, and it reaches its ready marker in seconds under TCG. Its ``/init``
(``guest_init.sh``):

- mounts proc, sysfs and devtmpfs and loads the ACPI button and evdev modules (and the
  drivers for the optional devices below, when the machine has them), then deletes the
  modules' files, which a small guest wants back as memory,
- draws colour bars into the lower third of a 1920x1080 framebuffer and a banner above
  them, so a screenshot or thumbnail is recognisable at a glance,
- prints :data:`READY_MARKER` on both the VGA console and the serial port ttyS0,
- powers off at once when the ACPI power button is pressed, printing
  :data:`POWEROFF_MARKER` first: that is libvirt's ``shutdown`` with the ACPI flag, and
  also the first half of its ACPI ``reboot`` (libvirt then resets the machine, and the
  guest boots again),
- keeps an interactive shell on the VGA console (tty1) for keyboard-input tests,
- when the machine has a virtio tablet (``domain_xml(tablet=True)``), loads its driver
  and writes every event of it to the serial port as a line
  ``POINTER_PREFIX type code value`` (see :func:`~tests.guest.reports.pointer_events`),
  for pointer tests,
- when the machine has a virtio-serial controller (``domain_xml(spice_agent=True)`` adds
  one, with the SPICE agent's port), loads its driver and starts a minimal SPICE agent
  (``spice_agent.c``, built static here with gcc) on that port, which reports on the
  serial port what the client sent it (see :func:`~tests.guest.reports.agent_lines`),
- when the machine has a virtio GPU (``domain_xml(video="virtio")``), loads its driver and
  shows :data:`CURSOR_SHAPE` on its cursor plane (``drm_client.c``, built static here),
  which QEMU passes on as the display's pointer shape, for cursor tests; the same program
  then sets the monitor's preferred mode whenever it changes, as a desktop session would
  (the console asking for a resolution; see :func:`~tests.guest.reports.mode_lines`),
- when the machine has an HD Audio controller (``domain_xml(sound=True)``), loads its
  driver and plays noise on it without pause (through the OSS emulation's /dev/dsp),
  saying :data:`SOUND_MARKER` on the serial port once it plays, for sound tests,
- when the machine has a qemu-xhci USB controller (``domain_xml(usb_redirect=True)``),
  loads the USB, USB storage and CD-ROM drivers and reports every USB device and SCSI
  disc that comes or goes on the serial port (see :func:`~tests.guest.reports.usb_events`), for USB
  redirection tests,
- otherwise sleeps: nothing polls, so an idle guest costs QEMU next to nothing.

The same kernel package gives two ways to boot, see :class:`Boot`. Both come from Debian's
mirror through ``apt-get download``, whatever the host has installed, and one cached
product, keyed by package versions plus a hash of this recipe, holds both.
"""

from __future__ import annotations

import enum
import functools
import gzip
import json
import lzma
import re
import subprocess
import tempfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from tests.guest import cache, cpio, debian
from tests.guest.reports import AGENT_PREFIX, POINTER_PREFIX, USB_PREFIX

READY_MARKER = "NIDO-GUEST-READY"
POWEROFF_MARKER = "NIDO-GUEST-POWEROFF"

_HERE = Path(__file__).parent
_INIT_TEMPLATE = _HERE / "guest_init.sh"
_AGENT_SOURCE = _HERE / "spice_agent.c"
_DRM_SOURCE = _HERE / "drm_client.c"
#: What the guest says on the serial port once its sound card plays.
SOUND_MARKER = "nido-sound playing"
#: What the guest's nido-drm says on the serial port once its pointer shape is shown.
CURSOR_MARKER = "nido-cursor shown"
#: The colour nido-drm fills a framebuffer with after setting a new mode, as (R, G, B).
MODE_COLOUR = (0x20, 0x60, 0xA0)


@dataclass(frozen=True)
class CursorShape:
    """The pointer shape ``drm_client.c`` shows: a square of four quadrants."""

    side: int
    hotspot: tuple[int, int]
    #: Each quadrant's centre, and its colour there as (R, G, B, A), A 0 for transparent.
    quadrants: tuple[tuple[tuple[int, int], tuple[int, int, int, int]], ...]


CURSOR_SHAPE = CursorShape(
    side=64,
    hotspot=(5, 7),
    quadrants=(
        ((16, 16), (255, 0, 0, 255)),
        ((48, 16), (0, 255, 0, 255)),
        ((16, 48), (0, 0, 255, 255)),
        ((48, 48), (0, 0, 0, 0)),
    ),
)

#: The framebuffer geometry both boot paths give, and where the colour bars go.
FB_WIDTH, FB_HEIGHT, FB_BPP = 1920, 1080, 32
PATTERN_FIRST_ROW = 720
_PATTERN_BLOCK_ROWS = 8

#: Shared kernel arguments. ``console=ttyS0`` is last, so it becomes /dev/console and
#: kernel messages and init's own output reach the serial log; init writes its banner to
#: tty0 itself. ``consoleblank=0`` keeps the screen from going black after ten minutes, and
#: ``8250.nr_uarts=1`` skips probing serial ports that are not there.
_COMMON_CMDLINE = (
    "console=tty0 console=ttyS0,115200 quiet loglevel=3 consoleblank=0 8250.nr_uarts=1"
)


class Boot(enum.StrEnum):
    """How QEMU enters the kernel."""

    #: The uncompressed ELF ``vmlinux``, entered in 32-bit mode through its PVH note. It
    #: skips the bzImage's real-mode setup code and its in-guest xz decompression, which
    #: TCG runs slowly: the ready marker comes about twice as fast. With no real-mode setup
    #: there is no VESA mode, so the initramfs loads the ``bochs`` DRM driver and
    #: ``video=`` picks the framebuffer size. The default.
    PVH = "pvh"
    #: Debian's compressed ``vmlinuz`` as it is, through the real-mode setup code, with
    #: ``vga=0x392`` asking the VGA BIOS for a 1920x1080x32 VESA framebuffer (vesafb). The
    #: way a boot loader would start it. The guest needs a VGA device, or the setup code
    #: waits 30 s at a video mode prompt.
    BZIMAGE = "bzimage"


_CMDLINES = {
    Boot.PVH: f"{_COMMON_CMDLINE} video={FB_WIDTH}x{FB_HEIGHT}",
    Boot.BZIMAGE: f"{_COMMON_CMDLINE} vga=0x392",
}

#: Kernel options the guest needs, mapped to the module that provides each when it is
#: built as a module (``=m``); None where it must be built in.
_BASE_CONFIG: dict[str, str | None] = {
    "CONFIG_DEVTMPFS": None,
    "CONFIG_BLK_DEV_INITRD": None,
    "CONFIG_RD_GZIP": None,
    "CONFIG_SERIAL_8250_CONSOLE": None,
    "CONFIG_FRAMEBUFFER_CONSOLE": None,
    "CONFIG_ACPI": None,
    "CONFIG_PVH": None,
    "CONFIG_FB_VESA": None,
    "CONFIG_DRM_FBDEV_EMULATION": None,
    "CONFIG_ACPI_BUTTON": "button",
    "CONFIG_INPUT_EVDEV": "evdev",
}
#: The display driver for PVH boots, loaded by init only when no framebuffer exists.
_DISPLAY_CONFIG: dict[str, str | None] = {"CONFIG_DRM_BOCHS": "bochs"}
#: The virtio tablet's driver (fewer modules than a USB tablet: no host controller, no
#: HID stack), loaded by init only when the machine has one (PCI 1af4:1052).
_TABLET_CONFIG: dict[str, str | None] = {
    "CONFIG_VIRTIO_PCI": "virtio_pci",
    "CONFIG_VIRTIO_INPUT": "virtio_input",
}
#: The virtio-serial driver, for the SPICE agent's port; loaded by init only when the
#: machine has a virtio console device (PCI 1af4:1003, or 1af4:1043 when modern only).
_AGENT_CONFIG: dict[str, str | None] = {
    "CONFIG_VIRTIO_PCI": "virtio_pci",
    "CONFIG_VIRTIO_CONSOLE": "virtio_console",
}
#: The virtio GPU's driver, for the pointer shape tests; loaded by init only when the
#: machine has one (PCI 1af4:1050, ``domain_xml(video="virtio")``).
_GPU_CONFIG: dict[str, str | None] = {
    "CONFIG_VIRTIO_PCI": "virtio_pci",
    "CONFIG_DRM_VIRTIO_GPU": "virtio_gpu",
}
#: The Intel HD Audio driver with the generic codec (QEMU's codecs need no other) and the
#: OSS emulation (/dev/dsp: plain writes play, no ALSA library needed); loaded by init only
#: when the machine has an ICH6 or ICH9 HD Audio controller (``domain_xml(sound=True)``).
#: The codec goes first: the controller's probe binds it, and nothing here loads modules
#: on demand.
_AUDIO_CONFIG: dict[str, str | None] = {
    "CONFIG_SND_HDA_GENERIC": "snd_hda_codec_generic",
    "CONFIG_SND_HDA_INTEL": "snd_hda_intel",
    "CONFIG_SND_PCM_OSS": "snd_pcm_oss",
}
#: The USB host controller's drivers, with USB storage and the SCSI CD-ROM driver (a
#: redirected stick or SPICE's emulated CD shows up as a disc); loaded by init only when
#: the machine has a qemu-xhci controller (PCI 1b36:000d).
_USB_CONFIG: dict[str, str | None] = {
    "CONFIG_USB_PCI": None,
    "CONFIG_USB": "usbcore",
    "CONFIG_USB_XHCI_HCD": "xhci_hcd",
    "CONFIG_USB_XHCI_PCI": "xhci_pci",
    "CONFIG_USB_STORAGE": "usb_storage",
    "CONFIG_SCSI": "scsi_mod",
    "CONFIG_BLK_DEV_SR": "sr_mod",
}
#: Modules fetched in the first pass over the package, which saves passes for known
#: dependencies. Anything else a module depends on is found by name in a further pass.
_PREFETCH = {
    "drm",
    "drm_kms_helper",
    "ttm",
    "drm_ttm_helper",
    "drm_vram_helper",
    "virtio",
    "virtio_ring",
    "virtio_pci_modern_dev",
    "virtio_pci_legacy_dev",
    "usb_common",
    "xhci_pci_renesas",
    "scsi_common",
    "cdrom",
}


@dataclass(frozen=True)
class LinuxGuest:
    """A built guest: the files for ``<kernel>``/``<initrd>`` and the ``<cmdline>``."""

    kernel: Path
    initrd: Path
    cmdline: str
    ready_marker: str
    poweroff_marker: str
    kernel_version: str
    boot: Boot


def init_script() -> str:
    """The guest's /init with its placeholders filled in."""
    stride = FB_WIDTH * FB_BPP // 8
    values = {
        "WIDTH": FB_WIDTH,
        "HEIGHT": FB_HEIGHT,
        "BPP": FB_BPP,
        "STRIDE": stride,
        "BLOCK": stride * _PATTERN_BLOCK_ROWS,
        "SEEK_BLOCKS": PATTERN_FIRST_ROW // _PATTERN_BLOCK_ROWS,
        "READY_MARKER": READY_MARKER,
        "POWEROFF_MARKER": POWEROFF_MARKER,
        "POINTER_PREFIX": POINTER_PREFIX,
        "AGENT_PREFIX": AGENT_PREFIX,
        "USB_PREFIX": USB_PREFIX,
        "SOUND_MARKER": SOUND_MARKER,
    }
    return re.sub(r"@([A-Z_]+)@", lambda m: str(values[m.group(1)]), _INIT_TEMPLATE.read_text())


#: The guest's colour bars (R, G, B), left to right, in the rows below PATTERN_FIRST_ROW.
BARS = [
    (235, 235, 235),
    (235, 235, 16),
    (16, 235, 235),
    (16, 235, 16),
    (235, 16, 235),
    (235, 16, 16),
    (16, 16, 235),
    (16, 16, 16),
]


def colour_bars() -> bytes:
    """Raw XRGB8888 rows for the bottom of the framebuffer: colour bars over a grey ramp."""
    width, rows = FB_WIDTH, FB_HEIGHT - PATTERN_FIRST_ROW
    bar_row = b"".join(
        bytes((b, g, r, 0)) for r, g, b in (BARS[x * 8 // width] for x in range(width))
    )
    ramp_row = b"".join(bytes((v, v, v, 0)) for v in (x * 255 // (width - 1) for x in range(width)))
    bar_rows = rows * 3 // 4
    return bar_row * bar_rows + ramp_row * (rows - bar_rows)


def _kernel_config(text: str) -> dict[str, str]:
    config: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.startswith("CONFIG_"):
            config[key] = value
    return config


def _modules_for(config: dict[str, str], needs: dict[str, str | None]) -> list[str]:
    modules: list[str] = []
    for option, module in needs.items():
        value = config.get(option)
        if value == "m" and module is not None:
            modules.append(module)
        elif value != "y":
            raise RuntimeError(f"the guest kernel has {option}={value}; the test guest needs it")
    return modules


def _module_depends(ko: Path) -> list[str]:
    """The ``depends=`` list of a module's .modinfo section, as file stems."""
    match = re.search(rb"(?:^|\0)depends=([^\0]*)\0", ko.read_bytes())
    if not match or not match.group(1):
        return []
    return [name.replace("-", "_") for name in match.group(1).decode().split(",")]


def _unxz(data: bytes) -> bytes:
    return lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(data)


def _gunzip(data: bytes) -> bytes:
    return zlib.decompressobj(wbits=31).decompress(data)


def _vmlinux_from_bzimage(bzimage: bytes) -> bytes:
    """Decompress the ELF kernel inside a bzImage (xz or gzip payloads); trailing data,
    such as the decompressor's own tail, is ignored."""
    for magic, decompress in ((b"\xfd7zXZ\x00", _unxz), (b"\x1f\x8b\x08", _gunzip)):
        at = bzimage.find(magic)
        while at >= 0:
            try:
                elf = decompress(bzimage[at:])
            except (lzma.LZMAError, zlib.error):
                elf = b""
            if elf.startswith(b"\x7fELF"):
                return elf
            at = bzimage.find(magic, at + 1)
    raise RuntimeError("found no xz or gzip kernel payload in the bzImage")


class _KernelPackage:
    """Members of the kernel .deb: the kernel, its config and modules by name."""

    def __init__(self, deb: Path, kver: str, out: Path) -> None:
        self.deb, self.moddir, self.out = deb, f"lib/modules/{kver}/", out
        self.vmlinuz, self.config = out / "vmlinuz", out / "config"
        self._names = {"vmlinuz": f"boot/vmlinuz-{kver}", "config": f"boot/config-{kver}"}

    def module(self, name: str) -> Path:
        return self.out / "modules" / f"{name}.ko"

    def fetch(
        self, modules: Iterable[str] = (), *, boot_files: bool = False, hints: bool = False
    ) -> None:
        """Extract modules by name (and the boot files) in one pass over the package.

        With ``hints``, modules the package lacks (built in, say) are no error.
        """
        missing = {m for m in modules if not self.module(m).exists()}
        paths = {self._names["vmlinuz"]: self.vmlinuz, self._names["config"]: self.config}

        def want(member: str) -> Path | None:
            if boot_files and member in paths:
                return paths[member]
            if member.startswith(self.moddir) and member.endswith(".ko"):
                stem = Path(member).stem.replace("-", "_")
                if stem in missing and not self.module(stem).exists():
                    return self.module(stem)
            return None

        expect = len(missing) + (2 if boot_files else 0)
        if expect:
            debian.extract(self.deb, want, expect=expect)
        absent = [] if hints else sorted(m for m in missing if not self.module(m).exists())
        if absent or (boot_files and not (self.vmlinuz.exists() and self.config.exists())):
            raise RuntimeError(f"{self.deb.name} lacks {absent or 'its kernel or config'}")

    def load_order(self, modules: list[str]) -> list[Path]:
        """The modules with their dependencies, fetched as needed, dependencies first."""
        while True:
            closure: set[str] = set()
            todo = list(modules)
            while todo:
                name = todo.pop()
                if name in closure:
                    continue
                closure.add(name)
                if self.module(name).exists():
                    todo.extend(_module_depends(self.module(name)))
            missing = {m for m in closure if not self.module(m).exists()}
            if not missing:
                break
            self.fetch(missing)

        order: list[str] = []

        def visit(name: str) -> None:
            if name not in order:
                for dep in _module_depends(self.module(name)):
                    visit(dep)
                order.append(name)

        for name in modules:
            visit(name)
        return [self.module(m) for m in order]


def _build(product: Path, kernel_pkg: debian.Package, busybox_pkg: debian.Package) -> None:
    kver = kernel_pkg.name.removeprefix("linux-image-")
    with tempfile.TemporaryDirectory(prefix="nido-guest-") as tmp_name:
        tmp = Path(tmp_name)
        debs = debian.download([kernel_pkg, busybox_pkg], tmp / "debs")
        pkg = _KernelPackage(debs[kernel_pkg.name], kver, tmp / "kernel")
        needs = {
            **_BASE_CONFIG,
            **_DISPLAY_CONFIG,
            **_TABLET_CONFIG,
            **_AGENT_CONFIG,
            **_GPU_CONFIG,
            **_AUDIO_CONFIG,
            **_USB_CONFIG,
        }
        wanted = [m for m in needs.values() if m]
        pkg.fetch([*wanted, *_PREFETCH], boot_files=True, hints=True)
        config = _kernel_config(pkg.config.read_text())
        base = pkg.load_order(_modules_for(config, _BASE_CONFIG))
        display = [
            ko for ko in pkg.load_order(_modules_for(config, _DISPLAY_CONFIG)) if ko not in base
        ]
        tablet = [
            ko for ko in pkg.load_order(_modules_for(config, _TABLET_CONFIG)) if ko not in base
        ]
        agent = [ko for ko in pkg.load_order(_modules_for(config, _AGENT_CONFIG)) if ko not in base]
        usb = [ko for ko in pkg.load_order(_modules_for(config, _USB_CONFIG)) if ko not in base]
        gpu = [ko for ko in pkg.load_order(_modules_for(config, _GPU_CONFIG)) if ko not in base]
        audio = [ko for ko in pkg.load_order(_modules_for(config, _AUDIO_CONFIG)) if ko not in base]

        busybox = tmp / "busybox"
        deb = debs[busybox_pkg.name]
        if debian.extract(deb, lambda n: busybox if n == "bin/busybox" else None) != 1:
            raise RuntimeError(f"{deb.name} has no bin/busybox")

        archive = cpio.Archive()
        for d in ("bin", "dev", "proc", "sys", "tmp", "share", "lib", "lib/modules"):
            archive.directory(d)
        archive.char_device("dev/console", 5, 1)
        archive.char_device("dev/null", 1, 3, 0o666)
        archive.file("bin/busybox", busybox.read_bytes(), 0o755)
        archive.file("bin/nido-agent", _compile(_AGENT_SOURCE, tmp), 0o755)
        archive.file("bin/nido-drm", _compile(_DRM_SOURCE, tmp), 0o755)
        archive.symlink("bin/sh", "busybox")
        archive.file("init", init_script().encode(), 0o755)
        archive.file("share/pattern.gz", gzip.compress(colour_bars(), 9, mtime=0))
        for ko in dict.fromkeys([*base, *display, *tablet, *agent, *gpu, *audio, *usb]):
            archive.file(f"lib/modules/{ko.name}", ko.read_bytes())
        archive.file("lib/modules/load-order", "".join(f"{ko.name}\n" for ko in base).encode())
        archive.file(
            "lib/modules/load-order-display", "".join(f"{ko.name}\n" for ko in display).encode()
        )
        archive.file(
            "lib/modules/load-order-tablet", "".join(f"{ko.name}\n" for ko in tablet).encode()
        )
        archive.file(
            "lib/modules/load-order-agent", "".join(f"{ko.name}\n" for ko in agent).encode()
        )
        archive.file("lib/modules/load-order-usb", "".join(f"{ko.name}\n" for ko in usb).encode())
        archive.file("lib/modules/load-order-gpu", "".join(f"{ko.name}\n" for ko in gpu).encode())
        archive.file(
            "lib/modules/load-order-audio", "".join(f"{ko.name}\n" for ko in audio).encode()
        )
        archive.write_gzip(product / "initrd.gz")

        (product / "vmlinux").write_bytes(_vmlinux_from_bzimage(pkg.vmlinuz.read_bytes()))
        pkg.vmlinuz.replace(product / "vmlinuz")
        pkg.config.replace(product / "config")
        (product / "manifest.json").write_text(
            json.dumps(
                {
                    "kernel_package": kernel_pkg.spec,
                    "busybox_package": busybox_pkg.spec,
                    "kernel_version": kver,
                    "modules": [ko.name for ko in base],
                    "display_modules": [ko.name for ko in display],
                    "tablet_modules": [ko.name for ko in tablet],
                    "agent_modules": [ko.name for ko in agent],
                    "usb_modules": [ko.name for ko in usb],
                    "gpu_modules": [ko.name for ko in gpu],
                    "audio_modules": [ko.name for ko in audio],
                    "cmdlines": {str(boot): cmdline for boot, cmdline in _CMDLINES.items()},
                },
                indent=2,
            )
        )


def _compile(source: Path, tmp: Path) -> bytes:
    """One of the guest's C programs, compiled static (the initramfs has no C library)."""
    out = tmp / source.stem
    try:
        subprocess.run(
            ["gcc", "-static", "-Os", "-s", "-Wall", "-o", str(out), str(source)],
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
        )
    except FileNotFoundError as exc:
        raise RuntimeError("building the test guest needs gcc (installers/debian-deps.sh)") from exc
    except subprocess.CalledProcessError as exc:
        raise RuntimeError(f"compiling {source.name} failed:\n{exc.stderr}") from exc
    return out.read_bytes()


def _product_key() -> tuple[str, debian.Package, debian.Package]:
    """The cache key of the guest that would be built now, and the packages behind it."""
    packages = debian.resolve_packages()
    kernel_pkg, busybox_pkg = packages["kernel"], packages["busybox"]
    recipe = cache.source_files_hash(
        [
            _HERE / "linux.py",
            _HERE / "reports.py",  # the report prefixes go into /init
            _HERE / "cpio.py",
            _HERE / "debian.py",
            _INIT_TEMPLATE,
            _AGENT_SOURCE,
            _DRM_SOURCE,
        ]
    )
    versions = f"{kernel_pkg.version}-bb{busybox_pkg.version}".replace(":", "_")
    return f"linux-{versions}-{recipe}", kernel_pkg, busybox_pkg


def linux_guest(boot: Boot = Boot.PVH) -> LinuxGuest:
    """Return the cached test guest, building it first if needed (a few seconds)."""
    while True:
        key, kernel_pkg, busybox_pkg = _product_key()
        try:
            product = cache.cached_product(
                key, functools.partial(_build, kernel_pkg=kernel_pkg, busybox_pkg=busybox_pkg)
            )
            break
        except debian.DownloadError:
            # Stale apt lists name versions the mirror has dropped: refresh, resolve again.
            if not debian.refresh_lists():
                raise
    return LinuxGuest(
        kernel=product / ("vmlinux" if boot is Boot.PVH else "vmlinuz"),
        initrd=product / "initrd.gz",
        cmdline=_CMDLINES[boot],
        ready_marker=READY_MARKER,
        poweroff_marker=POWEROFF_MARKER,
        kernel_version=kernel_pkg.name.removeprefix("linux-image-"),
        boot=boot,
    )
