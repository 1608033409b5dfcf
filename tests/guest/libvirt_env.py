"""Plain helpers for tests that run guests through libvirt's embedded QEMU driver.

Meant to be reused from a conftest: :func:`embedded_connection` gives a ``qemu:///embed``
connection on the session's embedded root, with the application's libvirt event loop
running (the embedded driver needs one to notice QEMU exiting), and removes every domain
afterwards. The other helpers wait for things tests care about:
text in a serial log, a domain state, a non-blank screen.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import libvirt

from app.core import uris
from app.core.connection import mark_embedded_loaded
from app.core.embedded import open_shared, prepare_root
from app.core.events import ensure_event_loop


def start_event_loop() -> None:
    """The application's own libvirt event loop (one per process; see app.core.events)."""
    ensure_event_loop()


@contextlib.contextmanager
def embedded_connection(root: Path | None = None) -> Iterator[libvirt.virConnect]:
    """Open ``qemu:///embed`` on the root that "This computer" uses (or on ``root``).

    libvirt allows one embedded root per process, so tests share the session's root (see
    tests/conftest.py) with the application under test. The root gets Nido's own
    qemu.conf (app.core.embedded). On exit every domain in it is destroyed and undefined;
    the connection stays open (app.core.embedded.open_shared); the session removes the
    directory at its end.
    """
    ensure_event_loop()
    if root is None:
        path = uris.embed_root()
    else:
        prepare_root(root)
        path = str(root)
    mark_embedded_loaded()
    conn = open_shared(uris.embed_uri(path))  # the process's one connection: never closed
    try:
        yield conn
    finally:
        for dom in conn.listAllDomains():
            with contextlib.suppress(libvirt.libvirtError):
                if dom.isActive():
                    dom.destroy()
            with contextlib.suppress(libvirt.libvirtError):
                dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_NVRAM)


def wait_for_text(path: Path, text: str, timeout: float, *, count: int = 1) -> float:
    """Wait until ``text`` occurs ``count`` times in the file; return the seconds waited."""
    start = time.monotonic()
    needle = text.encode()
    data = b""
    while True:
        with contextlib.suppress(FileNotFoundError):
            data = path.read_bytes()
        if data.count(needle) >= count:
            return time.monotonic() - start
        if time.monotonic() - start > timeout:
            tail = data[-2000:].decode(errors="replace")
            raise TimeoutError(f"{text!r} x{count} not in {path} after {timeout} s; tail:\n{tail}")
        time.sleep(0.05)


def wait_for_state(dom: libvirt.virDomain, state: int, timeout: float) -> float:
    """Wait until ``dom.state()[0] == state``; return the seconds waited."""
    start = time.monotonic()
    while (current := dom.state()[0]) != state:
        if time.monotonic() - start > timeout:
            raise TimeoutError(f"{dom.name()} in state {current}, not {state}, after {timeout} s")
        time.sleep(0.02)
    return time.monotonic() - start


@dataclass(frozen=True)
class Screenshot:
    """A picture of the guest's screen: RGB pixels plus the bytes libvirt sent."""

    width: int
    height: int
    rgb: bytes
    mime: str
    raw: bytes

    def distinct_colours(self, step: int = 7) -> int:
        """How many different colours a sample of every ``step``-th pixel has."""
        pixels = memoryview(self.rgb)
        return len({bytes(pixels[i : i + 3]) for i in range(0, len(self.rgb), 3 * step)})

    def pixel(self, x: int, y: int) -> tuple[int, int, int]:
        i = 3 * (y * self.width + x)
        r, g, b = self.rgb[i : i + 3]
        return r, g, b

    def save(self, path: Path) -> None:
        """Write the picture as libvirt sent it (PNG with QEMU 7.2, PPM before)."""
        path.write_bytes(self.raw)


def _parse_ppm(data: bytes) -> tuple[int, int, bytes]:
    """Parse a binary (P6) PPM with maxval 255, as older QEMU's screendump writes."""
    fields: list[bytes] = []
    pos = 0
    while len(fields) < 4:
        while data[pos : pos + 1].isspace():
            pos += 1
        if data[pos : pos + 1] == b"#":
            pos = data.index(b"\n", pos) + 1
            continue
        end = pos
        while not data[end : end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    magic, width, height, maxval = fields[0], int(fields[1]), int(fields[2]), int(fields[3])
    if magic != b"P6" or maxval != 255:
        raise ValueError(f"not a P6/255 PPM: {magic!r} {maxval}")
    pixels = data[pos + 1 : pos + 1 + 3 * width * height]
    if len(pixels) != 3 * width * height:
        raise ValueError("truncated PPM")
    return width, height, pixels


def _decode_png(data: bytes) -> tuple[int, int, bytes]:
    """Decode a PNG with Qt's image reader (a project dependency, and fast)."""
    from PySide6.QtGui import QImage

    image = QImage.fromData(data, "PNG")
    if image.isNull():
        raise ValueError("libvirt sent a PNG that Qt cannot read")
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    width, height, stride = image.width(), image.height(), image.bytesPerLine()
    bits = bytes(image.constBits())
    rgb = b"".join(bits[y * stride : y * stride + 3 * width] for y in range(height))
    return width, height, rgb


def decode_screenshot(data: bytes, mime: str) -> Screenshot:
    """Turn what ``virDomainScreenshot`` sent into a :class:`Screenshot`."""
    if mime == "image/png":
        width, height, rgb = _decode_png(data)
    elif mime == "image/x-portable-pixmap":
        width, height, rgb = _parse_ppm(data)
    else:
        raise ValueError(f"unexpected screenshot type {mime}")
    return Screenshot(width, height, rgb, mime, data)


def screenshot(conn: libvirt.virConnect, dom: libvirt.virDomain, screen: int = 0) -> Screenshot:
    """Take a screenshot through ``virDomainScreenshot``."""
    stream = conn.newStream(0)
    try:
        mime = dom.screenshot(stream, screen, 0)
        chunks: list[bytes] = []
        stream.recvAll(lambda _st, data, acc: acc.append(data) or len(data), chunks)
        stream.finish()
    except BaseException:
        with contextlib.suppress(libvirt.libvirtError):
            stream.abort()
        raise
    return decode_screenshot(b"".join(chunks), mime)
