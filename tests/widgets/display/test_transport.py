"""The socket transport on the GUI thread's event loop: what arrives reaches the protocol
intact, in order and still valid after later reads; both ways of ending are told; writes
the peer does not take wait, and a peer that never reads is dropped."""

from __future__ import annotations

import os
import socket

import pytest

from app.qt.display import transport as transport_module
from app.qt.display.transport import SocketTransport


class Recorder:
    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.lost: list[str | None] = []

    def data_received(self, data: bytes) -> None:
        self.chunks.append(data)

    def connection_lost(self, reason: str | None) -> None:
        self.lost.append(reason)


@pytest.fixture
def pair(qtbot):
    mine, theirs = socket.socketpair()
    recorder = Recorder()
    transport = SocketTransport(mine, recorder)
    yield transport, recorder, theirs
    transport.close()
    theirs.close()
    transport.deleteLater()


def test_data_arrives_intact_and_stays_valid(qtbot, pair) -> None:
    transport, recorder, peer = pair
    payload = os.urandom(3 * transport_module.READ_CHUNK + 12345)
    peer.setblocking(False)
    sent = 0
    # More than the socket buffer holds: the peer writes as the transport reads.
    while sent < len(payload):
        try:
            sent += peer.send(payload[sent : sent + 65536])
        except BlockingIOError:
            qtbot.wait(5)
    qtbot.waitUntil(lambda: transport.bytes_received == len(payload), timeout=5000)
    assert len(recorder.chunks) > 1
    assert all(type(c) is bytes for c in recorder.chunks)
    assert b"".join(recorder.chunks) == payload  # earlier chunks were not overwritten


def test_peer_close_and_own_close_are_told(qtbot, pair) -> None:
    transport, recorder, peer = pair
    peer.close()
    qtbot.waitUntil(lambda: bool(recorder.lost), timeout=2000)
    assert recorder.lost == ["the display server closed the connection"]
    assert not transport.is_open

    mine, theirs = socket.socketpair()
    own = Recorder()
    t = SocketTransport(mine, own)
    t.close()
    assert own.lost == [None]
    assert theirs.recv(10) == b""  # the descriptor really was closed
    theirs.close()
    t.deleteLater()


def test_writes_wait_for_a_slow_peer_and_a_stuck_one_is_dropped(qtbot, pair, monkeypatch) -> None:
    transport, recorder, peer = pair
    block = os.urandom(256 * 1024)
    for _ in range(8):  # far more than the socket buffer
        transport.send(block)
    assert transport.bytes_sent < 8 * len(block)  # the rest waits in the transport
    got = bytearray()
    peer.setblocking(False)

    def drain() -> bool:
        try:
            while True:
                data = peer.recv(1 << 20)
                if not data:
                    break
                got.extend(data)
        except BlockingIOError:
            pass
        return len(got) == 8 * len(block)

    qtbot.waitUntil(drain, timeout=5000)
    assert bytes(got) == block * 8
    assert recorder.lost == []

    monkeypatch.setattr(transport_module, "MAX_PENDING_WRITE", 1 << 20)
    for _ in range(16):
        transport.send(block)
        if not transport.is_open:
            break
    assert recorder.lost == ["the display server stopped reading"]


class BufferedRecorder(Recorder):
    """Offers buffers of its own for some reads, as VncSession does for Raw pixels."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size
        self.buffer = bytearray(size)
        self.filled = 0
        self.offers = 0

    def get_buffer(self) -> memoryview | None:
        self.offers += 1
        if self.offers % 3 == 0 or self.filled == self.size:
            return None  # now and then: parse this read
        return memoryview(self.buffer)[self.filled :]

    def buffer_updated(self, nbytes: int) -> None:
        self.chunks.append(bytes(self.buffer[self.filled : self.filled + nbytes]))
        self.filled += nbytes
        if self.filled == self.size:
            self.filled = 0


def test_a_protocol_buffer_takes_reads_in_order(qtbot) -> None:
    mine, peer = socket.socketpair()
    recorder = BufferedRecorder(100_000)
    transport = SocketTransport(mine, recorder)
    payload = os.urandom(2 * transport_module.READ_CHUNK + 777)
    peer.setblocking(False)
    sent = 0
    while sent < len(payload):
        try:
            sent += peer.send(payload[sent : sent + 50_000])
        except BlockingIOError:
            qtbot.wait(5)
    qtbot.waitUntil(lambda: transport.bytes_received == len(payload), timeout=5000)
    assert b"".join(recorder.chunks) == payload
    assert recorder.offers > 3
    transport.close()
    peer.close()
    transport.deleteLater()


class OneBufferRecorder(Recorder):
    """Takes its first ``size`` bytes into a buffer of its own, and parses the rest."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.buffer = bytearray(size)
        self.filled = 0

    def get_buffer(self) -> memoryview | None:
        if self.filled == len(self.buffer):
            return None
        return memoryview(self.buffer)[self.filled :]

    def buffer_updated(self, nbytes: int) -> None:
        self.filled += nbytes


def test_the_read_after_a_buffered_one_is_small_and_then_reads_grow(qtbot) -> None:
    # What follows Raw rows read into the framebuffer is most often the next rectangle's
    # header and then more rows for the buffer: a small read, not a megabyte parsed. Past
    # it, reads are large again (a compressed update is parsed, however long).
    mine, peer = socket.socketpair()
    recorder = OneBufferRecorder(10_000)
    transport = SocketTransport(mine, recorder)
    payload = os.urandom(10_000 + 400_000)
    peer.sendall(payload[:10_000])
    qtbot.waitUntil(lambda: recorder.filled == 10_000, timeout=5000)
    peer.setblocking(False)
    sent = 10_000
    while sent < len(payload):
        try:
            sent += peer.send(payload[sent:])
        except BlockingIOError:
            qtbot.wait(5)
    qtbot.waitUntil(lambda: sum(map(len, recorder.chunks)) == 400_000, timeout=5000)
    assert bytes(recorder.buffer) + b"".join(recorder.chunks) == payload
    sizes = [len(c) for c in recorder.chunks]
    assert sizes[0] == transport_module.READ_AFTER_BUFFER
    assert max(sizes[1:]) > transport_module.READ_AFTER_BUFFER, sizes
    transport.close()
    peer.close()
    transport.deleteLater()
