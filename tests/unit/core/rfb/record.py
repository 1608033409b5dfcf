"""Record real RFB sessions into ``recordings/`` (``python -m tests.unit.core.rfb.record``).

Each recording is the exact byte stream a real server sent to :class:`RFBClient`, gzipped,
plus an entry in ``recordings/index.json`` with the client options to replay it with and
what the framebuffer should look like at the end (its size and a SHA-256 of its pixels as
this client decoded them live). Needs ``qemu-system-x86_64`` and TigerVNC's ``Xvnc`` with
``xterm``, ``xlogo``, ``xsetroot`` and ``vncpasswd``. The README beside the recordings says
what each session shows.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from app.core.rfb import RFBOptions
from tests.unit.core.rfb import xwd
from tests.unit.core.rfb.session import Session

HERE = Path(__file__).parent
RECORDINGS = HERE / "recordings"
INDEX = RECORDINGS / "index.json"
PASSWORD = "nido-pw"


def _wait_for(path: Path, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path} did not appear")
        time.sleep(0.05)


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def qemu_vnc_args(sock: Path, *, password: bool = False) -> list[str]:
    """A bare QEMU under TCG with a standard VGA card and its VNC server on a UNIX socket
    (requiring a password when asked); callers add what to boot."""
    return [
        "qemu-system-x86_64",
        "-accel",
        "tcg",
        "-m",
        "128",
        "-nodefaults",
        "-vga",
        "std",
        "-display",
        "none",
        "-vnc",
        f"unix:{sock}" + (",password=on" if password else ""),
    ]


@contextlib.contextmanager
def qemu(tmp: Path, linux: bool, password: bool = False) -> Iterator[Path]:
    sock = tmp / "qemu-vnc.sock"
    sock.unlink(missing_ok=True)
    (tmp / "mon.sock").unlink(missing_ok=True)
    args = qemu_vnc_args(sock, password=password)
    if password:
        args += ["-monitor", f"unix:{tmp / 'mon.sock'},server,nowait"]
    if linux:
        from tests.guest import linux_guest

        g = linux_guest()
        args += ["-kernel", str(g.kernel), "-initrd", str(g.initrd), "-append", g.cmdline]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for(sock)
        if password:
            m = socket.socket(socket.AF_UNIX)
            _wait_for(tmp / "mon.sock")
            m.connect(str(tmp / "mon.sock"))
            m.sendall(f"change vnc password {PASSWORD}\n".encode())
            time.sleep(0.3)
            m.close()
        yield sock
    finally:
        proc.kill()
        proc.wait()


def xvnc_args(display: int, geometry: str, tmp: Path, password: str | None) -> list[str]:
    """The Xvnc command line for a private test server on 127.0.0.1:5900+display (with
    VNC authentication when `password` is given; the password file goes into `tmp`)."""
    args = [
        "Xvnc",
        f":{display}",
        "-geometry",
        geometry,
        "-depth",
        "24",
        "-rfbport",
        str(5900 + display),
        "-localhost=1",
        "-AlwaysShared",
        "-ac",
    ]
    if password is None:
        return [*args, "-SecurityTypes", "None"]
    pwfile = tmp / "passwd"
    pwfile.write_bytes(
        subprocess.run(
            ["vncpasswd", "-f"], input=password.encode(), capture_output=True, check=True
        ).stdout
    )
    return [*args, "-SecurityTypes", "VncAuth", "-PasswordFile", str(pwfile)]


@contextlib.contextmanager
def xvnc(tmp: Path, display: int, password: bool = False) -> Iterator[int]:
    port = 5900 + display
    args = xvnc_args(display, "640x400", tmp, PASSWORD if password else None)
    for stale in (Path(f"/tmp/.X{display}-lock"), Path(f"/tmp/.X11-unix/X{display}")):
        stale.unlink(missing_ok=True)
    server = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    env = dict(os.environ, DISPLAY=f":{display}")
    apps: list[subprocess.Popen] = []
    try:
        wait_for_port(port)
        subprocess.run(["xsetroot", "-solid", "#336699"], env=env, check=True)
        script = "for i in $(seq 1 60); do echo line $i of the nido recording; sleep 0.02; done"
        apps.append(
            subprocess.Popen(
                ["xterm", "-geometry", "60x12+8+8", "-e", f"{script}; sleep 60"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        apps.append(
            subprocess.Popen(
                ["xlogo", "-geometry", "160x160+440+200"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        image = tmp / "image.xwd"
        image.write_bytes(xwd.write(xwd.test_image()))
        apps.append(
            subprocess.Popen(
                ["xwud", "-in", str(image), "-geometry", "+60+230"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        time.sleep(0.3)
        yield port
    finally:
        for p in [*apps, server]:
            p.terminate()
            p.wait()


def _options(spec: dict) -> RFBOptions:
    kw = dict(spec)
    if "max_version" in kw:
        kw["max_version"] = tuple(kw["max_version"])
    return RFBOptions(**kw)


def _capture(session: Session, seconds: float, max_bytes: int) -> None:
    start = time.monotonic()
    session.pump(
        lambda s: time.monotonic() - start > seconds or len(s.received) > max_bytes,
        timeout=seconds + 5,
    )


def _save(name: str, about: str, spec: dict, session: Session, index: dict) -> None:
    assert not session.client.closed, session.client.error
    data = gzip.compress(bytes(session.received), 9, mtime=0)
    (RECORDINGS / f"{name}.rfb.gz").write_bytes(data)
    index[name] = {
        "about": about,
        "options": spec,
        "bytes": len(session.received),
        "width": session.fb.width,
        "height": session.fb.height,
        "sha256": hashlib.sha256(session.fb.data).hexdigest(),
        "jpeg": any(type(e).__name__ == "JpegRect" for e in session.events),
    }
    print(f"{name}: {len(session.received)} bytes, {len(data)} gzipped")


def main() -> None:
    RECORDINGS.mkdir(exist_ok=True)
    index: dict = json.loads(INDEX.read_text()) if INDEX.exists() else {}
    tmp = Path(tempfile.mkdtemp(prefix="rfbrec", dir="/tmp"))
    try:
        with qemu(tmp, linux=False) as sock:
            time.sleep(1.5)
            for name, enc in [("qemu-bios-raw", [1, 0]), ("qemu-bios-zrle", [16])]:
                spec = {"encodings": enc}
                s = Session.connect_unix(str(sock), _options(spec))
                _capture(s, 1.0, 4 << 20)
                _save(name, "QEMU 7.2, SeaBIOS text screen, no disk", spec, s, index)
                s.close()
        with qemu(tmp, linux=False, password=True) as sock:
            time.sleep(1.0)
            spec = {"encodings": [6], "password": PASSWORD, "max_version": [3, 7]}
            s = Session.connect_unix(str(sock), _options(spec))
            _capture(s, 1.0, 4 << 20)
            _save("qemu-bios-vncauth-zlib-3.7", "QEMU, VNC auth, RFB 3.7, Zlib", spec, s, index)
            s.close()
        for enc_name, spec in [
            ("tight", {"encodings": [7]}),
            ("tight-jpeg", {"encodings": [7], "jpeg_quality": 6}),
            ("zrle", {"encodings": [16]}),
        ]:
            with qemu(tmp, linux=True) as sock:
                s = Session.connect_unix(str(sock), _options(spec))
                # From power-on: SeaBIOS, the kernel's switch to 1920x1080, the colour bars.
                _capture(s, 9.0, 4 << 20)
                _save(
                    f"qemu-linux-{enc_name}",
                    "QEMU, the test Linux guest booting, 720x400 text then a resize to 1920x1080",
                    spec,
                    s,
                    index,
                )
                s.close()
        display = 61
        with xvnc(tmp, display) as port:
            for name, spec in [
                ("xvnc-raw-3.3", {"encodings": [1, 0], "max_version": [3, 3]}),
                ("xvnc-zlib", {"encodings": [6]}),
                ("xvnc-tight", {"encodings": [7]}),
                ("xvnc-tight-jpeg", {"encodings": [7], "jpeg_quality": 5}),
                ("xvnc-zrle", {"encodings": [16]}),
            ]:
                s = Session.connect_tcp("127.0.0.1", port, _options(spec))
                _capture(s, 1.2, 3 << 20)
                # Some pointer motion for cursor and input coverage.
                for i in range(5):
                    s.client.pointer_event(100 + 40 * i, 100 + 20 * i, 0)
                _capture(s, 0.3, 3 << 20)
                _save(name, "TigerVNC 1.12 Xvnc: xterm scrolling, xlogo", spec, s, index)
                s.close()
        with xvnc(tmp, display + 1, password=True) as port:
            spec = {"encodings": [7, 16], "password": PASSWORD}
            s = Session.connect_tcp("127.0.0.1", port, _options(spec))
            _capture(s, 1.0, 3 << 20)
            _save("xvnc-vncauth-tight", "Xvnc with VNC auth, RFB 3.8", spec, s, index)
            s.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    INDEX.write_text(json.dumps(index, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
