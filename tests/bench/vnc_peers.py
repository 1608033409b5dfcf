"""The other ends the display benchmark measures Nido against, each independent of Nido's
RFB code:

- :func:`raw_client`: a minimal client that asks for Raw only and reads updates straight
  into a NumPy framebuffer — what any client must at least do to keep up with the guest.
- :data:`KEY_STAMPER`: a relay process between Nido and QEMU that stamps the moment each
  key message arrives on its socket (CLOCK_MONOTONIC, like the sender's stamps).
- :data:`PIXEL_COUNTER`: a relay process between any VNC client (remote-viewer) and QEMU
  that narrows the client's encodings to Raw and counts the pixels of the updates it
  passes, so frames/s and CPU per frame mean the same for every client.

The relays are separate processes, so that Python's GIL in the measuring process cannot
delay them, and they cost the measured clients nothing.
"""

from __future__ import annotations

import socket
import struct
import time

#: Runs as ``python -c KEY_STAMPER CLIENT_FD SERVER_FD``: passes bytes both ways and, when
#: the client closes, prints a JSON list of [time, down] for each key message it sent.
KEY_STAMPER = r"""
import json, select, socket, struct, sys, time
client = socket.socket(fileno=int(sys.argv[1]))
server = socket.socket(fileno=int(sys.argv[2]))
stamps, buf, stage = [], bytearray(), 0
SIZES = {0: 20, 3: 10, 4: 8, 5: 6}
def parse():
    global stage
    while True:
        if stage == 0:  # version, security type, ClientInit
            if len(buf) < 14: return
            del buf[:14]; stage = 1; continue
        if not buf: return
        kind = buf[0]
        if kind in SIZES: n = SIZES[kind]
        elif kind == 2:
            if len(buf) < 4: return
            n = 4 + 4 * struct.unpack_from(">H", buf, 2)[0]
        elif kind == 6:
            if len(buf) < 8: return
            n = 8 + struct.unpack_from(">I", buf, 4)[0]
        elif kind == 255: n = 12
        else: raise SystemExit(f"unknown client message {kind}")
        if len(buf) < n: return
        if kind in (4, 255): stamps.append((time.monotonic(), buf[1 if kind == 4 else 3]))
        del buf[:n]
open_ = True
while open_:
    ready, _, _ = select.select([client, server], [], [])
    for s in ready:
        try:
            data = s.recv(1 << 20)
        except ConnectionError:
            data = b""
        if not data:
            open_ = False; break
        try:  # the far side may have closed meanwhile: that ends the relay too
            if s is client:
                server.sendall(data); buf += data; parse()
            else:
                client.sendall(data)
        except ConnectionError:
            open_ = False; break
print(json.dumps(stamps), flush=True)
"""

#: Runs as ``python -c PIXEL_COUNTER SERVER_FD``: listens on 127.0.0.1, prints its port,
#: serves one client, and on SIGUSR1 prints {"t", "pixels", "updates"} as a JSON line.
#: The client's SetEncodings is cut down to Raw and the pseudo-encodings below, all of
#: whose lengths the counter knows.
PIXEL_COUNTER = r"""
import json, select, signal, socket, struct, sys, time
server = socket.socket(fileno=int(sys.argv[1]))
count = {"pixels": 0, "updates": 0}
def report(*_):
    print(json.dumps({"t": time.monotonic(), **count}), flush=True)
signal.signal(signal.SIGUSR1, report)  # before the port is known: asking may start at once
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen(1)
print(listener.getsockname()[1], flush=True)
client, _ = listener.accept()
listener.close()
# Raw, DesktopSize, Cursor, QEMU pointer motion change, QEMU extended key event, LED state
KEEP = (0, -223, -239, -257, -258, -261)

cbuf, chand = bytearray(), 14  # version, security type, ClientInit
bpp = 4
def client_messages():
    global chand, bpp
    out = bytearray()
    while cbuf:
        if chand:
            n = min(chand, len(cbuf)); out += cbuf[:n]; del cbuf[:n]; chand -= n; continue
        k = cbuf[0]
        fixed = {0: 20, 3: 10, 4: 8, 5: 6, 150: 10}
        if k in fixed: n = fixed[k]
        elif k == 2:
            if len(cbuf) < 4: break
            n = 4 + 4 * struct.unpack_from(">H", cbuf, 2)[0]
        elif k == 6:
            if len(cbuf) < 8: break
            n = 8 + struct.unpack_from(">I", cbuf, 4)[0]
        elif k == 251:
            if len(cbuf) < 8: break
            n = 8 + 16 * cbuf[6]
        elif k == 255:
            if len(cbuf) < 4: break
            n = 12 if cbuf[1] == 0 else (10 if struct.unpack_from(">H", cbuf, 2)[0] == 2 else 4)
        else:
            raise SystemExit(f"unknown client message {k}")
        if len(cbuf) < n: break
        msg = bytes(cbuf[:n]); del cbuf[:n]
        if k == 0:
            bpp = msg[4] // 8
        if k == 2:
            encs = struct.unpack_from(">%di" % ((n - 4) // 4), msg, 4)
            keep = [e for e in encs if e in KEEP]
            msg = struct.pack(">BxH%di" % len(keep), 2, len(keep), *keep)
        out += msg
    return bytes(out)

sbuf, stage, skip, rects = bytearray(), 0, 0, 0
def server_messages():
    global stage, skip, rects
    while True:
        if skip:
            n = min(skip, len(sbuf)); del sbuf[:n]; skip -= n
            if skip: return
            continue
        if stage == 0:  # version
            if len(sbuf) < 12: return
            del sbuf[:12]; stage = 1
        elif stage == 1:  # security types (3.8)
            if not sbuf or len(sbuf) < 1 + sbuf[0]: return
            del sbuf[:1 + sbuf[0]]; stage = 2
        elif stage == 2:  # security result
            if len(sbuf) < 4: return
            del sbuf[:4]; stage = 3
        elif stage == 3:  # ServerInit
            if len(sbuf) < 24: return
            skip = 24 + struct.unpack_from(">I", sbuf, 20)[0]; stage = 4
        elif rects:
            if len(sbuf) < 12: return
            x, y, w, h, enc = struct.unpack_from(">HHHHi", sbuf)
            if enc == 0: n = w * h * bpp; count["pixels"] += w * h
            elif enc in (-223, -257, -258): n = 0
            elif enc == -261: n = 1
            elif enc == -239: n = w * h * bpp + (w + 7) // 8 * h
            else: raise SystemExit(f"unexpected encoding {enc}")
            del sbuf[:12]; skip = n; rects -= 1
            if not rects: count["updates"] += 1
        else:
            if not sbuf: return
            k = sbuf[0]
            if k == 0:
                if len(sbuf) < 4: return
                rects = struct.unpack_from(">H", sbuf, 2)[0]; del sbuf[:4]
                if not rects: count["updates"] += 1
            elif k == 1:
                if len(sbuf) < 6: return
                skip = 6 + 6 * struct.unpack_from(">H", sbuf, 4)[0]
            elif k == 2: del sbuf[:1]
            elif k == 3:
                if len(sbuf) < 8: return
                skip = 8 + struct.unpack_from(">I", sbuf, 4)[0]
            else:
                raise SystemExit(f"unknown server message {k}")

open_ = True
while open_:
    ready, _, _ = select.select([client, server], [], [])
    for s in ready:
        try:
            data = s.recv(1 << 20)
        except ConnectionError:
            data = b""
        if not data:
            open_ = False; break
        try:
            if s is client:
                cbuf += data; out = client_messages()
                if out: server.sendall(out)
            else:
                client.sendall(data); sbuf += data; server_messages()
        except ConnectionError:
            open_ = False; break
"""


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    out = bytearray()
    while len(out) < n:
        chunk = sock.recv(n - len(out))
        if not chunk:
            raise ConnectionError("server closed")
        out += chunk
    return bytes(out)


def _recv_into(sock: socket.socket, view: memoryview) -> None:
    while len(view):
        n = sock.recv_into(view)
        if not n:
            raise ConnectionError("server closed")
        view = view[n:]


def raw_client(sock: socket.socket, seconds: float) -> dict[str, float]:
    """Read Raw updates into a framebuffer for ``seconds``; full frames/s and CPU."""
    import numpy as np

    from app.core.rfb import CLIENT_PIXEL_FORMAT
    from app.core.rfb import messages as m

    sock.setblocking(True)
    _recv_exact(sock, 12)
    sock.sendall(b"RFB 003.008\n")
    n = _recv_exact(sock, 1)[0]
    assert 1 in _recv_exact(sock, n)
    sock.sendall(b"\x01")
    assert _recv_exact(sock, 4) == b"\0\0\0\0"
    sock.sendall(b"\x01")
    width, height, _pf, name_len = struct.unpack(">HH16sI", _recv_exact(sock, 24))
    _recv_exact(sock, name_len)
    sock.sendall(
        m.set_pixel_format(CLIENT_PIXEL_FORMAT)
        + m.set_encodings([0])
        + m.framebuffer_update_request(False, 0, 0, width, height)
    )
    fb = np.zeros(width * height * 4, np.uint8)
    flat = memoryview(fb)
    incremental = m.framebuffer_update_request(True, 0, 0, width, height)
    pixels = updates = 0
    cpu0, t0 = time.process_time(), time.monotonic()
    while time.monotonic() - t0 < seconds:
        kind = _recv_exact(sock, 1)[0]
        if kind == 2:  # bell
            continue
        if kind == 3:  # cut text
            _recv_exact(sock, 3)
            _recv_exact(sock, struct.unpack(">I", _recv_exact(sock, 4))[0])
            continue
        assert kind == 0, kind
        count = struct.unpack(">xH", _recv_exact(sock, 3))[0]
        for _ in range(count):
            x, y, w, h, enc = struct.unpack(">HHHHi", _recv_exact(sock, 12))
            assert enc == 0, enc
            if w == width:
                _recv_into(sock, flat[y * width * 4 : (y + h) * width * 4])
            else:
                rows = np.frombuffer(_recv_exact(sock, w * h * 4), np.uint8).reshape(h, w * 4)
                fb.reshape(height, width * 4)[y : y + h, x * 4 : (x + w) * 4] = rows
            pixels += w * h
        updates += 1
        sock.sendall(incremental)
    elapsed = time.monotonic() - t0
    frames = pixels / (width * height)
    return {
        "fps": frames / elapsed,
        "updates": updates / elapsed,
        "cpu_ms_per_frame": 1000 * (time.process_time() - cpu0) / max(frames, 1e-9),
    }
