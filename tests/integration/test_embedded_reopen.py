""" "This computer" on the embedded driver can be reopened any number of times.

libvirt 9.0 registers the QEMU driver again on every embedded open and has room for about
16 (then "Too many drivers, cannot register QEMU"), so a process that opened anew on each
reconnect locked itself out. Nido keeps one embedded connection per process
(app.core.embedded.open_shared).

Sharing it means several users of one virConnect at once (two connections, or one being
replaced by its successor), and libvirt takes only one event registration per event id on a
connection: the events are registered once and fanned out (app.core.domain_events)."""

from __future__ import annotations

import threading
import time

import pytest

from app.core import uris
from app.core.connection import ConnectionSpec, State
from app.core.embedded import is_shared
from tests.guest import accelerator, domain_xml, linux_guest
from tests.guest.libvirt_env import embedded_connection
from tests.support.local import connection_for_tests
from tests.support.waiting import wait_connected

pytestmark = pytest.mark.integration

REOPENS = 24  # well past libvirt's room for re-registered drivers


def _wait_state(conn, state: State, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end and conn.state is not state:
        time.sleep(0.02)
    return conn.state is state


def test_this_computer_reconnects_far_more_often_than_libvirt_has_driver_slots() -> None:
    seen = set()
    conn = connection_for_tests(ConnectionSpec(kind=uris.Kind.LOCAL))
    try:
        for i in range(REOPENS):
            conn.connect()
            assert wait_connected(conn, 90), f"open {i + 1}: {conn.reason} {conn.details}"
            assert uris.is_embed_uri(conn.uri or "")
            virconn = conn.virconn
            assert is_shared(virconn)
            assert virconn.getLibVersion() > 0  # usable, not just present
            seen.add(id(virconn))
            conn.disconnect()
            assert _wait_state(conn, State.DISCONNECTED, 10)
    finally:
        conn.shutdown()
    assert len(seen) == 1, "each reconnect opened the embedded driver anew"
    with embedded_connection() as again:  # the tests' helper shares it too
        assert id(again) in seen


class Heard:
    """A connection listener that keeps the UUIDs of the domains it heard of."""

    def __init__(self) -> None:
        self.uuids: set[str] = set()
        self.cond = threading.Condition()

    def connection_changed(self, _conn) -> None:
        pass

    def domain_event(self, _conn, uuid: str, _event: int, _detail: int) -> None:
        with self.cond:
            self.uuids.add(uuid)
            self.cond.notify_all()

    def heard(self, uuid: str, timeout: float = 10.0) -> bool:
        with self.cond:
            return self.cond.wait_for(lambda: uuid in self.uuids, timeout)


def test_two_connections_to_this_computer_at_once_both_follow_events() -> None:
    """Before the fan-out, the second one failed "event callback already tracked" and
    retried for ever; a quick disconnect and reconnect could do the same to one."""
    conns = [connection_for_tests(ConnectionSpec(kind=uris.Kind.LOCAL)) for _ in range(2)]
    heard = [Heard(), Heard()]
    try:
        for conn, listener in zip(conns, heard, strict=True):
            conn.add_listener(listener)
            conn.connect()
        for conn in conns:
            assert wait_connected(conn, 90), f"{conn.reason} {conn.details}"
        assert conns[0].virconn is conns[1].virconn
        virconn = conns[0].virconn
        dom = virconn.defineXML(domain_xml("nido-it-events-a", linux_guest(), accelerator()))
        assert heard[0].heard(dom.UUIDString()) and heard[1].heard(dom.UUIDString())
        dom.undefine()

        conns[0].disconnect()  # and straight back: its old subscription may still be going
        conns[0].connect()
        assert wait_connected(conns[0], 30), f"{conns[0].reason} {conns[0].details}"
        conns[1].shutdown()  # the other one leaving takes nothing from the first
        dom = virconn.defineXML(domain_xml("nido-it-events-b", linux_guest(), accelerator()))
        assert heard[0].heard(dom.UUIDString())
        dom.undefine()
    finally:
        for conn in conns:
            conn.shutdown()
