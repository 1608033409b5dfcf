"""The embedded display: decode and paint, then end to end with a real guest that repaints
its whole 1080p screen without pause. Not a test:

    .venv/bin/python -m tests.bench display      (or: python -m tests.bench.display)

- **Decode + paint, per encoding.** One full-screen 1920x1080 FramebufferUpdate per
  encoding (the streams of ``tests.bench.rfb_decode``) fed to a VncSession, then the
  DisplayCanvas repainted at 1:1 (and, for Raw, scaled to 1280x720), against a plain NumPy
  copy of the same bytes, the physical ceiling; and the least any client painting through
  a Qt widget can do for a Raw frame (one copy into its framebuffer, the same repaint), to
  show how much of that ceiling is reachable, and how near Nido's Raw path comes to it.
- **Frames/s.** Nido's display (VncSession + DisplayCanvas, shown and painting at 1:1)
  against a minimal Raw client that reads the same guest's updates straight into a NumPy
  framebuffer, in alternating phases of the same run, each on a fresh graphics socket. A
  "frame" is a full screen's worth of updated pixels.
- **CPU per frame** of each client process, Nido's against the minimal client and against
  remote-viewer (virt-viewer, gtk-vnc) on the same guest when it is installed. remote-viewer
  goes through a relay that narrows it to Raw (what Nido asks for on a local socket) and
  counts its pixels, since it keeps no count of its own.
- **Input latency**: a thread posts key presses (Shift, harmless to the guest's shell)
  into Qt's event queue while the guest keeps repainting, and a relay process between
  Nido and QEMU stamps the moment each key message arrives on the socket.

With Xvfb installed, the measuring process runs on its own Xvfb screen (Qt's xcb
platform), as remote-viewer does, so both put their pictures on a real X server; without
it, on Qt's offscreen platform and with no remote-viewer row.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from tests.bench.measure import ROOT, TICKS, bench_env
from tests.bench.vnc_peers import KEY_STAMPER, PIXEL_COUNTER, raw_client

PHASE_S = 6.0
ROUNDS = int(os.environ.get("NIDO_BENCH_ROUNDS", "3"))
LATENCY_KEYS = 60
LATENCY_TARGET_MS = 5.0
W, H = 1920, 1080
#: The Xvfb screen: room for remote-viewer's menus and toolbar above a 1:1 1080p picture.
SCREEN = "2560x1440x24"

#: Typed into the guest's shell: two random full-screen images, shown in turn for ever.
REPAINT_LOOP = (
    "for f in a b;do head -c 8294400 /dev/urandom >/$f;done;echo repaint-loop >/dev/ttyS0;"
    "while :;do cat /a >/dev/fb0;cat /b >/dev/fb0;done 2>/dev/null"
)
#: The row of Raw frames decoded as they come and painted as the app paints them.
PACED = "raw (desktop), painted as the screen refreshes"
#: QEMU queues at most 1024 input entries and sends keys 10 ms apart (its VNC
#: key-delay-ms): type in pieces, or the end of a long line is lost.
TYPE_CHUNK = 24


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


# --- decode + paint, in process -------------------------------------------------------------


def decode_and_paint(canvas, counter) -> dict[str, float]:
    """frames/s of decode + 1:1 paint per encoding, and the NumPy copy ceiling; ``counter``
    counts the canvas's paint events (``.paints``)."""
    import numpy as np
    from PySide6.QtCore import QCoreApplication

    from app.core.rfb import RFBClient, RFBOptions
    from app.qt.display.vnc import VncSession
    from tests.bench.rfb_decode import FRAME_BYTES, TransportReads, _time, streams
    from tests.unit.core.rfb import server
    from widgets.display.geometry import Scaling

    src = np.random.default_rng(1).integers(0, 256, FRAME_BYTES, np.uint8)
    dst = np.empty_like(src)
    out = {"ceiling": 1 / _time(lambda: np.copyto(dst, src))}
    wire: dict[str, int] = {}  # each encoding's bytes on the wire for one frame
    mine, theirs = socket.socketpair()
    session = VncSession(mine, RFBOptions(auto_update=False))
    session.data_received(server.handshake(W, H))
    assert session.width == W, "no ServerInit"
    canvas.set_scaling(Scaling.FIT)
    canvas.resize(W, H)
    canvas.set_session(session)
    QCoreApplication.processEvents()

    handshake = server.handshake(W, H)

    feed = TransportReads(session).feed  # as SocketTransport hands a socket's bytes over

    def fresh_client() -> None:
        # A fresh parser for each frame of a compressed encoding, as in
        # tests.bench.rfb_decode: zlib streams carry state, so the same recorded bytes
        # cannot be fed twice to one client. The session's framebuffer, image and canvas
        # stay. Raw and CopyRect carry none: one client takes frame after frame, as on a
        # real connection.
        session.client = RFBClient(RFBOptions(auto_update=False))
        session.client.receive_data(handshake)

    def frame(data: bytes, stateless: bool) -> None:
        if not stateless:
            fresh_client()
        feed(data)
        canvas.repaint()

    all_streams = streams()
    for name, data in all_streams.items():
        stateless = name.startswith(("raw", "copyrect"))
        fresh_client()
        out[name] = 1 / _time(lambda d=data, st=stateless: frame(d, st))
        wire[name] = len(data)
        assert session.is_open, session.client.error
    raw = all_streams["raw (desktop)"]
    # The least any client that shows frames in a Qt widget does for a Raw frame: one copy
    # of the received pixels into its framebuffer (no parsing at all), then the same 1:1
    # repaint. Against the ceiling, it says what share of the ceiling is reachable at all.
    pixels = session.framebuffer.array().reshape(-1)

    def least() -> None:
        np.copyto(pixels, src)
        canvas.repaint()

    out["floor"] = 1 / _time(least)

    # As the app runs: frames back to back, the event loop turning after each, and the
    # canvas repainting when the screen next refreshes (so at most at its rate).
    fresh_client()
    QCoreApplication.processEvents()
    frames, paints0, start = 0, counter.paints, time.perf_counter()
    while time.perf_counter() - start < 2.0:
        feed(raw)
        QCoreApplication.processEvents()
        frames += 1
    elapsed = time.perf_counter() - start
    out[PACED] = frames / elapsed
    out["paints_per_s"] = (counter.paints - paints0) / elapsed  # type: ignore[assignment]
    # The least any client does so: one copy of the pixels a frame, the whole screen
    # damaged, the same paced repaints.
    frames, start = 0, time.perf_counter()
    while time.perf_counter() - start < 2.0:
        np.copyto(pixels, src)
        session.damaged.emit([(0, 0, W, H)])
        QCoreApplication.processEvents()
        frames += 1
    out["floor_paced"] = frames / (time.perf_counter() - start)
    out["refresh_hz"] = canvas.screen().refreshRate()  # type: ignore[assignment]
    wire[PACED] = len(raw)

    canvas.resize(1280, 720)
    QCoreApplication.processEvents()
    out["raw, painted scaled to 1280x720"] = 1 / _time(lambda: frame(raw, True))
    wire["raw, painted scaled to 1280x720"] = len(raw)
    out["wire_bytes"] = wire  # type: ignore[assignment]
    canvas.set_session(None)
    session.close()
    theirs.close()
    return out


# --- the measuring process ----------------------------------------------------------------


def child(out: Path) -> None:
    from PySide6.QtCore import QCoreApplication, QEvent, QEventLoop, QObject, Qt, QTimer
    from PySide6.QtGui import QKeyEvent
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from app.qt.display.opener import open_graphics_socket
    from app.qt.display.vnc import VncSession
    from tests.guest import READY_MARKER, accelerator, domain_xml, linux_guest
    from tests.guest.libvirt_env import embedded_connection, wait_for_text
    from widgets.display.canvas import DisplayCanvas
    from widgets.display.geometry import Scaling

    app = QApplication([])

    class PaintCounter(QObject):
        paints = 0

        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint:
                self.paints += 1
            return False

    canvas = DisplayCanvas()
    counter = PaintCounter()
    canvas.installEventFilter(counter)
    canvas.set_scaling(Scaling.FIT)
    canvas.resize(W, H)
    canvas.show()
    results: dict[str, object] = {"platform": QApplication.platformName()}
    results["paint"] = decode_and_paint(canvas, counter)
    canvas.resize(W, H)

    def run_loop(seconds: float, until=None) -> None:
        loop = QEventLoop()
        timer = QTimer()
        if until is None:  # a measured phase: no polling timer of the bench's own
            timer.setSingleShot(True)
            timer.setInterval(round(seconds * 1000))
            timer.timeout.connect(loop.quit)
        else:
            deadline = time.monotonic() + seconds
            timer.setInterval(20)
            timer.timeout.connect(
                lambda: loop.quit() if time.monotonic() > deadline or until() else None
            )
        timer.start()
        loop.exec()
        timer.stop()

    def nido_session(sock: socket.socket) -> VncSession:
        s = VncSession(sock)
        canvas.set_session(s)
        run_loop(10, lambda: s.width > 0)
        assert s.width == W, "no ServerInit"
        return s

    def close(s: VncSession) -> None:
        canvas.set_session(None)
        s.close()
        s.deleteLater()
        QCoreApplication.processEvents()

    root = Path(tempfile.mkdtemp(prefix="nd", dir="/tmp"))
    try:
        with embedded_connection(root) as conn:
            serial = root / "serial.log"
            xml = domain_xml(
                "bench-display", linux_guest(), accelerator(), serial_log=serial, memory_mib=192
            )
            dom = conn.defineXML(xml)
            dom.create()
            wait_for_text(serial, READY_MARKER, 120)
            time.sleep(0.5)

            # Type the repaint loop through Nido's own display widget.
            s = nido_session(open_graphics_socket(dom))
            run_loop(5, lambda: s.extended_keys)
            assert s.extended_keys
            for i in range(0, len(REPAINT_LOOP), TYPE_CHUNK):
                QTest.keyClicks(canvas, REPAINT_LOOP[i : i + TYPE_CHUNK])
                run_loop(1.0)
            QTest.keyClick(canvas, Qt.Key.Key_Return)
            wait_for_text(serial, "repaint-loop", 60)
            run_loop(2)  # the loop is painting
            close(s)

            nido_runs, raw_runs, viewer_runs = [], [], []
            viewer = shutil.which("remote-viewer") if os.environ.get("DISPLAY") else None
            for _ in range(ROUNDS):
                with open_graphics_socket(dom) as sock:
                    raw_runs.append(raw_client(sock, PHASE_S))
                s = nido_session(open_graphics_socket(dom))
                run_loop(1.0)  # past the first full frame
                f0, p0, paints0 = s.frames, s.pixels_updated, counter.paints
                cpu0, t0 = _cpu_seconds(os.getpid()), time.monotonic()
                run_loop(PHASE_S)
                elapsed = time.monotonic() - t0
                frames = (s.pixels_updated - p0) / (W * H)
                cpu = _cpu_seconds(os.getpid()) - cpu0
                nido_runs.append(
                    {
                        "fps": frames / elapsed,
                        "updates": (s.frames - f0) / elapsed,
                        "cpu_ms_per_frame": 1000 * cpu / max(frames, 1e-9),
                        "paints_per_frame": (counter.paints - paints0) / max(frames, 1e-9),
                    }
                )
                close(s)
                if viewer:
                    viewer_runs.append(remote_viewer_phase(viewer, dom))
            results["raw"] = raw_runs
            results["nido"] = nido_runs
            results["remote_viewer"] = viewer_runs

            # Key press to bytes on the socket, through a relay process that stamps them.
            qemu = open_graphics_socket(dom)
            mine, theirs = socket.socketpair()
            relay = subprocess.Popen(
                [sys.executable, "-c", KEY_STAMPER, str(theirs.fileno()), str(qemu.fileno())],
                pass_fds=(theirs.fileno(), qemu.fileno()),
                stdout=subprocess.PIPE,
                text=True,
            )
            theirs.close()
            qemu.close()
            s = nido_session(mine)
            run_loop(5, lambda: s.extended_keys)
            run_loop(1.0)
            posted: list[float] = []

            def poster() -> None:
                rng = random.Random(1)
                for _ in range(LATENCY_KEYS):
                    time.sleep(0.05 + rng.random() * 0.05)
                    for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
                        event = QKeyEvent(kind, Qt.Key.Key_Shift, Qt.KeyboardModifier.NoModifier)
                        if kind == QEvent.Type.KeyPress:
                            posted.append(time.monotonic())
                        QCoreApplication.postEvent(canvas, event)
                        time.sleep(0.01)

            frames_before = s.frames
            thread = threading.Thread(target=poster)
            thread.start()
            while thread.is_alive():
                run_loop(0.2)
            run_loop(0.5)
            results["latency_frames"] = s.frames - frames_before
            close(s)
            stdout, _ = relay.communicate(timeout=30)
            stamps = json.loads(stdout)
            downs = [t for t, down in stamps if down]
            assert len(downs) == len(posted), (len(downs), len(posted))
            results["latency_ms"] = [1000 * (b - a) for a, b in zip(posted, downs, strict=True)]
    finally:
        shutil.rmtree(root, ignore_errors=True)
    out.write_text(json.dumps(results))
    del app


def remote_viewer_phase(viewer: str, dom) -> dict[str, float]:
    """remote-viewer on the guest through the pixel-counting relay: frames/s and CPU."""
    from app.qt.display.opener import open_graphics_socket

    qemu = open_graphics_socket(dom)
    relay = subprocess.Popen(
        [sys.executable, "-c", PIXEL_COUNTER, str(qemu.fileno())],
        pass_fds=(qemu.fileno(),),
        stdout=subprocess.PIPE,
        text=True,
    )
    qemu.close()
    assert relay.stdout is not None
    port = int(relay.stdout.readline())
    env = dict(os.environ, NO_AT_BRIDGE="1")
    rv = subprocess.Popen(
        [viewer, f"vnc://127.0.0.1:{port}"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def count() -> dict[str, float]:
        relay.send_signal(signal.SIGUSR1)
        return json.loads(relay.stdout.readline())

    try:
        deadline = time.monotonic() + 30
        while count()["pixels"] < W * H:
            if time.monotonic() > deadline or rv.poll() is not None or relay.poll() is not None:
                raise RuntimeError("remote-viewer showed no full frame within 30 s")
            time.sleep(0.2)
        time.sleep(1.0)
        c0, cpu0 = count(), _cpu_seconds(rv.pid)
        time.sleep(PHASE_S)
        c1, cpu1 = count(), _cpu_seconds(rv.pid)
    finally:
        rv.terminate()
        rv.wait(10)
        relay.wait(10)
    elapsed = c1["t"] - c0["t"]
    frames = (c1["pixels"] - c0["pixels"]) / (W * H)
    return {
        "fps": frames / elapsed,
        "updates": (c1["updates"] - c0["updates"]) / elapsed,
        "cpu_ms_per_frame": 1000 * (cpu1 - cpu0) / max(frames, 1e-9),
    }


@contextlib.contextmanager
def xvfb() -> Iterator[str | None]:
    """A private Xvfb screen's DISPLAY, or None without Xvfb."""
    if shutil.which("Xvfb") is None:
        yield None
        return
    read, write = os.pipe()
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", SCREEN, "-nolisten", "tcp"],
        pass_fds=(write,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    try:
        with os.fdopen(read) as f:
            number = f.readline().strip()
        yield f":{number}" if number else None
    finally:
        proc.terminate()
        proc.wait(10)


def measure() -> dict:
    with tempfile.TemporaryDirectory(prefix="nbd") as tmp, xvfb() as display:
        base = Path(tmp)
        out = base / "result.json"
        env = bench_env(base)
        if display is not None:
            env["DISPLAY"] = display
            env["QT_QPA_PLATFORM"] = "xcb"
        subprocess.run(
            [sys.executable, "-m", "tests.bench.display", "--child", str(out)],
            cwd=ROOT,
            env=env,
            check=True,
            timeout=900,
        )
        return json.loads(out.read_text())


def run() -> list[tuple[str, float, str, float]]:
    return run_rows(measure())


def _mean(runs: list[dict], key: str) -> float:
    return statistics.mean(x[key] for x in runs)


def run_rows(r: dict) -> list[tuple[str, float, str, float]]:
    paint = dict(r["paint"])
    ceiling = paint.pop("ceiling")
    floor = paint.pop("floor", None)
    floor_paced = paint.pop("floor_paced", None)
    wire = paint.pop("wire_bytes", {})
    paints_per_s = paint.pop("paints_per_s", None)
    refresh_hz = paint.pop("refresh_hz", None)
    paced = paint.pop(PACED, None)
    frame_mb = W * H * 4 / 1e6
    copy = f"numpy copy of a frame ({ceiling * frame_mb:,.0f} MB/s)"

    def rates(name: str, fps: float) -> str:
        received = fps * wire.get(name, 0) / 1e6
        return f"{fps * frame_mb:,.0f} MB/s of pixels from {received:,.1f} MB/s received"

    rows = []
    if paced is not None:  # the app's own way: paint when the screen next refreshes
        rows.append(
            (
                f"VNC raw (desktop), decoded as it comes and painted as the screen refreshes "
                f"({paints_per_s:.0f} repaints/s, {refresh_hz:.0f} Hz screen): frames/s "
                f"({rates(PACED, paced)})",
                paced,
                copy,
                ceiling,
            )
        )
    rows += [
        (
            f"VNC {name}: decode + paint of every frame, 1920x1080, frames/s ({rates(name, fps)})",
            fps,
            copy,
            ceiling,
        )
        for name, fps in paint.items()
    ]
    if floor is not None:
        rows += [
            (
                "Least a Qt client can do per Raw frame (one copy of the pixels, no decoding,"
                " + the same repaint), frames/s",
                floor,
                "numpy copy of a frame",
                ceiling,
            ),
            (
                "VNC raw (desktop): decode + paint of every frame, frames/s",
                paint["raw (desktop)"],
                "that least (copy + repaint)",
                floor,
            ),
        ]
    if floor_paced is not None and paced is not None:
        rows.append(
            (
                "VNC raw (desktop), painted as the screen refreshes, frames/s",
                paced,
                "the least so (one copy a frame, same repaints)",
                floor_paced,
            )
        )
    nido, raw, viewer = r["nido"], r["raw"], r["remote_viewer"]
    rows += [
        (
            "Display, guest repainting 1080p: full frames/s",
            _mean(nido, "fps"),
            "minimal Raw client",
            _mean(raw, "fps"),
        ),
        (
            "Display: CPU per full frame (ms)",
            _mean(nido, "cpu_ms_per_frame"),
            "minimal Raw client",
            _mean(raw, "cpu_ms_per_frame"),
        ),
    ]
    if viewer:
        rows += [
            (
                "Display: CPU per full frame (ms)",
                _mean(nido, "cpu_ms_per_frame"),
                "remote-viewer 11 (gtk-vnc), Raw",
                _mean(viewer, "cpu_ms_per_frame"),
            ),
            (
                "remote-viewer: full frames/s",
                _mean(viewer, "fps"),
                "minimal Raw client",
                _mean(raw, "fps"),
            ),
        ]
    lat = sorted(r["latency_ms"])
    p95 = lat[min(len(lat) - 1, round(0.95 * (len(lat) - 1)))]
    rows += [
        (
            "Key press to bytes on the socket, median (ms)",
            statistics.median(lat),
            "target",
            LATENCY_TARGET_MS,
        ),
        (
            "Key press to bytes on the socket, 95th percentile (ms)",
            p95,
            "target",
            LATENCY_TARGET_MS,
        ),
    ]
    return rows


def main(argv: list[str]) -> int:
    if argv[:1] == ["--child"]:
        child(Path(argv[1]))
        return 0
    r = measure()
    print(json.dumps(r | {"latency_ms": sorted(round(x, 2) for x in r["latency_ms"])}, indent=1))
    print("| Measured | Value | Against | Reference | Ratio |")
    print("|---|---:|---|---:|---:|")
    for what, value, against, ref in run_rows(r):
        print(f"| {what} | {value:.2f} | {against} | {ref:.2f} | {value / ref:.2f} |")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    sys.exit(main(sys.argv[1:]))
