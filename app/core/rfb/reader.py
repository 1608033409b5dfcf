"""Feeding a byte stream, split anywhere, into a parser written as a generator.

The parser is a generator that yields what it needs and is sent the bytes:

- ``yield n`` (an int): exactly ``n`` bytes;
- ``yield (most, unit)``: between ``unit`` and ``most`` bytes, a multiple of ``unit``
  (``most`` must be a multiple of ``unit``) — as much as is at hand. Big payloads (Raw
  rows, zlib data, text to skip) are read this way, so they stream through without being
  buffered whole;
- ``yield PAUSE``: stop until :meth:`Feeder.resume` is called with a value (the password).

What it is sent is ``bytes`` or a ``memoryview`` over immutable ``bytes`` (a zero-copy
slice of the data given to :meth:`Feeder.feed`); it stays valid for as long as it is held.
The feeder itself only ever buffers less than the minimum of the request it is waiting on,
so what a server sends never piles up here.
"""

from __future__ import annotations

import struct
from collections.abc import Generator
from typing import Any, Final

from app.core.rfb.protocol import ProtocolViolation

Chunk = bytes | memoryview
Request = Any  # int | tuple[int, int] | the PAUSE sentinel
Parser = Generator[Request, Any, Any]

PAUSE: Final = object()
#: The most a paused feeder keeps (a server has no business sending data while the client
#: is waiting for the person to type a password).
MAX_PAUSED_BYTES = 64 * 1024
#: The most bytes handed over for one streamed request.
STREAM_CHUNK = 1 << 20

_U32 = struct.Struct(">I")


class Feeder:
    """Drives a parser generator with data as it arrives."""

    def __init__(self, parser: Parser) -> None:
        self._parser = parser
        self._buf = bytearray()
        self._request: Request = next(parser)

    @property
    def paused(self) -> bool:
        return self._request is PAUSE

    def resume(self, value: object) -> None:
        """Answer a ``PAUSE`` and go on with what arrived meanwhile."""
        if self._request is not PAUSE:
            raise RuntimeError("the parser is not paused")
        self._request = self._parser.send(value)
        pending = bytes(self._buf)
        self._buf.clear()
        if pending:
            self.feed(pending)

    def take_held(self) -> bytes:
        """Hand over the start of the request waited on, buffered here for want of the
        rest; whoever takes it answers the request with :meth:`send_direct`."""
        if self._request is PAUSE:
            raise RuntimeError("the parser is paused")
        held = bytes(self._buf)
        self._buf.clear()
        return held

    def send_direct(self, value: object) -> None:
        """Answer the streamed request waited on with ``value`` instead of bytes: the
        caller put those bytes where the parser wants them itself (see
        :meth:`RFBClient.raw_rows_done <app.core.rfb.client.RFBClient.raw_rows_done>`).
        Only at a request boundary: nothing of the request may be buffered here."""
        if self._buf or type(self._request) is not tuple:
            raise RuntimeError("the parser is not waiting for a streamed request")
        self._request = self._parser.send(value)

    def feed(self, data: bytes) -> None:
        """Run the parser over ``data``; exceptions from the parser propagate."""
        req = self._request
        buf = self._buf
        if req is PAUSE:
            if len(buf) + len(data) > MAX_PAUSED_BYTES:
                raise ProtocolViolation("the server sent data while authentication waited")
            buf += data
            return
        mv = memoryview(data)
        off = 0
        end = len(mv)
        send = self._parser.send
        try:
            while True:
                if type(req) is int:
                    need = req
                    unit = 0
                elif req is PAUSE:
                    if end - off > MAX_PAUSED_BYTES:
                        raise ProtocolViolation("the server sent data while authentication waited")
                    buf += mv[off:end]
                    return
                else:
                    most, unit = req
                    need = unit
                if buf:
                    take = min(need - len(buf), end - off)
                    buf += mv[off : off + take]
                    off += take
                    if len(buf) < need:
                        return
                    chunk: Chunk = bytes(buf)
                    buf.clear()
                else:
                    avail = end - off
                    if avail < need:
                        if avail:
                            buf += mv[off:end]
                        return
                    if unit == 0:
                        chunk = mv[off : off + need]
                        off += need
                    else:
                        k = min(avail, most)
                        k -= k % unit
                        chunk = mv[off : off + k]
                        off += k
                req = send(chunk)
        finally:
            self._request = req


# --- Small parser building blocks (use with ``yield from``) ------------------------------


def read_u8() -> Parser:
    data = yield 1
    return data[0]


def read_u32() -> Parser:
    data = yield 4
    return _U32.unpack(data)[0]


def skip(count: int) -> Parser:
    """Read and drop ``count`` bytes, streaming."""
    while count > 0:
        chunk = yield (min(count, STREAM_CHUNK), 1)
        count -= len(chunk)


def read_streamed(count: int) -> Parser:
    """Read ``count`` bytes into one ``bytes``, streaming into a growing buffer, so a
    server that announces a size and never sends it costs only what it did send."""
    if count <= STREAM_CHUNK:
        data = yield count
        return bytes(data)
    out = bytearray()
    while len(out) < count:
        out += yield (min(count - len(out), STREAM_CHUNK), 1)
    return bytes(out)


def read_string(max_keep: int) -> Parser:
    """A U32 length and that many bytes; keeps at most ``max_keep`` of them.

    Returns ``(kept_bytes, truncated)``."""
    length = yield from read_u32()
    keep = min(length, max_keep)
    data = (yield from read_streamed(keep)) if keep else b""
    yield from skip(length - keep)
    return data, length > keep
