"""Where new child elements go: libvirt's formatting order of children, per parent tag.

libvirt ignores order almost everywhere, but a new element placed where libvirt itself
would print it keeps `to_xml()` readable and diffs small. Tags missing from a table are
appended at the end of their parent. A tag used under several parents (``source``,
``target``) has one table with the union of the children it has anywhere.
"""

from __future__ import annotations

from typing import Final

# Children every device may carry, printed last by libvirt's device-info formatter.
_DEVICE_TAIL: Final = ("boot", "alias", "master", "rom", "acpi", "address")

# fmt: off
CHILD_ORDER: Final[dict[str, tuple[str, ...]]] = {
    "domain": (
        "name", "uuid", "genid", "title", "description", "metadata", "maxMemory",
        "memory", "currentMemory", "blkiotune", "memtune", "memoryBacking", "vcpu",
        "vcpus", "iothreads", "iothreadids", "defaultiothread", "cputune", "numatune",
        "resource", "sysinfo", "bootloader", "bootloader_args", "os", "idmap", "features",
        "cpu", "clock", "on_poweroff", "on_reboot", "on_crash", "on_lockfailure", "pm",
        "perf", "devices", "seclabel", "keywrap", "launchSecurity", "qemu:commandline",
        "qemu:capabilities", "qemu:override", "qemu:deprecation",
    ),
    "os": (
        "type", "firmware", "init", "initarg", "initenv", "initdir", "inituser",
        "initgroup", "loader", "nvram", "kernel", "initrd", "cmdline", "dtb", "acpi",
        "boot", "bootmenu", "bios", "smbios",
    ),
    "features": (
        "acpi", "apic", "pae", "hap", "viridian", "privnet", "hyperv", "kvm",
        "pvspinlock", "capabilities", "pmu", "vmport", "gic", "smm", "ioapic", "hpt",
        "vmcoreinfo", "htm", "nested-hv", "msrs", "ccf-assist", "xen", "cfpc", "sbbc",
        "ibs", "tcg", "async-teardown",
    ),
    "hyperv": (
        "relaxed", "vapic", "spinlocks", "vpindex", "runtime", "synic", "stimer",
        "reset", "vendor_id", "frequencies", "reenlightenment", "tlbflush", "ipi",
        "evmcs", "avic",
    ),
    "cpu": ("model", "vendor", "topology", "cache", "maxphysaddr", "feature", "numa"),
    "memoryBacking": ("hugepages", "nosharepages", "locked", "source", "access",
                      "allocation", "discard"),
    "pm": ("suspend-to-mem", "suspend-to-disk"),
    "devices": (
        "emulator", "disk", "controller", "lease", "filesystem", "interface", "smartcard",
        "serial", "parallel", "console", "channel", "input", "tpm", "graphics", "sound",
        "audio", "video", "hostdev", "redirdev", "redirfilter", "hub", "watchdog",
        "memballoon", "rng", "panic", "shmem", "memory", "iommu", "vsock", "crypto",
    ),
    "disk": (
        "driver", "source", "backingStore", "mirror", "target", "geometry", "blockio",
        "iotune", "readonly", "shareable", "transient", "serial", "wwn", "vendor",
        "product", "encryption", *_DEVICE_TAIL,
    ),
    "controller": ("model", "driver", "target", "pcihole64", *_DEVICE_TAIL),
    "lease": ("lockspace", "key", "target"),
    "filesystem": (
        "driver", "binary", "source", "target", "idmap", "readonly", "space_hard_limit",
        "space_soft_limit", *_DEVICE_TAIL,
    ),
    "interface": (
        "mac", "source", "virtualport", "ip", "route", "script", "downscript",
        "backenddomain", "target", "guest", "model", "driver", "backend", "filterref",
        "tune", "teaming", "link", "mtu", "coalesce", "portForward", *_DEVICE_TAIL,
    ),
    "graphics": ("listen", "channel", "image", "streaming", "mouse", "clipboard",
                 "filetransfer", "gl", "audio"),
    "video": ("driver", "model", *_DEVICE_TAIL),
    "model": ("acceleration", "resolution"),
    "sound": ("codec", "audio", *_DEVICE_TAIL),
    "memballoon": ("stats", *_DEVICE_TAIL, "driver"),
    "rng": ("rate", "backend", *_DEVICE_TAIL),
    "tpm": ("backend", *_DEVICE_TAIL),
    "backend": ("device", "encryption", "active_pcr_banks", "source", "protocol"),
    "hostdev": ("driver", "source", "readonly", "shareable", *_DEVICE_TAIL),
    "source": (
        "vendor", "product", "adapter", "host", "auth", "snapshot", "config",
        "reservations", "initiator", "address", "nodemask", "pagesize", "path",
        "alignsize", "pmem", "slices", "ssl", "cookies", "readahead", "timeout",
        "clipboard", "mouse",
    ),
    "target": ("model", "size", "node", "label", "block", "requested", "address"),
    "memory": ("source", "target", *_DEVICE_TAIL),
    "shmem": ("model", "size", "server", "msi", *_DEVICE_TAIL),
    "vsock": ("cid", *_DEVICE_TAIL),
    "iommu": ("driver", *_DEVICE_TAIL),
    "redirdev": ("source", "protocol", *_DEVICE_TAIL),
    "smartcard": ("certificate", "database", "source", "protocol", *_DEVICE_TAIL),
    "input": ("source", *_DEVICE_TAIL, "driver"),
    "watchdog": _DEVICE_TAIL,
    "panic": _DEVICE_TAIL,
    "hub": _DEVICE_TAIL,
    "serial": ("source", "protocol", "log", "target", *_DEVICE_TAIL),
    "parallel": ("source", "protocol", "log", "target", *_DEVICE_TAIL),
    "console": ("source", "protocol", "log", "target", *_DEVICE_TAIL),
    "channel": ("source", "protocol", "log", "target", *_DEVICE_TAIL),
}
# fmt: on
