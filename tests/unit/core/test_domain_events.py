"""Domain events fanned out from one registration per connection (libvirt takes only one
per event id and connection: the embedded connection is shared by the whole process)."""

from __future__ import annotations

import threading
import uuid as uuidlib

import libvirt
import pytest

from app.core import domain_events
from app.core.events import ensure_event_loop


class Seen:
    def __init__(self) -> None:
        self.events: list[tuple[str, int, int]] = []
        self.cond = threading.Condition()

    def __call__(self, uuid: str, event: int, detail: int) -> None:
        with self.cond:
            self.events.append((uuid, event, detail))
            self.cond.notify_all()

    def wait_for(self, uuid: str, event: int, timeout: float = 10.0) -> bool:
        with self.cond:
            return self.cond.wait_for(
                lambda: any(u == uuid and e == event for u, e, _ in self.events), timeout
            )


@pytest.fixture
def conn():
    ensure_event_loop()
    c = libvirt.open("test:///default")
    yield c
    c.close()


def define(conn: libvirt.virConnect) -> libvirt.virDomain:
    xml = (
        f"<domain type='test'><name>ev-{uuidlib.uuid4().hex[:8]}</name>"
        "<memory>65536</memory><os><type>hvm</type></os></domain>"
    )
    return conn.defineXML(xml)


def test_libvirt_itself_refuses_a_second_registration(conn) -> None:
    """The fact this module exists for: if libvirt ever lifts it, this tells us."""
    first = conn.domainEventRegisterAny(None, 0, lambda *a: None, None)
    try:
        with pytest.raises(libvirt.libvirtError, match="already tracked"):
            conn.domainEventRegisterAny(None, 0, lambda *a: None, None)
    finally:
        conn.domainEventDeregisterAny(first)


def test_two_subscribers_on_one_connection_both_hear_every_event(conn) -> None:
    a, b = Seen(), Seen()
    sub_a = domain_events.subscribe(conn, a)
    sub_b = domain_events.subscribe(conn, b)
    try:
        assert domain_events.subscribers(conn) == 2
        dom = define(conn)
        defined = libvirt.VIR_DOMAIN_EVENT_DEFINED
        assert a.wait_for(dom.UUIDString(), defined) and b.wait_for(dom.UUIDString(), defined)
        dom.setMetadata(
            libvirt.VIR_DOMAIN_METADATA_DESCRIPTION, "hello", None, None, 0
        )  # a non-lifecycle event, told as a negative kind
        kind = domain_events.kind_of(libvirt.VIR_DOMAIN_EVENT_ID_METADATA_CHANGE)
        assert kind < 0 and a.wait_for(dom.UUIDString(), kind)
        dom.undefine()
    finally:
        domain_events.unsubscribe(sub_a)
        domain_events.unsubscribe(sub_b)


def test_one_leaving_keeps_the_other_and_the_last_one_out_deregisters(conn) -> None:
    a, b = Seen(), Seen()
    sub_a = domain_events.subscribe(conn, a)
    sub_b = domain_events.subscribe(conn, b)
    domain_events.unsubscribe(sub_a)
    domain_events.unsubscribe(sub_a)  # twice is harmless
    dom = define(conn)
    assert b.wait_for(dom.UUIDString(), libvirt.VIR_DOMAIN_EVENT_DEFINED)
    assert not a.wait_for(dom.UUIDString(), libvirt.VIR_DOMAIN_EVENT_DEFINED, 0.2)
    domain_events.unsubscribe(sub_b)
    assert domain_events.subscribers(conn) == 0
    # Nothing is left registered: libvirt takes a registration of its own again.
    for event_id in domain_events.EVENT_IDS:
        conn.domainEventDeregisterAny(conn.domainEventRegisterAny(None, event_id, print, None))
    dom.undefine()


def test_a_refused_registration_leaves_nothing_half_made(conn) -> None:
    """One event id taken by someone else: subscribing fails, and the ids it did register
    are taken back, so it works once the other registration is gone."""
    blocker = conn.domainEventRegisterAny(
        None, libvirt.VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED, lambda *a: None, None
    )
    with pytest.raises(libvirt.libvirtError):
        domain_events.subscribe(conn, Seen())
    assert domain_events.subscribers(conn) == 0
    first = conn.domainEventRegisterAny(  # the lifecycle id was taken back
        None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, lambda *a: None, None
    )
    conn.domainEventDeregisterAny(first)
    conn.domainEventDeregisterAny(blocker)
    seen = Seen()
    sub = domain_events.subscribe(conn, seen)
    dom = define(conn)
    assert seen.wait_for(dom.UUIDString(), libvirt.VIR_DOMAIN_EVENT_DEFINED)
    domain_events.unsubscribe(sub)
    dom.undefine()


def test_a_failing_handler_does_not_starve_the_others(conn, caplog) -> None:
    def broken(*_args) -> None:
        raise RuntimeError("boom")

    seen = Seen()
    subs = [domain_events.subscribe(conn, broken), domain_events.subscribe(conn, seen)]
    dom = define(conn)
    assert seen.wait_for(dom.UUIDString(), libvirt.VIR_DOMAIN_EVENT_DEFINED)
    assert "domain event handler failed" in caplog.text
    for sub in subs:
        domain_events.unsubscribe(sub)
    dom.undefine()
