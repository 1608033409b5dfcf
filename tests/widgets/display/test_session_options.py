"""A VNC session asks for what suits its socket: Raw locally, compression over a network."""

from __future__ import annotations

import socket

import pytest

from app.qt.display import controller
from app.qt.display.opener import DisplayEndpoint
from app.qt.display.vnc import COMPRESSED_ENCODINGS, LOCAL_ENCODINGS


@pytest.mark.parametrize(
    ("remote", "expected"), [(False, LOCAL_ENCODINGS), (True, COMPRESSED_ENCODINGS)]
)
def test_encodings_follow_where_the_socket_leads(qtbot, remote: bool, expected) -> None:
    ours, theirs = socket.socketpair()
    try:
        session = controller.SESSION_FACTORIES["vnc"](
            DisplayEndpoint("vnc", ours, remote=remote), "secret"
        )
        try:
            options = session.client.options
            assert list(options.encodings) == list(expected)
            assert options.password == "secret"
        finally:
            session.close()
    finally:
        theirs.close()
