"""A blocking driver for RFBClient over a real socket, for recording sessions and for the
integration tests: run the client until a condition holds, keeping every byte the server
sent (and the client sent), so a session can be saved and replayed.
"""

from __future__ import annotations

import select
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from app.core.rfb import Framebuffer, RFBClient, RFBOptions, events


@dataclass
class Session:
    sock: socket.socket
    client: RFBClient
    fb: Framebuffer = field(default_factory=Framebuffer)
    received: bytearray = field(default_factory=bytearray)
    sent: bytearray = field(default_factory=bytearray)
    events: list[events.Event] = field(default_factory=list)
    updates: int = 0
    #: Decodes a JPEG rectangle into (B, G, R, X pixels, stride); without one (core has no
    #: JPEG decoder) JPEG rectangles are left unpainted.
    jpeg_decoder: Callable[[events.JpegRect], tuple[bytes, int]] | None = None
    jpegs: int = 0

    @classmethod
    def connect_unix(cls, path: str, options: RFBOptions) -> Session:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(path)
        return cls(s, RFBClient(options))

    @classmethod
    def connect_tcp(cls, host: str, port: int, options: RFBOptions) -> Session:
        return cls(socket.create_connection((host, port)), RFBClient(options))

    def flush(self) -> None:
        out = self.client.data_to_send()
        if out:
            self.sent += out
            self.sock.sendall(out)

    def pump(self, until: Callable[[Session], bool], timeout: float = 10.0) -> bool:
        """Exchange data until ``until(self)`` or the timeout; True if the condition held."""
        deadline = time.monotonic() + timeout
        while True:
            self.flush()
            if until(self):
                return True
            if self.client.closed:
                return False
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            ready, _, _ = select.select([self.sock], [], [], min(left, 0.2))
            if not ready:
                continue
            data = self.sock.recv(1 << 20)
            if not data:
                return False
            self.received += data
            for ev in self.client.receive_data(data):
                self.events.append(ev)
                if isinstance(ev, events.ServerInit):
                    self.fb.resize(ev.width, ev.height)
                elif isinstance(ev, events.UpdateEnd):
                    self.updates += 1
                elif isinstance(ev, events.JpegRect):
                    self.jpegs += 1
                    if self.jpeg_decoder is not None:
                        pixels, stride = self.jpeg_decoder(ev)
                        self.fb.put_pixels(ev.x, ev.y, ev.width, ev.height, pixels, stride)
                else:
                    self.fb.apply(ev)

    def close(self) -> None:
        self.sock.close()
