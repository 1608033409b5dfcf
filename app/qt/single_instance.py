"""Only one Nido per user: the first one listens on a local socket; a second launch hands
its request (show the window, maybe open a VM) to the first and exits.

The embedded libvirt driver locks its root directory, so a second process could not open
"This computer" anyway; this turns that dead end into bringing the first window forward.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os

from PySide6.QtCore import QDir, QLockFile, QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from app.core.uris import data_dir

log = logging.getLogger(__name__)

TIMEOUT_MS = 1500


def server_name() -> str:
    """One name per user and data directory (where the embedded driver's locked root
    lives): a person has one Nido, while a test or benchmark with its own XDG directories
    is a Nido of its own."""
    tag = hashlib.sha1(str(data_dir()).encode()).hexdigest()[:8]
    return f"nido-{os.getuid()}-{tag}"


class SingleInstance(QObject):
    """Either becomes the primary instance (`is_primary`) or forwards a message to it."""

    messageReceived = Signal(dict)

    def __init__(self, name: str | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name or server_name()
        self._server: QLocalServer | None = None
        self._lock = QLockFile(QDir.tempPath() + f"/{self.name}.lock")
        self._lock.setStaleLockTime(0)

    def forward(self, message: dict) -> bool:
        """Send `message` to a running primary; True if one took it."""
        socket = QLocalSocket()
        socket.connectToServer(self.name)
        if not socket.waitForConnected(TIMEOUT_MS):
            return False
        socket.write(json.dumps(message).encode() + b"\n")
        socket.flush()
        ok = socket.waitForBytesWritten(TIMEOUT_MS) or socket.bytesToWrite() == 0
        # Wait for the primary's one-byte acknowledgement so the message is not lost when
        # this process exits straight away.
        ok = ok and socket.waitForReadyRead(TIMEOUT_MS) and socket.read(1).data() == b"1"
        socket.disconnectFromServer()
        return bool(ok)

    def listen(self) -> bool:
        """Become the primary. False if another process got there first."""
        if not self._lock.tryLock(TIMEOUT_MS):
            return False
        QLocalServer.removeServer(self.name)  # a stale socket from a crashed instance
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not server.listen(self.name):
            log.warning("single-instance server failed: %s", server.errorString())
            self._lock.unlock()
            return False
        server.newConnection.connect(self._accept)
        self._server = server
        return True

    def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        self._lock.unlock()

    def _accept(self) -> None:
        assert self._server is not None
        while (socket := self._server.nextPendingConnection()) is not None:
            socket.readyRead.connect(lambda s=socket: self._read(s))
            socket.disconnected.connect(socket.deleteLater)

    def _read(self, socket: QLocalSocket) -> None:
        if not socket.canReadLine():
            return
        line = socket.readLine().data()
        socket.write(b"1")
        socket.flush()
        try:
            message = json.loads(line)
        except ValueError:
            log.warning("ignoring a malformed message from another Nido")
            return
        if isinstance(message, dict):
            self.messageReceived.emit(message)
