"""Bounded zlib streams: the persistent zlib streams of the Zlib, Tight and ZRLE encodings,
fed compressed bytes as they arrive, never producing more than the rectangle can need.

A zlib bomb (a few bytes that inflate to gigabytes) is stopped at the rectangle's bound:
``decompress`` is always called with ``max_length``, and any output past the bound closes
the connection.
"""

from __future__ import annotations

import zlib

from app.core.rfb.protocol import ProtocolViolation
from app.core.rfb.reader import STREAM_CHUNK, Chunk, Parser


class ZlibStream:
    """One persistent zlib stream (created on first use, reset on request)."""

    __slots__ = ("_d",)

    def __init__(self) -> None:
        self._d: zlib._Decompress | None = None

    def reset(self) -> None:
        self._d = None

    def _inflate_into(self, data: Chunk, out: bytearray, limit: int) -> None:
        d = self._d
        if d is None:
            d = self._d = zlib.decompressobj()
        while data:
            room = limit - len(out)
            try:
                piece = d.decompress(data, room if room > 0 else 1)
            except zlib.error as e:
                raise ProtocolViolation(f"bad zlib data: {e}") from None
            if len(piece) > room:
                raise ProtocolViolation("zlib data inflates to more than the rectangle can hold")
            out += piece
            if d.eof:
                raise ProtocolViolation("the server ended a zlib stream that must go on")
            data = d.unconsumed_tail

    def inflate(self, length: int, limit: int) -> Parser:
        """Read ``length`` compressed bytes from the wire (streaming) and return what they
        inflate to, at most ``limit`` bytes, as a ``bytearray``."""
        out = bytearray()
        remaining = length
        while remaining > 0:
            chunk = yield (min(remaining, STREAM_CHUNK), 1)
            remaining -= len(chunk)
            self._inflate_into(chunk, out, limit)
        return out

    def inflate_exact(self, length: int, size: int) -> Parser:
        """Like :meth:`inflate`, and the output must be exactly ``size`` bytes."""
        out = yield from self.inflate(length, size)
        if len(out) != size:
            raise ProtocolViolation(
                f"zlib data inflated to {len(out)} bytes where the rectangle needs {size}"
            )
        return out
