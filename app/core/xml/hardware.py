"""The virtual machine's platform: ``<features>``, ``<cpu>``, ``<clock>``, ``<pm>`` and
``<memoryBacking>``.
"""

from __future__ import annotations

from .base import XMLFlag, XMLObject, XMLProperty, XMLState
from .children import XMLChildList
from .kinds import INT, bool_on_off, bool_yes_no

__all__ = ["CPU", "CPUFeature", "Clock", "Features", "MemoryBacking", "PowerManagement", "Timer"]


class Features(XMLObject):
    """``<features>``: flags such as ``<acpi/>`` and on/off states such as ``<smm/>``."""

    TAG = "features"

    acpi = XMLFlag("./acpi")
    apic = XMLFlag("./apic")
    apic_eoi = XMLProperty("./apic/@eoi", bool_on_off)
    pae = XMLFlag("./pae")
    viridian = XMLFlag("./viridian")
    privnet = XMLFlag("./privnet")
    hap = XMLState("./hap")
    pvspinlock = XMLState("./pvspinlock")
    pmu = XMLState("./pmu")
    vmport = XMLState("./vmport")
    smm = XMLState("./smm")
    vmcoreinfo = XMLState("./vmcoreinfo")
    htm = XMLState("./htm")
    ioapic_driver = XMLProperty("./ioapic/@driver", prune=True)
    gic_version = XMLProperty("./gic/@version", prune=True)
    hyperv_mode = XMLProperty("./hyperv/@mode")
    hyperv_relaxed = XMLState("./hyperv/relaxed")
    hyperv_vapic = XMLState("./hyperv/vapic")
    hyperv_spinlocks = XMLState("./hyperv/spinlocks")
    hyperv_spinlock_retries = XMLProperty("./hyperv/spinlocks/@retries", INT)
    hyperv_vpindex = XMLState("./hyperv/vpindex")
    hyperv_synic = XMLState("./hyperv/synic")
    hyperv_stimer = XMLState("./hyperv/stimer")
    hyperv_reset = XMLState("./hyperv/reset")
    hyperv_frequencies = XMLState("./hyperv/frequencies")
    hyperv_tlbflush = XMLState("./hyperv/tlbflush")
    hyperv_ipi = XMLState("./hyperv/ipi")
    kvm_hidden = XMLState("./kvm/hidden")


class CPUFeature(XMLObject):
    """``<feature policy='require' name='vmx'/>`` inside ``<cpu>``."""

    TAG = "feature"

    name = XMLProperty("./@name")
    policy = XMLProperty("./@policy")


class CPU(XMLObject):
    """``<cpu mode='host-passthrough'>`` with model, topology and feature policies."""

    TAG = "cpu"

    mode = XMLProperty("./@mode")
    match = XMLProperty("./@match")
    check = XMLProperty("./@check")
    migratable = XMLProperty("./@migratable", bool_on_off)
    model = XMLProperty("./model")
    model_fallback = XMLProperty("./model/@fallback")
    vendor = XMLProperty("./vendor")
    topology_sockets = XMLProperty("./topology/@sockets", INT)
    topology_dies = XMLProperty("./topology/@dies", INT)
    topology_cores = XMLProperty("./topology/@cores", INT)
    topology_threads = XMLProperty("./topology/@threads", INT)
    cache_mode = XMLProperty("./cache/@mode", prune=True)
    features = XMLChildList(CPUFeature, "./feature")


class Timer(XMLObject):
    """``<timer name='rtc' tickpolicy='catchup'/>`` inside ``<clock>``."""

    TAG = "timer"

    name = XMLProperty("./@name")
    present = XMLProperty("./@present", bool_yes_no)
    tickpolicy = XMLProperty("./@tickpolicy")
    track = XMLProperty("./@track")


class Clock(XMLObject):
    """``<clock offset='utc'|'localtime'|...>`` and its timers."""

    TAG = "clock"

    offset = XMLProperty("./@offset")
    timezone = XMLProperty("./@timezone")
    adjustment = XMLProperty("./@adjustment")
    basis = XMLProperty("./@basis")
    timers = XMLChildList(Timer, "./timer")

    def timer(self, name: str) -> Timer | None:
        """The timer called `name` ('rtc', 'pit', 'hpet', 'kvmclock'...), if any."""
        return next((t for t in self.timers if t.name == name), None)


class PowerManagement(XMLObject):
    """``<pm><suspend-to-mem enabled='no'/><suspend-to-disk enabled='no'/></pm>``."""

    TAG = "pm"

    suspend_to_mem = XMLProperty("./suspend-to-mem/@enabled", bool_yes_no, prune=True)
    suspend_to_disk = XMLProperty("./suspend-to-disk/@enabled", bool_yes_no, prune=True)


class MemoryBacking(XMLObject):
    """``<memoryBacking>``; virtiofs needs ``source_type='memfd'``, ``access_mode='shared'``."""

    TAG = "memoryBacking"

    hugepages = XMLFlag("./hugepages")
    nosharepages = XMLFlag("./nosharepages")
    locked = XMLFlag("./locked")
    discard = XMLFlag("./discard")
    source_type = XMLProperty("./source/@type", prune=True)
    access_mode = XMLProperty("./access/@mode", prune=True)
    allocation_mode = XMLProperty("./allocation/@mode")
