"""Only one Nido per user: a second launch hands its request to the first."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

from app.qt.single_instance import SingleInstance


def test_second_instance_forwards_to_the_first(qtbot) -> None:
    name = f"nido-test-{uuid.uuid4().hex[:8]}"
    first = SingleInstance(name)
    assert first.listen()
    received = []
    first.messageReceived.connect(received.append)
    # The second launch is another process, as in real life; it blocks until the first
    # acknowledges, so run it in the background and keep the event loop turning.
    code = (
        "import sys\n"
        "from PySide6.QtCore import QCoreApplication\n"
        "from app.qt.single_instance import SingleInstance\n"
        "app = QCoreApplication([])\n"
        f"ok = SingleInstance({name!r}).forward({{'console': 'web', 'connect': None}})\n"
        "sys.exit(0 if ok else 3)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], env={**os.environ})
    qtbot.waitUntil(lambda: proc.poll() is not None, timeout=10000)
    assert proc.returncode == 0
    assert received == [{"console": "web", "connect": None}]
    first.close()


def test_without_a_first_instance_forward_fails_and_listen_wins(qtbot) -> None:
    name = f"nido-test-{uuid.uuid4().hex[:8]}"
    lone = SingleInstance(name)
    assert not lone.forward({"x": 1})
    assert lone.listen()
    other = SingleInstance(name)
    assert not other.listen()  # the lock is held by the first
    lone.close()
