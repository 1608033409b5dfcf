"""Non-blocking socket I/O on the GUI thread, for display protocols.

A :class:`SocketTransport` takes a connected stream socket — the one libvirt's
``virDomainOpenGraphicsFD`` returns, a TCP connection, or an SSH tunnel's end of a socket
pair (:mod:`.tunnel`), each opened on a worker — and drives it from Qt's event loop with
:class:`QSocketNotifier`, in the style of asyncio's transports and protocols: the
protocol object is told ``data_received(bytes)`` and ``connection_lost(reason)``, and
calls ``send(bytes)``.

Reads are large (:data:`READ_CHUNK`, 1 MiB): the RFB parser costs about four times less
per byte fed 1 MiB than 64 KiB at a time. They go into one buffer kept for the transport's
life, and only what came is copied out for the protocol: ``recv(1 MiB)`` would allocate
1 MiB afresh each time, which glibc maps anew above its mmap threshold, and a 1080p frame
then cost some 700 page faults (a quarter of the display's CPU). One wake-up reads until
the socket is empty or :data:`READ_BUDGET` bytes came, so a fast server cannot starve the
rest of the GUI. Writes go out at once; what the kernel does not take waits for a write
notifier.

A protocol may also offer a buffer of its own to read into, as asyncio's buffered
protocols do (:class:`BufferedStreamProtocol`): while it returns one from
``get_buffer()``, the bytes go straight there and the protocol hears
``buffer_updated(nbytes)``, with no copy and no ``bytes`` object. VNC reads Raw pixels
into its framebuffer this way. The first read to parse after such reads is small
(:data:`READ_AFTER_BUFFER`): what follows a Raw rectangle is most often the next one's
header and then its rows, which should go straight into the buffer too, not a megabyte
of them through the parser.
"""

from __future__ import annotations

import errno
import logging
import socket
from typing import Protocol

from PySide6.QtCore import QObject, QSocketNotifier

log = logging.getLogger(__name__)

#: Bytes asked of the kernel per recv().
READ_CHUNK = 1 << 20
#: Bytes asked of the kernel by the first read to parse after reads into the protocol's
#: own buffer: room for the next rectangle's header, and little of its pixels.
READ_AFTER_BUFFER = 4 << 10
#: Bytes read per wake-up before the event loop gets a turn again.
READ_BUDGET = 16 << 20
#: Refuse to queue more than this for a server that stopped reading (a stuck peer).
MAX_PENDING_WRITE = 8 << 20


class StreamProtocol(Protocol):
    def data_received(self, data: bytes) -> None: ...

    def connection_lost(self, reason: str | None) -> None:
        """``reason`` is None when this side closed the transport."""


class BufferedStreamProtocol(StreamProtocol, Protocol):
    def get_buffer(self) -> memoryview | None:
        """A writable buffer for the next read, or None to be given ``data_received``."""

    def buffer_updated(self, nbytes: int) -> None:
        """``nbytes`` bytes were read into the start of the last ``get_buffer()``."""


class SocketTransport(QObject):
    """A connected stream socket driven by the GUI thread's event loop."""

    def __init__(
        self, sock: socket.socket, protocol: StreamProtocol, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        sock.setblocking(False)
        self._sock: socket.socket | None = sock
        self._protocol = protocol
        self._get_buffer = getattr(protocol, "get_buffer", None)
        self._pending = bytearray()
        self._rbuf = bytearray(READ_CHUNK)
        self._rview = memoryview(self._rbuf)
        #: The next read to parse is small: the last read went into the protocol's buffer.
        self._after_buffer = False
        self.bytes_received = 0
        self.bytes_sent = 0
        fd = sock.fileno()
        self._read_notifier = QSocketNotifier(fd, QSocketNotifier.Type.Read, self)
        self._read_notifier.activated.connect(self._readable)
        self._write_notifier = QSocketNotifier(fd, QSocketNotifier.Type.Write, self)
        self._write_notifier.setEnabled(False)
        self._write_notifier.activated.connect(self._writable)

    @property
    def is_open(self) -> bool:
        return self._sock is not None

    def send(self, data: bytes) -> None:
        """Send now as much as the socket takes; queue the rest."""
        if not data or self._sock is None:
            return
        if self._pending:
            self._pending += data
        else:
            try:
                sent = self._sock.send(data)
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError as e:
                self._lost(_describe(e))
                return
            self.bytes_sent += sent
            if sent == len(data):
                return
            self._pending += memoryview(data)[sent:]
        if len(self._pending) > MAX_PENDING_WRITE:
            self._lost("the display server stopped reading")
            return
        self._write_notifier.setEnabled(True)

    def close(self) -> None:
        """Close from this side; the protocol hears ``connection_lost(None)``."""
        self._shut(None)

    # -- event loop ------------------------------------------------------------------------
    def _readable(self) -> None:
        # No parameters: PySide then skips converting the signal's descriptor and type
        # for every wake-up (a 1080p Raw frame takes some 36).
        got = 0
        while self._sock is not None and got < READ_BUDGET:
            target = self._get_buffer() if self._get_buffer is not None else None
            if target is not None:
                size = len(target)
                n = self._read_into(target)
                if n is None:
                    return
                got += n
                self._after_buffer = True
                self._protocol.buffer_updated(n)  # type: ignore[attr-defined]
                if n < size:
                    return  # drained (see below)
                continue
            size = READ_AFTER_BUFFER if self._after_buffer else READ_CHUNK
            try:
                n = self._sock.recv_into(self._rview[:size])
            except (BlockingIOError, InterruptedError):
                return
            except OSError as e:
                self._lost(_describe(e))
                return
            if not n:
                self._lost("the display server closed the connection")
                return
            got += n
            self.bytes_received += n
            self._after_buffer = False
            # A copy: the protocol may keep views of what it is given (the parser hands out
            # zero-copy slices), and the buffer is about to be read into again.
            self._protocol.data_received(bytes(self._rview[:n]))
            if n < size:
                # The socket is drained: no second recv() just to hear EAGAIN. The notifier
                # is level-triggered, so what arrives meanwhile wakes us again.
                return

    def _read_into(self, target: memoryview) -> int | None:
        """One read into the protocol's buffer: the count, or None when nothing came (or
        the connection ended, which the protocol has been told)."""
        try:
            n = self._sock.recv_into(target)  # type: ignore[union-attr]
        except (BlockingIOError, InterruptedError):
            return None
        except OSError as e:
            self._lost(_describe(e))
            return None
        finally:
            target.release()
        if not n:
            self._lost("the display server closed the connection")
            return None
        self.bytes_received += n
        return n

    def _writable(self, *_args: object) -> None:
        if self._sock is None:
            return
        try:
            sent = self._sock.send(self._pending)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as e:
            self._lost(_describe(e))
            return
        self.bytes_sent += sent
        del self._pending[:sent]
        if not self._pending:
            self._write_notifier.setEnabled(False)

    def _lost(self, reason: str) -> None:
        log.info("display connection lost: %s", reason)
        self._shut(reason)

    def _shut(self, reason: str | None) -> None:
        sock, self._sock = self._sock, None
        if sock is None:
            return
        # The notifiers go before the descriptor: a notifier on a closed (and maybe
        # reused) descriptor would fire for someone else's socket.
        for n in (self._read_notifier, self._write_notifier):
            n.setEnabled(False)
            n.deleteLater()
        self._pending.clear()
        sock.close()
        self._protocol.connection_lost(reason)


def _describe(e: OSError) -> str:
    if e.errno in (errno.ECONNRESET, errno.EPIPE):
        return "the display server dropped the connection"
    return f"the connection failed ({e.strerror or e})"
