"""Decode-and-draw throughput of the RFB client at 1920x1080, per encoding, against a plain
NumPy copy of the same bytes (the physical ceiling). Not a test:

    .venv/bin/python -m tests.bench.rfb_decode     (or: python -m tests.bench rfb)

Each row feeds one full-screen FramebufferUpdate, as a server would send it, to a fresh
client in 1 MiB reads (split before timing, as a socket would deliver them) and applies
every event to a Framebuffer; a last row feeds Raw as the app's transport does, its rows
read straight into the framebuffer (app.core.rfb.direct). Server-side encoding
happens before timing. "desktop" is the test Linux guest's real screen (text, colour bars,
a grey ramp; from a recording); "photo" is smooth gradients with noise, where palettes
and runs do not help.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from app.core.rfb import Framebuffer, RFBClient, RFBOptions, events
from app.core.rfb.direct import RawReader
from tests.unit.core.rfb import server
from tests.unit.core.rfb.conftest import Screen, options_for, recording

W, H = 1920, 1080
FRAME_BYTES = W * H * 4
#: Bytes a transport read hands over at once. Reads this size keep Raw near the ceiling;
#: 64 KiB reads cost about four times as much per frame (more, smaller events).
READ = 1024 * 1024
#: SocketTransport's first read to parse after reads into a protocol's buffer
#: (app.qt.display.transport.READ_AFTER_BUFFER; not imported: this bench runs without Qt).
READ_AFTER_BUFFER = 4 * 1024


def desktop_image() -> np.ndarray:
    name = "qemu-linux-zrle"
    client = RFBClient(options_for(name))
    screen = Screen()
    screen.feed(client.receive_data(recording(name)))
    assert (screen.fb.width, screen.fb.height) == (W, H)
    return screen.rgb().copy()


def photo_image() -> np.ndarray:
    yy, xx = np.mgrid[0:H, 0:W]
    img = np.stack([xx * 255 // W, yy * 255 // H, (xx + yy) % 256], -1).astype(np.uint8)
    rng = np.random.default_rng(0)
    img = img ^ (rng.integers(0, 8, img.shape, np.uint8))  # sensor-like noise
    return img


def _bands(img: np.ndarray, rows: int) -> list[tuple[int, np.ndarray]]:
    return [(y, img[y : y + rows]) for y in range(0, H, rows)]


def tight_basic(img: np.ndarray, filt: str) -> bytes:
    t = server.TightEncoder()
    rects = []
    for y, band in _bands(img, 32):
        if filt == "gradient":
            rects.append(t.gradient(0, y, band))
        elif filt == "palette":
            colours, idx = np.unique(band.reshape(-1, 3), axis=0, return_inverse=True)
            if len(colours) == 1:
                rects.append(t.fill(0, y, W, len(band), tuple(colours[0])))
            elif len(colours) <= 256:
                rects.append(
                    t.palette(0, y, idx.reshape(band.shape[:2]), [tuple(c) for c in colours])
                )
            else:
                rects.append(t.copy(0, y, band))
        else:
            rects.append(t.copy(0, y, band))
    return server.update(*rects)


def tight_fill(img: np.ndarray) -> bytes:
    t = server.TightEncoder()
    rects = [
        t.fill(x, y, min(64, W - x), min(64, H - y), tuple(img[y, x]))
        for y in range(0, H, 64)
        for x in range(0, W, 64)
    ]
    return server.update(*rects)


def zrle_best(img: np.ndarray) -> bytes:
    modes = []
    for ty in range(0, H, 64):
        for tx in range(0, W, 64):
            tile = img[ty : ty + 64, tx : tx + 64].reshape(-1, 3)
            n = len(np.unique(tile, axis=0))
            if n == 1:
                modes.append("solid")
            elif n <= 16:
                modes.append("packed")
            elif n <= 127:
                modes.append("prle")
            else:
                modes.append("raw")
    return server.update(server.zrle_rect(0, 0, img, server.Deflater(1), modes=modes))


def streams() -> dict[str, bytes]:
    desk, photo = desktop_image(), photo_image()
    return {
        "raw (desktop)": server.update(server.raw_rect(0, 0, desk)),
        "copyrect (full screen)": server.update(server.copy_rect(0, 1, W, H - 1, 0, 0)),
        "zlib (desktop)": server.update(server.zlib_rect(0, 0, desk, server.Deflater(1))),
        "zlib (photo)": server.update(server.zlib_rect(0, 0, photo, server.Deflater(1))),
        "tight fill (64x64 rects)": tight_fill(desk),
        "tight palette/fill (desktop)": tight_basic(desk, "palette"),
        "tight copy filter (photo)": tight_basic(photo, "copy"),
        "tight gradient (photo)": tight_basic(photo, "gradient"),
        "zrle (desktop, best tiles)": zrle_best(desk),
        "zrle (photo, raw tiles)": server.update(
            server.zrle_rect(0, 0, photo, server.Deflater(1), "raw")
        ),
    }


def _time(fn: Callable[[], None], min_time: float = 0.5, min_runs: int = 3) -> float:
    fn()  # warm up
    runs, start = 0, time.perf_counter()
    while runs < min_runs or time.perf_counter() - start < min_time:
        fn()
        runs += 1
    return (time.perf_counter() - start) / runs


def decode_and_draw(chunks: list[bytes], fb: Framebuffer, handshake: bytes) -> None:
    client = RFBClient(RFBOptions(auto_update=False))
    client.receive_data(handshake)
    for chunk in chunks:
        for ev in client.receive_data(chunk):
            if isinstance(ev, events.ProtocolError):
                raise RuntimeError(ev.reason)
            fb.apply(ev)


class TransportReads:
    """Hands bytes to a buffered protocol (``get_buffer``, ``buffer_updated``,
    ``data_received``) as SocketTransport does, with its read sizes: into the protocol's
    buffer while it offers one, else parsed, the first read to parse after reads into the
    buffer a small one. Which came last is kept from one :meth:`feed` to the next, as the
    transport keeps it."""

    def __init__(self, protocol) -> None:
        self.protocol = protocol
        self.after_buffer = False

    def feed(self, data: bytes) -> None:
        protocol, view, pos = self.protocol, memoryview(data), 0
        while pos < len(data):
            target = protocol.get_buffer()
            if target is None:
                n = min(READ_AFTER_BUFFER if self.after_buffer else READ, len(data) - pos)
                self.after_buffer = False
                protocol.data_received(bytes(view[pos : pos + n]))
            else:
                n = min(len(target), READ, len(data) - pos)
                target[:n] = view[pos : pos + n]
                self.after_buffer = True
                protocol.buffer_updated(n)
            pos += n


class StraightIn:
    """A client, a :class:`RawReader` and a framebuffer as a buffered protocol: Raw rows
    go straight into the framebuffer, every event is applied as it comes."""

    def __init__(self, client: RFBClient, fb: Framebuffer) -> None:
        self.client, self.fb, self.reader = client, fb, RawReader()

    def get_buffer(self) -> memoryview | None:
        return self.reader.buffer(self.client, self.fb)

    def buffer_updated(self, nbytes: int) -> None:
        for ev in self.reader.commit(self.client, self.fb, nbytes)[1]:
            self.fb.apply(ev)

    def data_received(self, data: bytes) -> None:
        for ev in self.client.receive_data(data):
            self.fb.apply(ev)


def read_straight_in(data: bytes, reads: TransportReads) -> None:
    """One Raw update fed through ``reads`` (over a :class:`StraightIn`); the framebuffer
    is settled at the end, as a reader of it would. One client takes frame after frame:
    Raw keeps no stream state."""
    reads.feed(data)
    reads.protocol.fb.settle()


def run() -> list[tuple[str, float, float, float]]:
    """Rows of (name, seconds a frame, frames/s, MB/s of pixels), the ceiling first."""
    src = np.random.default_rng(1).integers(0, 256, FRAME_BYTES, np.uint8)
    dst = np.empty_like(src)
    ceiling = _time(lambda: np.copyto(dst, src))
    rows = [("numpy copy of the frame (ceiling)", ceiling)]
    handshake = server.handshake(W, H)
    fb = Framebuffer(W, H)
    for name, data in streams().items():
        chunks = [data[i : i + READ] for i in range(0, len(data), READ)]
        rows.append((name, _time(lambda c=chunks: decode_and_draw(c, fb, handshake))))
    raw = server.update(server.raw_rect(0, 0, desktop_image()))
    client = RFBClient(RFBOptions(auto_update=False))
    client.receive_data(handshake)
    reads = TransportReads(StraightIn(client, fb))
    rows.append(("raw (desktop), read straight in", _time(lambda: read_straight_in(raw, reads))))
    return [(n, t, 1 / t, FRAME_BYTES / t / 1e6) for n, t in rows]


def table_rows() -> list[tuple[str, float, str, float]]:
    """The rows for tests.bench's common table: frames/s against the copy ceiling."""
    rows = run()
    ceiling_fps = rows[0][2]
    return [
        (f"VNC {name}, 1920x1080 (frames/s)", fps, "numpy copy of a frame", ceiling_fps)
        for name, _t, fps, _mbs in rows[1:]
    ]


def main() -> None:
    rows = run()
    ceiling = rows[0][1]
    print(
        f"| {'Encoding, 1920x1080':<34} | {'ms/frame':>9} | {'frames/s':>9} | "
        f"{'MB/s':>8} | {'of ceiling':>10} |"
    )
    print(f"|{'-' * 36}|{'-' * 11}:|{'-' * 11}:|{'-' * 10}:|{'-' * 12}:|")
    for name, t, fps, mbs in rows:
        print(f"| {name:<34} | {t * 1e3:9.2f} | {fps:9.1f} | {mbs:8.0f} | {ceiling / t:10.1%} |")


if __name__ == "__main__":
    main()
