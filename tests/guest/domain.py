"""Domain XML for test guests, as plain text.

The application builds its XML through its own model; tests that only need *a* running
guest use these literal templates. Every value is escaped, names included. The devices are
the least a test needs: one vCPU, no disk or network, no USB, no balloon, a standard VGA
card with a VNC (or SPICE) server that listens nowhere (clients connect with
``openGraphicsFD``) or, with ``listen``, on a TCP address with a port libvirt picks
(``autoport``; the live XML says which), optionally with a password, optionally the
first serial port logged to a file, optionally a virtio tablet (an absolute pointer;
else the guest has only QEMU's PS/2 mouse, which it does not drive), and optionally the
SPICE agent's channel (a virtio-serial port, where the guest runs its test agent), and
optionally a USB controller with SPICE's USB redirection ports (instead of no USB), and
optionally a virtio GPU instead of the VGA card (the guest then shows a known pointer
shape on it), and optionally an HD Audio card (the guest then plays noise on it).
"""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from tests.guest.linux import LinuxGuest

_ACCELS = ("kvm", "qemu")


#: The display servers a test guest can have.
GRAPHICS = ("vnc", "spice")
#: The video cards a test guest can have: QEMU's standard VGA (no cursor plane), or a
#: virtio GPU, whose cursor plane QEMU's display servers pass on as the pointer shape.
VIDEO = ("vga", "virtio")
#: SPICE USB redirection ports (usbredir channels) a guest with ``usb_redirect`` has.
USB_REDIRECT_PORTS = 2


def _graphics(graphics: str, listen: str | None, password: str | None) -> str:
    if graphics not in GRAPHICS:
        raise ValueError(f"graphics must be one of {GRAPHICS} or None, not {graphics!r}")
    attrs = f"type='{graphics}'"
    if listen is None:
        inner = "<listen type='none'/>"
    else:
        attrs += f" autoport='yes' listen={quoteattr(listen)}"
        inner = f"<listen type='address' address={quoteattr(listen)}/>"
    if password is not None:
        attrs += f" passwd={quoteattr(password)}"
    return f"    <graphics {attrs}>\n      {inner}\n    </graphics>"


def _devices(
    serial_log: Path | None,
    graphics: str | tuple[str, ...] | None,
    listen: str | None = None,
    password: str | None = None,
    tablet: bool = False,
    spice_agent: bool = False,
    usb_redirect: bool = False,
    video: str = "vga",
    sound: bool = False,
) -> str:
    if video not in VIDEO:
        raise ValueError(f"video must be one of {VIDEO}, not {video!r}")
    if usb_redirect:
        parts = ["    <controller type='usb' model='qemu-xhci'/>"]
        parts += ["    <redirdev bus='usb' type='spicevmc'/>"] * USB_REDIRECT_PORTS
    else:
        parts = ["    <controller type='usb' model='none'/>"]
    if tablet:
        parts.append("    <input type='tablet' bus='virtio'/>")
    if sound:  # libvirt gives it the display's audio back-end (SPICE's, with SPICE)
        parts.append("    <sound model='ich6'/>")
    if spice_agent:  # libvirt adds the virtio-serial controller
        parts.append(
            "    <channel type='spicevmc'>\n"
            "      <target type='virtio' name='com.redhat.spice.0'/>\n"
            "    </channel>"
        )
    if serial_log is not None:
        parts.append(
            "    <serial type='file'>\n"
            f"      <source path={quoteattr(str(serial_log))}/>\n"
            "      <target port='0'/>\n"
            "    </serial>"
        )
    kinds = (graphics,) if isinstance(graphics, str) else graphics or ()
    for kind in kinds:
        parts.append(_graphics(kind, listen, password))
    parts += [
        f"    <video>\n      <model type='{video}' heads='1' primary='yes'/>\n    </video>",
        "    <memballoon model='none'/>",
    ]
    return "\n".join(parts)


def _domain(name: str, accel: str, memory_mib: int, os_extra: str, devices: str) -> str:
    if accel not in _ACCELS:
        raise ValueError(f"accel must be one of {_ACCELS}, not {accel!r}")
    return f"""\
<domain type={quoteattr(accel)}>
  <name>{escape(name)}</name>
  <memory unit='MiB'>{int(memory_mib)}</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
{os_extra}
  </os>
  <features>
    <acpi/>
    <apic/>
  </features>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
{devices}
  </devices>
</domain>
"""


#: The test guest's memory by default. At 96 MiB it now and then panicked out of memory
#: two seconds into its boot ("System is deadlocked on memory"; once in a full run).
GUEST_MEMORY_MIB = 128
#: The least memory of a guest with a virtio GPU: beside the 1080p console, its driver's
#: buffers do not fit in 96 MiB (its insmod was OOM-killed).
VIRTIO_GPU_MEMORY_MIB = 160


def domain_xml(
    name: str,
    guest: LinuxGuest,
    accel: str,
    *,
    serial_log: Path | None = None,
    memory_mib: int = GUEST_MEMORY_MIB,
    graphics: str | tuple[str, ...] | None = "vnc",
    listen: str | None = None,
    password: str | None = None,
    tablet: bool = False,
    spice_agent: bool = False,
    usb_redirect: bool = False,
    video: str = "vga",
    sound: bool = False,
) -> str:
    """XML for ``guest`` booted directly from its kernel and initramfs. ``graphics`` may
    name several display servers (``("vnc", "spice")``). With ``listen`` they listen on
    that TCP address (ports chosen by libvirt); with ``password`` each asks for it.
    With ``tablet`` the guest has a virtio tablet, and reports its events on the serial
    port (:func:`tests.guest.reports.pointer_events`). With ``spice_agent`` (SPICE graphics
    only) it runs a SPICE agent that reports what it hears on the serial port
    (:func:`tests.guest.reports.agent_lines`). With ``usb_redirect`` (SPICE graphics only)
    it has a qemu-xhci USB controller and :data:`USB_REDIRECT_PORTS` SPICE USB redirection
    ports, and reports the USB devices it sees on the serial port
    (:func:`tests.guest.reports.usb_events`). With ``video="virtio"`` its video card is a
    virtio GPU, on whose cursor plane it shows :data:`tests.guest.linux.CURSOR_SHAPE`,
    and at least :data:`VIRTIO_GPU_MEMORY_MIB` of memory. With ``sound`` it has an HD
    Audio card, on which it plays noise without pause."""
    kinds = (graphics,) if isinstance(graphics, str) else graphics or ()
    if spice_agent and "spice" not in kinds:
        raise ValueError("a SPICE agent needs SPICE graphics")
    if usb_redirect and "spice" not in kinds:
        raise ValueError("USB redirection needs SPICE graphics")
    os_extra = (
        f"    <kernel>{escape(str(guest.kernel))}</kernel>\n"
        f"    <initrd>{escape(str(guest.initrd))}</initrd>\n"
        f"    <cmdline>{escape(guest.cmdline)}</cmdline>"
    )
    devices = _devices(
        serial_log, graphics, listen, password, tablet, spice_agent, usb_redirect, video, sound
    )
    if video == "virtio":  # less, and loading its driver runs out of memory (OOM-killed)
        memory_mib = max(memory_mib, VIRTIO_GPU_MEMORY_MIB)
    return _domain(name, accel, memory_mib, os_extra, devices)


def cdrom_domain_xml(
    name: str,
    iso: Path,
    accel: str,
    *,
    serial_log: Path | None = None,
    memory_mib: int = 64,
    graphics: str | None = "vnc",
) -> str:
    """XML for a guest that boots from ``iso`` on an IDE CD-ROM drive."""
    cdrom = (
        "    <disk type='file' device='cdrom'>\n"
        "      <driver name='qemu' type='raw'/>\n"
        f"      <source file={quoteattr(str(iso))}/>\n"
        "      <target dev='hdc' bus='ide'/>\n"
        "      <readonly/>\n"
        "    </disk>\n"
    )
    os_extra = "    <boot dev='cdrom'/>"
    return _domain(name, accel, memory_mib, os_extra, cdrom + _devices(serial_log, graphics))
