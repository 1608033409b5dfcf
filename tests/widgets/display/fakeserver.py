"""A scripted VNC server for display tests: the test plays the server on one end of a
socketpair while the code under test (driven by Qt's event loop) is the client on the
other. Server bytes come from tests.unit.core.rfb.server; what the client sends is parsed
back into messages here, so tests can assert on keys, pointer events and update requests.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass

import numpy as np

from app.core.rfb.des import vnc_auth_response
from app.core.rfb.protocol import Encoding
from tests.unit.core.rfb import server


@dataclass(frozen=True)
class Key:
    down: bool
    keysym: int
    scancode: int | None  # None for a plain RFB KeyEvent


@dataclass(frozen=True)
class Pointer:
    x: int
    y: int
    buttons: int


@dataclass(frozen=True)
class UpdateRequest:
    incremental: bool
    x: int
    y: int
    width: int
    height: int


@dataclass(frozen=True)
class DesktopSizeRequest:
    """A SetDesktopSize: the size the client asked the guest for."""

    width: int
    height: int
    screens: int


class FakeServer:
    """The server end of a socketpair. Never blocks the GUI thread: ``pump`` reads what
    arrived, and the test waits with qtbot for the client to do its part."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.sock.setblocking(False)
        self.buffer = bytearray()
        self.messages: list[object] = []
        self.stage = "version"
        self.password: str | None = None
        self.challenge = bytes(range(16))

    @classmethod
    def pair(cls) -> tuple[FakeServer, socket.socket]:
        a, b = socket.socketpair()
        return cls(b), a

    def close(self) -> None:
        self.sock.close()

    def peer_closed(self) -> bool:
        """Whether the client end was closed (reading it gives end-of-file)."""
        try:
            data = self.sock.recv(1 << 20, socket.MSG_PEEK)
        except BlockingIOError:
            return False
        except ConnectionResetError:
            return True
        return data == b""

    def send(self, data: bytes) -> None:
        self.sock.setblocking(True)
        try:
            self.sock.sendall(data)
        finally:
            self.sock.setblocking(False)

    # -- server side of the handshake ----------------------------------------------------
    def greet(self, width: int = 64, height: int = 48, password: str | None = None) -> None:
        """Send everything up to ServerInit (RFB 3.8); with a password, VNC auth first."""
        self.width, self.height = width, height
        self.password = password
        if password is None:
            self.send(server.handshake(width, height))
            self.stage = "client-init-none"
        else:
            self.send(server.greeting() + b"\x01\x02")
            self.stage = "client-version-auth"

    # -- reading the client ----------------------------------------------------------------
    def pump(self) -> list[object]:
        """Read and parse whatever the client sent; returns the new messages."""
        try:
            while True:
                data = self.sock.recv(1 << 20)
                if not data:
                    break
                self.buffer += data
        except BlockingIOError:
            pass
        new: list[object] = []
        while True:
            msg = self._parse_one()
            if msg is None:
                break
            if msg != "handshake":
                new.append(msg)
        self.messages += new
        return new

    def _take(self, n: int) -> bytes | None:
        if len(self.buffer) < n:
            return None
        out = bytes(self.buffer[:n])
        del self.buffer[:n]
        return out

    def _parse_one(self) -> object | None:
        b = self.buffer
        if self.stage == "client-init-none":
            # version (12), security type (1), ClientInit (1)
            if self._take(14) is None:
                return None
            self.stage = "normal"
            return "handshake"
        if self.stage == "client-version-auth":
            if self._take(13) is None:  # version + chosen security type
                return None
            self.send(self.challenge)
            self.stage = "auth-response"
            return "handshake"
        if self.stage == "auth-response":
            answer = self._take(16)
            if answer is None:
                return None
            ok = answer == vnc_auth_response(self.password or "", self.challenge)
            if ok:
                self.send(struct.pack(">I", 0))
                self.stage = "client-init-auth"
            else:
                self.send(struct.pack(">I", 1) + server.string(b"wrong password"))
                self.stage = "failed"
            return "handshake"
        if self.stage == "client-init-auth":
            if self._take(1) is None:
                return None
            self.send(server.server_init(self.width, self.height))
            self.stage = "normal"
            return "handshake"
        if self.stage != "normal" or not b:
            return None
        kind = b[0]
        if kind == 0:
            return "pixel-format" if self._take(20) else None
        if kind == 2:
            if len(b) < 4:
                return None
            n = struct.unpack_from(">H", b, 2)[0]
            raw = self._take(4 + 4 * n)
            return ("encodings", struct.unpack(f">{n}i", raw[4:])) if raw else None
        if kind == 3:
            raw = self._take(10)
            return UpdateRequest(*struct.unpack(">?HHHH", raw[1:])) if raw else None
        if kind == 4:
            raw = self._take(8)
            if raw is None:
                return None
            down, keysym = struct.unpack(">?2xI", raw[1:])
            return Key(down, keysym, None)
        if kind == 5:
            raw = self._take(6)
            if raw is None:
                return None
            buttons, x, y = struct.unpack(">BHH", raw[1:])
            return Pointer(x, y, buttons)
        if kind == 6:
            if len(b) < 8:
                return None
            n = struct.unpack_from(">I", b, 4)[0]
            raw = self._take(8 + n)
            return ("cut-text", raw[8:]) if raw else None
        if kind == 251:
            if len(b) < 8:
                return None
            n = b[6]
            raw = self._take(8 + 16 * n)
            if raw is None:
                return None
            width, height = struct.unpack_from(">HH", raw, 2)
            return DesktopSizeRequest(width, height, n)
        if kind == 255:
            raw = self._take(12)
            if raw is None:
                return None
            _, sub, down, keysym, code = struct.unpack(">BBHII", raw)
            assert sub == 0
            return Key(bool(down), keysym, code)
        raise AssertionError(f"unknown client message {kind}: {bytes(b[:16])!r}")

    def of(self, kind: type) -> list:
        self.pump()
        return [m for m in self.messages if isinstance(m, kind)]

    # -- server messages -------------------------------------------------------------------
    def update(self, *rects: bytes) -> None:
        self.send(server.update(*rects))

    def extended_desktop_size(self, width: int, height: int, reason: int = 0, status: int = 0):
        """An ExtendedDesktopSize rectangle with one screen: ``reason`` 0 is the server's
        own size (which also says it takes SetDesktopSize), 1 its answer to the client."""
        one = struct.pack(">B3x", 1) + struct.pack(">IHHHHI", 0, 0, 0, width, height, 0)
        self.update(
            server.pseudo(Encoding.EXTENDED_DESKTOP_SIZE, reason, status, width, height) + one
        )

    def raw(self, x: int, y: int, rgb: np.ndarray) -> None:
        self.update(server.raw_rect(x, y, rgb))

    def solid(self, x: int, y: int, w: int, h: int, colour: tuple[int, int, int]) -> None:
        rgb = np.zeros((h, w, 3), np.uint8)
        rgb[...] = colour
        self.raw(x, y, rgb)

    def extended_keys(self) -> None:
        self.update(server.pseudo(Encoding.QEMU_EXTENDED_KEY_EVENT))

    def pointer_mode(self, absolute: bool) -> None:
        self.update(server.pseudo(Encoding.QEMU_POINTER_MOTION_CHANGE, x=int(absolute)))

    def cursor(self, w: int, h: int, hot_x: int, hot_y: int, colour=(255, 0, 0)) -> None:
        rgb = np.zeros((h, w, 3), np.uint8)
        rgb[...] = colour
        mask = b"\xff" * (((w + 7) // 8) * h)
        self.update(server.pseudo(Encoding.CURSOR, hot_x, hot_y, w, h) + server.bgrx(rgb) + mask)

    def resize(self, w: int, h: int) -> None:
        self.width, self.height = w, h
        self.update(server.pseudo(Encoding.DESKTOP_SIZE, 0, 0, w, h))
