""" "This computer" for tests: probing finds no daemon, whatever runs on the machine, so
tests always get the embedded driver on the session's root and never touch a real
daemon's VMs."""

from __future__ import annotations

from app.core import uris
from app.core.connection import Connection, ConnectionSpec


def no_daemon_prober() -> uris.LocalFacts:
    return uris.LocalFacts(
        is_root=False,
        system_socket=None,
        system_writable=False,
        session_socket=None,
        embed_root=uris.embed_root(),
    )


def connection_for_tests(spec: ConnectionSpec) -> Connection:
    """A connection factory for ConnectionHub and Nido in tests."""
    return Connection(spec, local_prober=no_daemon_prober)
