"""What libvirt's embedded driver does with guests when Nido quits and starts again.

Each step is a separate process, like two runs of Nido on This computer:
- a guest left running keeps running after Nido exits, and the next start finds it
  running (libvirt reconnects to the QEMU process from the state under its root);
- a guest whose QEMU died while Nido was away (the PC rebooted, say) is shown shut off.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.bench.measure import ROOT, bench_env

pytestmark = pytest.mark.integration


def session(env: dict[str, str], *args: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "tests.support.embedded_session", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_guests_outlive_nido_and_are_found_at_the_next_start(tmp_path) -> None:
    base = Path(tempfile.mkdtemp(prefix="ne", dir="/tmp"))
    env = bench_env(base)
    serial = tmp_path / "serial.log"
    pid = None
    try:
        started = session(env, "start", "survivor", str(serial))
        pid = int(Path(started["pid_file"]).read_text())
        os.kill(pid, 0)  # QEMU still runs after the first "Nido" exited
        assert session(env, "list") == {"survivor": "Running"}
        # QEMU dies while Nido is not running: the next start shows the guest shut off.
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        assert session(env, "list") == {"survivor": "Shut off"}
        session(env, "remove", "survivor")
        assert session(env, "list") == {}
    finally:
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(base, ignore_errors=True)
