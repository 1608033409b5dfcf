"""Blocking waits for scripts and tests that drive app.core without a Qt event loop."""

from __future__ import annotations

import time

from app.core.connection import Connection, State


def wait_connected(conn: Connection, timeout: float) -> bool:
    """Block until `conn` is connected; False on timeout."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if conn.state is State.CONNECTED:
            return True
        time.sleep(0.02)
    return conn.state is State.CONNECTED
