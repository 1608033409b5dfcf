"""The sans-IO RFB client against real servers through a plain socket.

- TigerVNC's Xvnc (Debian's ``tigervnc-standalone-server``; ``x11-apps`` for ``xwd``,
  ``xwud`` and ``xlogo``; ``x11-xserver-utils`` for ``xsetroot``; ``tigervnc-tools`` for
  ``vncpasswd``): with each encoding it offers, the framebuffer must equal the server's
  own screenshot (``xwd -root``) pixel for pixel; with JPEG, decoded by Qt, within JPEG's
  error. Also VNC authentication with a right and a wrong password, and RFB 3.3/3.7.
- QEMU's VNC server on a UNIX socket, with the test Linux guest: the framebuffer must
  equal QEMU's ``screendump``, and keys sent as QEMU Extended Key Events (scancodes) must
  reach the guest's shell, which echoes them to the serial port.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from app.core.rfb import RFBOptions, events
from app.core.rfb.keymap import KEY_ENTER, KEY_LEFTSHIFT, KEY_SPACE, qnum_from_evdev
from tests.unit.core.rfb import xwd
from tests.unit.core.rfb.record import qemu_vnc_args, wait_for_port, xvnc_args
from tests.unit.core.rfb.session import Session

pytestmark = pytest.mark.integration

PASSWORD = "s3cret"


def _free_display() -> int:
    for n in range(70, 99):
        if not Path(f"/tmp/.X{n}-lock").exists() and not Path(f"/tmp/.X11-unix/X{n}").exists():
            with contextlib.suppress(OSError), socket.socket() as s:
                s.bind(("127.0.0.1", 5900 + n))
                return n
    raise RuntimeError("no free X display")


@contextlib.contextmanager
def xvnc_server(tmp: Path, password: bool = False) -> Iterator[tuple[int, str]]:
    display = _free_display()
    port = 5900 + display
    args = xvnc_args(display, "480x320", tmp, PASSWORD if password else None)
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    apps: list[subprocess.Popen] = []
    env = dict(os.environ, DISPLAY=f":{display}")
    try:
        wait_for_port(port)
        subprocess.run(["xsetroot", "-solid", "#2a6041"], env=env, check=True)
        image = tmp / "image.xwd"
        image.write_bytes(xwd.write(xwd.test_image(160, 96)))
        for cmd in (
            ["xlogo", "-geometry", "120x120+320+20"],
            ["xwud", "-in", str(image), "-geometry", "+20+180"],
        ):
            apps.append(
                subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            )
        time.sleep(0.8)  # both windows mapped and drawn
        yield port, f":{display}"
    finally:
        for p in [*apps, proc]:
            p.terminate()
            p.wait()


@pytest.fixture(scope="module")
def xvnc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, str]]:
    with xvnc_server(tmp_path_factory.mktemp("xvnc")) as server:
        yield server


def _settle(session: Session, quiet: float = 0.4, timeout: float = 10.0) -> None:
    """Pump until at least one update arrived and none came for ``quiet`` seconds."""
    state = {"last": time.monotonic(), "seen": 0}

    def done(s: Session) -> bool:
        if s.updates != state["seen"]:
            state["seen"], state["last"] = s.updates, time.monotonic()
        return s.updates > 0 and time.monotonic() - state["last"] > quiet

    assert session.pump(done, timeout), session.client.error


def _rgb(session: Session) -> np.ndarray:
    return session.fb.array()[..., [2, 1, 0]]


@pytest.mark.parametrize(
    ("encodings", "version"),
    [([0], (3, 8)), ([1, 0], (3, 3)), ([6], (3, 7)), ([7], (3, 8)), ([16], (3, 8))],
    ids=["raw", "copyrect-raw-3.3", "zlib-3.7", "tight", "zrle"],
)
def test_xvnc_pixel_exact(xvnc: tuple[int, str], encodings: list[int], version: tuple) -> None:
    port, display = xvnc
    s = Session.connect_tcp("127.0.0.1", port, RFBOptions(encodings=encodings, max_version=version))
    try:
        _settle(s)
        assert s.client.version == version
        shot = xwd.screenshot(display)
        assert shot.shape == (320, 480, 3)
        assert np.array_equal(_rgb(s), shot), np.argwhere(np.any(_rgb(s) != shot, axis=2))[:5]
        assert not any(isinstance(e, events.JpegRect) for e in s.events)
    finally:
        s.close()


def test_xvnc_tight_jpeg_decoded_by_qt(xvnc: tuple[int, str], qapp) -> None:
    from PySide6.QtGui import QImage

    def decode(ev: events.JpegRect) -> tuple[bytes, int]:
        img = QImage.fromData(ev.data).convertToFormat(QImage.Format.Format_RGB32)
        assert (img.width(), img.height()) == (ev.width, ev.height)
        return bytes(img.constBits()), img.bytesPerLine()

    port, display = xvnc
    s = Session.connect_tcp("127.0.0.1", port, RFBOptions(encodings=[7], jpeg_quality=8))
    s.jpeg_decoder = decode
    try:
        _settle(s)
        assert s.jpegs > 0
        diff = np.abs(_rgb(s).astype(int) - xwd.screenshot(display).astype(int))
        assert diff.mean() < 2.0 and np.percentile(diff, 99) < 40
    finally:
        s.close()


def test_xvnc_vnc_auth(tmp_path: Path) -> None:
    with xvnc_server(tmp_path, password=True) as (port, display):
        bad = Session.connect_tcp("127.0.0.1", port, RFBOptions(password="wrong"))
        try:
            assert bad.pump(lambda s: s.client.closed, 5)
            failed = [e for e in bad.events if isinstance(e, events.AuthFailed)]
            assert failed and failed[0].reason
        finally:
            bad.close()
        time.sleep(0.2)
        # No password in the options: the client asks, then goes on.
        s = Session.connect_tcp("127.0.0.1", port, RFBOptions(encodings=[16]))
        try:
            assert s.pump(lambda s: any(isinstance(e, events.AuthRequired) for e in s.events), 5)
            s.events += s.client.send_password(PASSWORD)
            _settle(s)
            assert np.array_equal(_rgb(s), xwd.screenshot(display))
        finally:
            s.close()


# --- QEMU ------------------------------------------------------------------------------


def _ppm(path: Path) -> np.ndarray:
    data = path.read_bytes()
    parts = data.split(maxsplit=4)
    assert parts[0] == b"P6" and parts[3] == b"255"
    w, h = int(parts[1]), int(parts[2])
    return np.frombuffer(parts[4], np.uint8, w * h * 3).reshape(h, w, 3)


class Monitor:
    def __init__(self, path: Path) -> None:
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(str(path))
        self.sock.settimeout(5)
        self._read_until(b"(qemu) ")

    def _read_until(self, marker: bytes) -> bytes:
        buf = b""
        while marker not in buf:
            buf += self.sock.recv(4096)
        return buf

    def command(self, line: str) -> str:
        self.sock.sendall(line.encode() + b"\n")
        return self._read_until(b"(qemu) ").decode(errors="replace")


@pytest.fixture(scope="module")
def qemu_guest(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Monitor, Path]]:
    from tests.guest import linux_guest

    tmp = tmp_path_factory.mktemp("qemu")
    guest = linux_guest()
    vnc, mon, serial = tmp / "vnc.sock", tmp / "mon.sock", tmp / "serial.log"
    proc = subprocess.Popen(
        [
            *qemu_vnc_args(vnc),
            "-monitor",
            f"unix:{mon},server,nowait",
            "-serial",
            f"file:{serial}",
            "-kernel",
            str(guest.kernel),
            "-initrd",
            str(guest.initrd),
            "-append",
            guest.cmdline + " vt.global_cursor_default=0",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while guest.ready_marker not in (
            serial.read_text(errors="replace") if serial.exists() else ""
        ):
            assert time.monotonic() < deadline, "guest did not boot"
            assert proc.poll() is None
            time.sleep(0.2)
        time.sleep(1.0)  # the banner and bars are drawn after the marker
        monitor = Monitor(mon)
        try:
            yield vnc, monitor, serial
        finally:
            monitor.sock.close()
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.parametrize(
    "encodings", [[1, 0], [7], [16], [6]], ids=["raw", "tight", "zrle", "zlib"]
)
def test_qemu_pixel_exact(
    qemu_guest: tuple[Path, Monitor, Path], encodings: list[int], tmp_path: Path
) -> None:
    vnc, monitor, _ = qemu_guest
    s = Session.connect_unix(str(vnc), RFBOptions(encodings=encodings))
    try:
        _settle(s, quiet=0.6)
        assert (s.fb.width, s.fb.height) == (1920, 1080)
        dump = tmp_path / "screen.ppm"
        monitor.command(f"screendump {dump}")
        shot = _ppm(dump)
        mine = _rgb(s)
        bad = np.any(mine != shot, axis=2)
        if encodings == [7] and bad.any():
            # QEMU's Tight encoder (ui/vnc-enc-tight.c, tight_encode_indexed_rect) maps
            # palette index 255 to 0, taking 255 for "not found": in a 256-colour palette
            # rectangle (the guest's grey ramp) the last colour arrives as the first. The
            # client shows what was sent; check that this is the only difference.
            assert len(np.unique(shot[bad], axis=0)) == 1
            assert len(np.unique(mine[bad], axis=0)) == 1
            assert bad.sum() < 0.001 * bad.size
        else:
            assert not bad.any(), np.argwhere(bad)[:5]
    finally:
        s.close()


# evdev codes for the characters the keyboard test types (US layout).
_KEYS = {
    **{c: 16 + i for i, c in enumerate("qwertyuiop")},
    **{c: 30 + i for i, c in enumerate("asdfghjkl")},
    **{c: 44 + i for i, c in enumerate("zxcvbnm")},
    **{str(d): 2 + (d - 1) % 10 for d in range(10)},
    " ": KEY_SPACE,
    "/": 53,
    "-": 12,
}
_SHIFTED = {">": 52, "_": 12}


def test_qemu_scancodes_reach_the_guest(qemu_guest: tuple[Path, Monitor, Path]) -> None:
    vnc, _, serial = qemu_guest
    s = Session.connect_unix(str(vnc), RFBOptions(encodings=[7]))
    try:
        assert s.pump(lambda s: s.client.extended_keys, 10)
        # Keysym 0 everywhere: only the scancode can carry the key.
        for ch in "echo nido_keys_ok > /dev/tty_s0\n".replace("tty_s0", "ttyS0"):
            if ch == "\n":
                code, shift = KEY_ENTER, False
            elif ch in _SHIFTED:
                code, shift = _SHIFTED[ch], True
            elif ch.isupper():
                code, shift = _KEYS[ch.lower()], True
            else:
                code, shift = _KEYS[ch], False
            scancode = qnum_from_evdev(code)
            if shift:
                s.client.qemu_key_event(0, qnum_from_evdev(KEY_LEFTSHIFT), True)
            s.client.qemu_key_event(0, scancode, True)
            s.client.qemu_key_event(0, scancode, False)
            if shift:
                s.client.qemu_key_event(0, qnum_from_evdev(KEY_LEFTSHIFT), False)
        s.flush()
        deadline = time.monotonic() + 20
        while "nido_keys_ok" not in serial.read_text(errors="replace"):
            assert time.monotonic() < deadline, serial.read_text(errors="replace")[-500:]
            s.pump(lambda s: False, 0.2)
    finally:
        s.close()
