"""Rates and histories from bulk samples."""

from __future__ import annotations

import logging
import math

import libvirt

from app.core import stats
from app.core.stats import HISTORY_LENGTH, Counters, StatsTracker, axis_top


def rec(cpu_ns: int, vcpus: int = 2, **extra) -> dict:
    r = {"cpu.time": cpu_ns, "vcpu.current": vcpus, "balloon.rss": 300_000}
    r.update(extra)
    return r


def test_first_sample_has_unknown_rate_then_percent_of_vcpus() -> None:
    t = StatsTracker()
    t.ingest(10.0, [("a", rec(0))])
    assert math.isnan(t.vms["a"].cpu_percent[-1])
    t.ingest(11.0, [("a", rec(1_000_000_000))])  # 1 s of CPU in 1 s over 2 vCPUs
    assert t.vms["a"].cpu_percent[-1] == 50.0
    assert t.vms["a"].latest_cpu() == 50.0
    assert len(t.vms["a"].cpu_percent) == HISTORY_LENGTH


def test_cpu_is_capped_and_counter_reset_gives_unknown() -> None:
    t = StatsTracker()
    t.ingest(0.0, [("a", rec(0, vcpus=1))])
    t.ingest(1.0, [("a", rec(3_000_000_000, vcpus=1))])
    assert t.vms["a"].cpu_percent[-1] == 100.0
    t.ingest(2.0, [("a", rec(10, vcpus=1))])  # restarted guest
    assert math.isnan(t.vms["a"].cpu_percent[-1])


def test_stopped_vm_is_forgotten() -> None:
    t = StatsTracker()
    t.ingest(0.0, [("a", rec(0)), ("b", rec(0))])
    changed = t.ingest(1.0, [("a", rec(5))])
    assert changed == {"a"}
    assert "b" not in t.vms


def test_disk_and_net_sum_over_devices() -> None:
    r0 = rec(
        0,
        **{
            "block.count": 2,
            "block.0.rd.bytes": 0,
            "block.1.wr.bytes": 0,
            "net.count": 1,
            "net.0.rx.bytes": 0,
            "net.0.tx.bytes": 0,
        },
    )
    r1 = rec(
        0,
        **{
            "block.count": 2,
            "block.0.rd.bytes": 1000,
            "block.1.wr.bytes": 3000,
            "net.count": 1,
            "net.0.rx.bytes": 500,
            "net.0.tx.bytes": 1500,
        },
    )
    t = StatsTracker()
    t.ingest(0.0, [("a", r0)])
    t.ingest(2.0, [("a", r1)])
    assert t.vms["a"].disk_bps[-1] == 2000.0
    assert t.vms["a"].net_bps[-1] == 1000.0
    # Disk and network are asked only while the VM's graphs are shown: a tick without them
    # is a gap, and the tick after it no spike from a counter taken as 0.
    t.ingest(3.0, [("a", rec(0))])
    assert math.isnan(t.vms["a"].disk_bps[-1]) and math.isnan(t.vms["a"].net_bps[-1])
    t.ingest(4.0, [("a", r1)])
    assert math.isnan(t.vms["a"].disk_bps[-1]) and math.isnan(t.vms["a"].net_bps[-1])
    # A guest with no disk and no network card: zero, not unknown.
    t.ingest(5.0, [("b", rec(0, **{"block.count": 0, "net.count": 0}))])
    t.ingest(6.0, [("b", rec(0, **{"block.count": 0, "net.count": 0}))])
    assert t.vms["b"].disk_bps[-1] == 0.0 and t.vms["b"].net_bps[-1] == 0.0


def test_memory_prefers_rss() -> None:
    c = Counters.from_record(0.0, {"balloon.rss": 5, "balloon.current": 9})
    assert c.memory_kib == 5
    assert Counters.from_record(0.0, {"balloon.current": 9}).memory_kib == 9


def test_vcpu_count_comes_from_the_inventory_when_libvirt_does_not_say() -> None:
    t = StatsTracker()
    plain = {"cpu.time": 0}
    t.ingest(0.0, [("a", plain)], {"a": 4})
    t.ingest(1.0, [("a", {"cpu.time": 2_000_000_000})], {"a": 4})
    assert t.vms["a"].cpu_percent[-1] == 50.0  # 2 s of CPU over 4 vCPUs in 1 s


def test_graph_axis_starts_at_zero_and_steps_in_ones_twos_fives() -> None:
    # A guest whose memory barely moves: the axis is not fitted to the noise.
    assert axis_top([325.78, 325.80, math.nan], 64) == 500
    assert axis_top([455.0], 64) == 1000  # 10 % headroom: 500 is too tight
    assert axis_top([1700.0], 64) == 2000
    assert axis_top([], 64) == 100  # nothing known yet: the least, on a step
    assert axis_top([math.nan] * 3, 64) == 100
    assert axis_top([3.0], 64) == 100


def test_memory_not_yet_known_is_a_gap() -> None:
    t = StatsTracker()
    t.ingest(0.0, [("a", {"cpu.time": 0})])  # no balloon figures in the first answer
    assert math.isnan(t.vms["a"].memory_kib[-1])
    t.ingest(1.0, [("a", rec(0))])
    assert t.vms["a"].memory_kib[-1] == 300_000


class _Dom:
    def __init__(self, uuid: str) -> None:
        self.uuid = uuid

    def UUIDString(self) -> str:
        return self.uuid


class _Conn:
    """getAllDomainStats and domainListGetStats, as libvirt answers them."""

    def __init__(self, fail: bool = False) -> None:
        self.doms = {u: _Dom(u) for u in ("a", "b")}
        self.fail = fail
        self.detail_asked: list[list[str]] = []

    def getAllDomainStats(self, what, flags):
        assert what == stats.LIST_STATS
        return [(d, {"cpu.time": 1, "balloon.rss": 5}) for d in self.doms.values()]

    def domainListGetStats(self, doms, what):
        assert what == stats.DETAIL_STATS
        self.detail_asked.append([d.UUIDString() for d in doms])
        if self.fail:
            raise libvirt.libvirtError("domain is not running")
        return [(d, {"block.count": 1, "block.0.rd.bytes": 7, "net.count": 0}) for d in doms]


def test_sample_adds_disk_and_network_only_for_the_vms_asked() -> None:
    conn = _Conn()
    records = dict(stats.sample(conn, detail=["b", "gone"]))
    assert conn.detail_asked == [["b"]]  # the domain objects of the first answer
    assert records["a"] == {"cpu.time": 1, "balloon.rss": 5}
    assert records["b"] == {
        "cpu.time": 1,
        "balloon.rss": 5,
        "block.count": 1,
        "block.0.rd.bytes": 7,
        "net.count": 0,
    }
    assert stats.sample(conn) and conn.detail_asked == [["b"]]  # none asked: no query


def test_sample_keeps_the_list_figures_when_the_detail_fails(caplog) -> None:
    caplog.set_level(logging.DEBUG, logger="app.core.stats")
    records = dict(stats.sample(_Conn(fail=True), detail=["a"]))
    assert records["a"] == {"cpu.time": 1, "balloon.rss": 5}
    assert "disk and network statistics failed" in caplog.text
