"""A stand-in for ``ssh -W host:port`` and a tiny TCP display server, for the remote-display
tests: no real remote host, no sshd.

:func:`install_fake_ssh` writes an executable ``ssh`` into a directory and puts it first
on ``PATH``. It records each run (argv and pid, one JSON line) and then, by the
``FAKE_SSH_MODE`` variable:

- ``bridge`` (default): connects to host:port and copies stdin to the connection and the
  connection to stdout, exiting when stdin ends, as ssh -W does; a refused connection
  prints ssh's own words and exits 255;
- ``deny``: prints ssh's "Permission denied" and exits 255;
- ``stubborn``: bridges, but ignores both the end of stdin and SIGTERM;
- ``hang``: never gets anywhere and never reads stdin (a login that hangs).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

_SCRIPT = r"""#!{python}
import json, os, signal, socket, sys, threading, time

args = sys.argv[1:]
with open(os.environ["FAKE_SSH_RECORD"], "a") as f:
    f.write(json.dumps({{"argv": args, "pid": os.getpid()}}) + "\n")
mode = os.environ.get("FAKE_SSH_MODE", "bridge")
if mode == "deny":
    sys.stderr.write("me@host: Permission denied (publickey,password).\n")
    sys.exit(255)
if mode == "stubborn":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
if mode == "hang":
    while True:
        time.sleep(60)
host, _, port = args[args.index("-W") + 1].rpartition(":")
try:
    conn = socket.create_connection((host.strip("[]"), int(port)))
except OSError:
    sys.stderr.write("channel 0: open failed: connect failed: Connection refused\n"
                     "stdio forwarding failed\n")
    sys.exit(255)

def upstream():
    while True:
        data = os.read(0, 65536)
        if not data:
            break
        conn.sendall(data)
    if mode == "stubborn":
        while True:
            time.sleep(60)
    os._exit(0)

threading.Thread(target=upstream, daemon=True).start()
while True:
    data = conn.recv(65536)
    if not data:
        os._exit(0)
    view = memoryview(data)
    while view:
        view = view[os.write(1, view):]
"""


@dataclass
class FakeSsh:
    """The installed stand-in: where it is and what it recorded."""

    path: Path
    record: Path

    def runs(self) -> list[dict]:
        if not self.record.exists():
            return []
        return [json.loads(line) for line in self.record.read_text().splitlines()]


def install_fake_ssh(directory: Path, monkeypatch) -> FakeSsh:
    """Write the stand-in as ``directory/ssh`` and put ``directory`` first on PATH."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "ssh"
    path.write_text(_SCRIPT.format(python=sys.executable))
    path.chmod(0o755)
    record = directory / "runs.jsonl"
    monkeypatch.setenv("PATH", f"{directory}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setenv("FAKE_SSH_RECORD", str(record))
    monkeypatch.delenv("FAKE_SSH_MODE", raising=False)
    return FakeSsh(path, record)


def pid_alive(pid: int) -> bool:
    """Whether ``pid`` still exists (a zombie counts: it has not been reaped)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


class GreetingServer:
    """A TCP server on 127.0.0.1 that accepts one client, sends ``greeting`` (an RFB
    version, as a VNC server speaks first) and keeps what the client sends."""

    def __init__(self, greeting: bytes = b"RFB 003.008\n") -> None:
        self.greeting = greeting
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.received = bytearray()
        self.client_closed = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        try:
            conn, _ = self.listener.accept()
        except OSError:
            return
        with conn:
            try:
                if self.greeting:
                    conn.sendall(self.greeting)
                while data := conn.recv(65536):
                    self.received += data
            except OSError:
                pass
        self.client_closed.set()

    def close(self) -> None:
        # shutdown() wakes an accept() that is still waiting; close() alone would not.
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        self._thread.join(5)
