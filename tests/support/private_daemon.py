"""A private, unprivileged libvirt daemon for tests: its own sockets and state in a
temporary directory, so tests can restart it, or reach it with virsh, without touching any
daemon of the machine. As root it runs as the user `nobody` (a session daemon); otherwise
as the current user."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

LIBVIRTD = shutil.which("libvirtd") or "/usr/sbin/libvirtd"


class PrivateDaemon:
    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="nd", dir="/tmp"))
        self.dir.chmod(0o755)
        self.proc: subprocess.Popen[bytes] | None = None
        self._as_nobody = os.geteuid() == 0
        if self._as_nobody:
            shutil.chown(self.dir, "nobody", "nogroup")
        self.log = self.dir / "libvirtd.log"

    @property
    def socket(self) -> Path:
        return self.dir / "run" / "libvirt" / "libvirt-sock"

    def uri(self, driver: str = "test", path: str = "default") -> str:
        return f"{driver}+unix:///{path}?socket={self.socket}"

    def start(self, timeout: float = 15.0) -> None:
        env = {
            "PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
            "HOME": str(self.dir),
            "XDG_RUNTIME_DIR": str(self.dir / "run"),
            "XDG_CONFIG_HOME": str(self.dir / "config"),
            "XDG_CACHE_HOME": str(self.dir / "cache"),
            "XDG_DATA_HOME": str(self.dir / "data"),
        }
        cmd = [LIBVIRTD]
        if self._as_nobody:
            cmd = ["setpriv", "--reuid", "nobody", "--regid", "nogroup", "--clear-groups", *cmd]
        self.socket.unlink(missing_ok=True)
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.socket.exists():
                return
            if self.proc.poll() is not None:
                raise RuntimeError(f"libvirtd exited: {self.log.read_text()[-2000:]}")
            time.sleep(0.05)
        raise RuntimeError("libvirtd did not create its socket in time")

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self.proc = None

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
