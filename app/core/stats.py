"""Live statistics: one bulk `getAllDomainStats` call per connection per tick, turned into
rates and fixed-length histories that graphs draw as they are.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import libvirt

log = logging.getLogger(__name__)

HISTORY_LENGTH = 120  # samples kept per VM; at one a second, two minutes

LIST_STATS = libvirt.VIR_DOMAIN_STATS_CPU_TOTAL | libvirt.VIR_DOMAIN_STATS_BALLOON
#: Asked only for the VMs whose graphs are shown: disk statistics cost the hypervisor a
#: query to each guest's QEMU.
DETAIL_STATS = libvirt.VIR_DOMAIN_STATS_BLOCK | libvirt.VIR_DOMAIN_STATS_INTERFACE


def sample(
    virconn: libvirt.virConnect, what: int = LIST_STATS, detail: Iterable[str] = ()
) -> list[tuple[str, dict]]:
    """One bulk query for all running domains of a connection, plus disk and network
    statistics of the running ones among the UUIDs in ``detail`` (blocking)."""
    flags = libvirt.VIR_CONNECT_GET_ALL_DOMAINS_STATS_ACTIVE
    doms: dict[str, libvirt.virDomain] = {}
    records: dict[str, dict] = {}
    for dom, record in virconn.getAllDomainStats(what, flags):
        uuid = dom.UUIDString()
        doms[uuid], records[uuid] = dom, record
    wanted = [doms[uuid] for uuid in detail if uuid in doms]
    if wanted:
        try:
            for dom, extra in virconn.domainListGetStats(wanted, DETAIL_STATS):
                records[dom.UUIDString()].update(extra)
        except libvirt.libvirtError as e:  # one stopped meanwhile: a gap in the graphs
            log.debug("disk and network statistics failed: %s", e)
    return list(records.items())


@dataclass(frozen=True)
class Counters:
    """Cumulative counters of one sample."""

    time: float
    cpu_ns: int
    vcpus: int
    # None where the sample had no disk or network statistics (see DETAIL_STATS).
    disk_read: int | None
    disk_write: int | None
    net_rx: int | None
    net_tx: int | None
    memory_kib: int  # what the guest costs the host: QEMU's RSS when known

    @classmethod
    def from_record(cls, now: float, record: dict, vcpus: int = 1) -> Counters:
        """`vcpus` is the guest's vCPU count as the inventory knows it; asking libvirt for
        per-vCPU statistics just for the count would double the cost of every tick."""

        def total(prefix: str, count_key: str, suffix: str) -> int | None:
            if count_key not in record:
                return None
            n = int(record[count_key])
            return sum(int(record.get(f"{prefix}.{i}.{suffix}", 0)) for i in range(n))

        memory = record.get("balloon.rss") or record.get("balloon.current") or 0
        return cls(
            time=now,
            cpu_ns=int(record.get("cpu.time", 0)),
            vcpus=max(1, int(record.get("vcpu.current", vcpus))),
            disk_read=total("block", "block.count", "rd.bytes"),
            disk_write=total("block", "block.count", "wr.bytes"),
            net_rx=total("net", "net.count", "rx.bytes"),
            net_tx=total("net", "net.count", "tx.bytes"),
            memory_kib=int(memory),
        )


@dataclass
class VMStats:
    """Histories for one VM, oldest first, each HISTORY_LENGTH long (NaN where unknown)."""

    cpu_percent: deque[float] = field(default_factory=lambda: _empty())
    memory_kib: deque[float] = field(default_factory=lambda: _empty())
    disk_bps: deque[float] = field(default_factory=lambda: _empty())
    net_bps: deque[float] = field(default_factory=lambda: _empty())

    def latest_cpu(self) -> float:
        value = self.cpu_percent[-1]
        return 0.0 if math.isnan(value) else value


def axis_top(values: Iterable[float], least: float) -> float:
    """The top of a graph's value axis that starts at 0: the next 1, 2 or 5 step above the
    largest value with a tenth of headroom, and never under ``least``. A flat line stays
    a flat line (an axis fitted to the data alone blows noise up to its full height),
    and the axis moves only when the data outgrows a step."""
    finite = [v for v in values if not math.isnan(v)]
    want = max([least, *(v * 1.1 for v in finite)])
    step = 10 ** math.floor(math.log10(want))
    for factor in (1, 2, 5):
        if factor * step >= want:
            return factor * step
    return 10 * step


def _empty() -> deque[float]:
    return deque([math.nan] * HISTORY_LENGTH, maxlen=HISTORY_LENGTH)


def _rate(new: int | None, old: int | None, seconds: float) -> float:
    if new is None or old is None:  # not asked for in one of the two samples
        return math.nan
    if seconds <= 0 or new < old:  # counters reset when the guest restarts
        return math.nan
    return (new - old) / seconds


def _sum(a: int | None, b: int | None) -> int | None:
    return None if a is None or b is None else a + b


class StatsTracker:
    """Turns successive samples of one connection into per-VM histories."""

    def __init__(self) -> None:
        self._last: dict[str, Counters] = {}
        self.vms: dict[str, VMStats] = {}

    def ingest(
        self, now: float, records: list[tuple[str, dict]], vcpus: Mapping[str, int] = {}
    ) -> set[str]:
        """Add one tick's samples; returns the UUIDs whose histories changed. `vcpus`
        maps UUIDs to vCPU counts, to turn CPU time into a share of the guest's vCPUs."""
        seen = set()
        for uuid, record in records:
            counters = Counters.from_record(now, record, vcpus.get(uuid, 1))
            prev = self._last.get(uuid)
            self._last[uuid] = counters
            stats = self.vms.setdefault(uuid, VMStats())
            seen.add(uuid)
            if prev is None:
                cpu = disk = net = math.nan
            else:
                dt = counters.time - prev.time
                cpu_rate = _rate(counters.cpu_ns, prev.cpu_ns, dt)
                cpu = (
                    cpu_rate
                    if math.isnan(cpu_rate)
                    else min(100.0, cpu_rate / 1e9 / counters.vcpus * 100.0)
                )
                disk = _rate(
                    _sum(counters.disk_read, counters.disk_write),
                    _sum(prev.disk_read, prev.disk_write),
                    dt,
                )
                net = _rate(
                    _sum(counters.net_rx, counters.net_tx), _sum(prev.net_rx, prev.net_tx), dt
                )
            stats.cpu_percent.append(cpu)
            # No figure (a driver that reports none): a gap, not a 0.
            stats.memory_kib.append(float(counters.memory_kib) if counters.memory_kib else math.nan)
            stats.disk_bps.append(disk)
            stats.net_bps.append(net)
        # VMs that stopped: forget their counters so a restart begins a fresh rate, and
        # drop their histories (the list shows no sparkline for a VM that is off).
        for uuid in set(self._last) - seen:
            del self._last[uuid]
            self.vms.pop(uuid, None)
        return seen
