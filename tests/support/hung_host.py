"""A libvirt "host" that accepts connections and then never answers, like a remote
machine that froze. Used to prove that nothing in Nido waits on it."""

from __future__ import annotations

import socket
import tempfile
import threading
from pathlib import Path


class HungHost:
    """A UNIX socket that accepts and stays silent. `uri` reaches it through libvirt."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="nh", dir="/tmp"))
        self.path = self.dir / "sock"
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(self.path))
        self.sock.listen(8)
        self.accepted: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def uri(self) -> str:
        return f"qemu+unix:///system?socket={self.path}"

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.append(client)  # keep it open, read nothing, answer nothing

    def close(self) -> None:
        self.sock.close()
        for c in self.accepted:
            c.close()
        self.path.unlink(missing_ok=True)
        self.dir.rmdir()
