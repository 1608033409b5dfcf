"""Connections and the inventory against libvirt's test driver (a real libvirt, in
process): states, events reaching listeners, reconnect scheduling, and a host that hangs.
"""

from __future__ import annotations

import concurrent.futures
import threading
import time
import uuid as uuidlib

import libvirt
import pytest

from app.core import uris
from app.core.connection import Connection, ConnectionSpec, State
from app.core.inventory import Inventory, VMInfo
from app.core.vmstate import Status
from tests.support.hung_host import HungHost


class Recorder:
    """A connection + inventory listener that records what it hears."""

    def __init__(self) -> None:
        self.states: list[tuple[State, str]] = []
        self.resets: list[list[VMInfo]] = []
        self.changed: list[VMInfo] = []
        self.removed: list[str] = []
        self.cond = threading.Condition()

    def connection_changed(self, conn: Connection) -> None:
        with self.cond:
            self.states.append((conn.state, conn.reason))
            self.cond.notify_all()

    def domain_event(self, conn, uuid, event, detail) -> None:
        pass

    def vms_reset(self, conn_id: str, vms: list[VMInfo]) -> None:
        with self.cond:
            self.resets.append(vms)
            self.cond.notify_all()

    def vm_changed(self, info: VMInfo) -> None:
        with self.cond:
            self.changed.append(info)
            self.cond.notify_all()

    def vm_removed(self, conn_id: str, uuid: str) -> None:
        with self.cond:
            self.removed.append(uuid)
            self.cond.notify_all()

    def wait(self, predicate, timeout: float = 5.0) -> bool:
        with self.cond:
            return self.cond.wait_for(predicate, timeout)


def domain_xml(name: str) -> str:
    return (
        f"<domain type='test'><name>{name}</name><uuid>{uuidlib.uuid4()}</uuid>"
        "<memory>65536</memory><os><type>hvm</type></os></domain>"
    )


@pytest.fixture
def test_conn():
    conn = Connection(ConnectionSpec(kind=uris.Kind.CUSTOM, uri="test:///default"))
    rec = Recorder()
    conn.add_listener(rec)
    inv = Inventory(conn, rec)
    conn.connect()
    assert rec.wait(lambda: rec.resets), "the inventory never loaded"
    yield conn, rec, inv
    inv.detach()
    conn.shutdown()


def test_connects_and_lists_the_test_domain(test_conn) -> None:
    conn, rec, _inv = test_conn
    assert conn.state is State.CONNECTED
    assert [s for s, _ in rec.states] == [State.CONNECTING, State.CONNECTED]
    assert conn.accelerator is None  # KVM-or-TCG is a QEMU question only
    assert conn.mode_text == "test driver"
    (vm,) = rec.resets[-1]
    assert vm.name == "test" and vm.status is Status.RUNNING
    assert vm.vcpus == 2 and vm.memory_kib == 8 * 1024 * 1024


def test_events_follow_define_start_and_undefine(test_conn) -> None:
    conn, rec, inv = test_conn
    virconn = conn.virconn
    dom = virconn.defineXML(domain_xml("fresh"))
    t0 = time.monotonic()
    # Events, not polling: it comes within milliseconds (printed; the startup benchmark
    # covers speed). The bound is generous only so a loaded machine does not fail it.
    assert rec.wait(lambda: any(v.name == "fresh" for v in rec.changed), 10.0)
    print(f"\ndefined VM listed after {(time.monotonic() - t0) * 1000:.0f} ms")
    assert rec.changed[-1].status is Status.SHUTOFF
    dom.create()
    assert rec.wait(
        lambda: rec.changed[-1].name == "fresh" and rec.changed[-1].status is Status.RUNNING
    )
    dom.destroy()
    dom.undefine()
    assert rec.wait(lambda: dom.UUIDString() in rec.removed)
    assert "fresh" not in {v.name for v in inv.snapshot()}


def test_disconnect_clears_the_list_and_stops(test_conn) -> None:
    conn, rec, _inv = test_conn
    conn.disconnect()
    assert rec.wait(lambda: rec.states[-1][0] is State.DISCONNECTED)
    assert rec.wait(lambda: rec.resets[-1] == [])
    assert conn.virconn is None
    time.sleep(1.5)  # no reconnect attempt after a deliberate disconnect
    assert rec.states[-1][0] is State.DISCONNECTED


def test_unreachable_host_says_why_and_retries(tmp_path) -> None:
    conn = Connection(
        ConnectionSpec(kind=uris.Kind.CUSTOM, uri=f"qemu+unix:///system?socket={tmp_path}/x")
    )
    rec = Recorder()
    conn.add_listener(rec)
    conn.connect()
    try:
        assert rec.wait(lambda: len([s for s, _ in rec.states if s is State.DISCONNECTED]) >= 2, 8)
        reasons = [r for s, r in rec.states if s is State.DISCONNECTED]
        assert "No such file or directory" in reasons[0] and "Retrying in 1 s" in reasons[0]
        assert "Retrying in 2 s" in reasons[1]  # backoff grows
    finally:
        conn.shutdown()


def test_an_attempt_that_fails_before_connecting_is_announced_is_told_once(tmp_path) -> None:
    """A failure published while the caller has yet to announce "connecting" is not told
    twice (it used to be, under load: two "Retrying in 1 s" in a row)."""
    conn = Connection(
        ConnectionSpec(kind=uris.Kind.CUSTOM, uri=f"qemu+unix:///system?socket={tmp_path}/x")
    )
    rec = Recorder()
    conn.add_listener(rec)
    pool = conn.workers

    def run_at_once(fn, *args):  # the attempt fails before connect() gets to announce
        fn(*args)
        return concurrent.futures.Future()

    pool.submit = run_at_once
    try:
        conn.connect()
        del pool.submit
        assert [s for s, _ in rec.states] == [State.DISCONNECTED]
        assert "Retrying in 1 s" in rec.states[0][1]
    finally:
        conn.shutdown()


def test_a_hung_host_never_blocks_the_caller_and_can_be_abandoned() -> None:
    host = HungHost()
    conn = Connection(ConnectionSpec(kind=uris.Kind.CUSTOM, uri=host.uri))
    rec = Recorder()
    conn.add_listener(rec)
    try:
        t0 = time.monotonic()
        conn.connect()
        assert time.monotonic() - t0 < 1.0  # connect() returns at once (the host never answers)
        assert rec.wait(lambda: rec.states and rec.states[-1][0] is State.CONNECTING)
        time.sleep(1.0)
        assert conn.state is State.CONNECTING  # still waiting on the host, in a worker
        assert host.accepted, "libvirt really reached the hung host"
        conn.disconnect()  # runs on another worker, not behind the stuck one
        assert rec.wait(lambda: rec.states[-1][0] is State.DISCONNECTED, 3)
    finally:
        conn.shutdown()
        host.close()


def test_spec_labels() -> None:
    assert ConnectionSpec(kind=uris.Kind.LOCAL).label == "This computer"
    assert ConnectionSpec(kind=uris.Kind.SSH, uri="qemu+ssh://a@box/system").label == "box"
    assert ConnectionSpec(kind=uris.Kind.CUSTOM, uri="test:///default").label == "test:///default"
    spec = ConnectionSpec(kind=uris.Kind.SSH, uri="qemu+ssh://a@box/system", name="Lab")
    assert ConnectionSpec.from_dict(spec.to_dict()) == spec
    assert libvirt.getVersion() >= 9_000_000


class ScriptedConnection(Connection):
    """A real connection whose URI per attempt, and setup delay, a test decides."""

    def __init__(self, uris_: list[str], setup_delay: float = 0.0) -> None:
        super().__init__(ConnectionSpec(kind=uris.Kind.CUSTOM, uri=uris_[-1]))
        self._uris = list(uris_)
        self.setup_delay = setup_delay
        self.opened: list[libvirt.virConnect] = []

    def resolve_uri(self) -> str:
        self.mode_text = "scripted"
        return self._uris.pop(0) if len(self._uris) > 1 else self._uris[0]

    def _setup(self, conn, generation):
        self.opened.append(conn)
        time.sleep(self.setup_delay)
        return super()._setup(conn, generation)


def test_disconnect_during_setup_wins_and_the_new_connection_is_closed(tmp_path) -> None:
    node = tmp_path / "n.xml"
    node.write_text("<node/>")
    conn = ScriptedConnection([f"test://{node}"], setup_delay=0.5)
    rec = Recorder()
    conn.add_listener(rec)
    conn.connect()
    deadline = time.monotonic() + 3
    while not conn.opened and time.monotonic() < deadline:
        time.sleep(0.01)
    assert conn.opened and conn.state is State.CONNECTING  # inside setup now
    conn.disconnect()
    time.sleep(1.0)
    assert conn.state is State.DISCONNECTED and conn.virconn is None
    assert State.CONNECTED not in [s for s, _ in rec.states]
    opened = conn.opened.pop()
    # Taken out of service: no event callback of ours still holds it.
    assert not getattr(opened, "domainEventCallbackID", {})
    conn.shutdown()


def test_a_stale_attempt_failing_late_does_not_clobber_a_live_connection(tmp_path) -> None:
    node = tmp_path / "n.xml"
    node.write_text("<node/>")
    host = HungHost()
    conn = ScriptedConnection([host.uri, f"test://{node}"])
    rec = Recorder()
    conn.add_listener(rec)
    try:
        conn.connect()  # attempt 1 hangs on the silent host
        assert rec.wait(lambda: host.accepted, 3)
        conn.disconnect()
        conn.connect()  # attempt 2 reaches the test driver
        assert rec.wait(lambda: conn.state is State.CONNECTED, 5)
        host.close()  # attempt 1 now fails, late
        time.sleep(1.5)
        assert conn.state is State.CONNECTED and conn.virconn is not None
        assert rec.states[-1][0] is State.CONNECTED
    finally:
        conn.shutdown()


def test_disconnect_then_connect_at_once_ends_connected(tmp_path) -> None:
    node = tmp_path / "n.xml"
    node.write_text("<node/>")
    conn = Connection(ConnectionSpec(kind=uris.Kind.CUSTOM, uri=f"test://{node}"))
    rec = Recorder()
    conn.add_listener(rec)
    conn.connect()
    assert rec.wait(lambda: conn.state is State.CONNECTED, 5)
    first = conn.virconn
    conn.disconnect()
    conn.connect()
    assert rec.wait(lambda: conn.state is State.CONNECTED and conn.virconn is not first, 5)
    time.sleep(0.5)
    assert conn.state is State.CONNECTED
    conn.shutdown()
