"""Machine-level devices: watchdog, balloon, RNG, TPM, shared and hotplug memory,
IOMMU, vsock and panic notifiers.
"""

from __future__ import annotations

from ..base import XMLProperty, XMLSize
from ..kinds import INT, bool_on_off, bool_yes_no
from .base import Device

__all__ = [
    "IOMMU",
    "RNG",
    "TPM",
    "MemBalloon",
    "MemoryDevice",
    "Panic",
    "Shmem",
    "Vsock",
    "Watchdog",
]


class Watchdog(Device):
    """``<watchdog model='i6300esb' action='reset'/>``."""

    TAG = "watchdog"

    model = XMLProperty("./@model")
    action = XMLProperty("./@action")


class MemBalloon(Device):
    """``<memballoon model='virtio'>``: lets the host reclaim guest memory."""

    TAG = "memballoon"

    model = XMLProperty("./@model")
    autodeflate = XMLProperty("./@autodeflate", bool_on_off)
    free_page_reporting = XMLProperty("./@freePageReporting", bool_on_off)
    stats_period = XMLProperty("./stats/@period", INT, prune=True)


class RNG(Device):
    """``<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>``."""

    TAG = "rng"

    model = XMLProperty("./@model")
    backend_model = XMLProperty("./backend/@model")
    backend_type = XMLProperty("./backend/@type")
    backend_path = XMLProperty("./backend")
    rate_bytes = XMLProperty("./rate/@bytes", INT, prune=True)
    rate_period = XMLProperty("./rate/@period", INT, prune=True)


class TPM(Device):
    """``<tpm model='tpm-crb'><backend type='emulator' version='2.0'/></tpm>``."""

    TAG = "tpm"

    model = XMLProperty("./@model")
    backend_type = XMLProperty("./backend/@type")
    backend_version = XMLProperty("./backend/@version")
    backend_persistent_state = XMLProperty("./backend/@persistent_state", bool_yes_no)
    device_path = XMLProperty("./backend/device/@path", prune=True)


class Shmem(Device):
    """``<shmem name='looking-glass'><model type='ivshmem-plain'/><size unit='M'>32``."""

    TAG = "shmem"

    name = XMLProperty("./@name")
    role = XMLProperty("./@role")
    model_type = XMLProperty("./model/@type", prune=True)
    size = XMLSize("./size", default_unit="b")
    server_path = XMLProperty("./server/@path")


class MemoryDevice(Device):
    """``<memory model='dimm'|'virtio-mem'|...>``: hot-pluggable guest memory."""

    TAG = "memory"

    model = XMLProperty("./@model")
    access = XMLProperty("./@access")
    discard = XMLProperty("./@discard", bool_yes_no)
    source_path = XMLProperty("./source/path")
    target_size = XMLSize("./target/size")
    target_node = XMLProperty("./target/node", INT)
    target_block = XMLSize("./target/block")
    target_requested = XMLSize("./target/requested")
    target_current = XMLSize("./target/current")
    target_label_size = XMLSize("./target/label/size")


class IOMMU(Device):
    """``<iommu model='intel'><driver intremap='on'/></iommu>``."""

    TAG = "iommu"

    model = XMLProperty("./@model")
    driver_intremap = XMLProperty("./driver/@intremap", bool_on_off)
    driver_caching_mode = XMLProperty("./driver/@caching_mode", bool_on_off)
    driver_iotlb = XMLProperty("./driver/@iotlb", bool_on_off)
    driver_eim = XMLProperty("./driver/@eim", bool_on_off)
    driver_aw_bits = XMLProperty("./driver/@aw_bits", INT)


class Vsock(Device):
    """``<vsock model='virtio'><cid auto='yes'/></vsock>``: host-guest sockets."""

    TAG = "vsock"

    model = XMLProperty("./@model")
    cid_auto = XMLProperty("./cid/@auto", bool_yes_no)
    cid_address = XMLProperty("./cid/@address", INT)


class Panic(Device):
    """``<panic model='isa'|'pvpanic'|'hyperv'|...>``: guest crash notification."""

    TAG = "panic"

    model = XMLProperty("./@model")
