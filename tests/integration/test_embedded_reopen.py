""" "This computer" on the embedded driver can be reopened any number of times.

libvirt 9.0 registers the QEMU driver again on every embedded open and has room for about
16 (then "Too many drivers, cannot register QEMU"), so a process that opened anew on each
reconnect locked itself out. Nido keeps one embedded connection per process
(app.core.embedded.open_shared)."""

from __future__ import annotations

import time

import pytest

from app.core import uris
from app.core.connection import ConnectionSpec, State
from app.core.embedded import is_shared
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
