"""Cold start to a usable window with 500 VMs on a test-driver connection, against the
1.0 s target and against the floor: a bare PySide6 process that shows an empty window."""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.bench.measure import ROOT, RunningNido, bench_env, custom, write_settings
from tests.support.testdriver import domain, node_uri

TARGET_S = 1.0
RUNS = 5

BARE_QT = """
import sys, time
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication(sys.argv)
w = QMainWindow(); w.resize(880, 620); w.show()
QTimer.singleShot(0, lambda: (print("shown", flush=True), app.quit()))
app.exec()
"""


def bare_qt_seconds() -> float:
    t0 = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-c", BARE_QT],
        capture_output=True,
        text=True,
        env=bench_env(Path(tempfile.mkdtemp())),
    )
    assert "shown" in out.stdout, out.stderr
    return time.monotonic() - t0


def nido_seconds(base: Path, uri: str) -> tuple[float, float]:
    env = bench_env(base)
    write_settings(Path(env["XDG_CONFIG_HOME"]), [custom(uri, "Bench")])
    nido = RunningNido(env)
    try:
        shown = nido.wait_for("window shown", 30)
        listed = nido.wait_for("startup: 500 VMs of Bench listed", 30)
    finally:
        nido.stop()
    return shown, listed


def run() -> list[tuple[str, float, str, float]]:
    with tempfile.TemporaryDirectory(prefix="nb") as tmp:
        base = Path(tmp)
        oses = [
            "http://debian.org/debian/12",
            "http://microsoft.com/win/11",
            "http://fedoraproject.org/fedora/38",
            "",
        ]
        uri = node_uri(
            base,
            [
                domain(
                    f"vm-{i:03d}", state=("running", "shutoff", "paused")[i % 3], os_id=oses[i % 4]
                )
                for i in range(500)
            ],
        )
        bare = statistics.median(bare_qt_seconds() for _ in range(RUNS))
        results = [nido_seconds(base / f"r{i}", uri) for i in range(RUNS)]
    shown = statistics.median(r[0] for r in results)
    listed = statistics.median(r[1] for r in results)
    return [
        ("Cold start to window shown (500 VMs)", shown, "bare PySide6 window", bare),
        ("Cold start to 500 VMs listed, usable", listed, "target", TARGET_S),
        ("Cold start to 500 VMs listed, usable", listed, "bare PySide6 window", bare),
    ]


if __name__ == "__main__":
    for row in run():
        print(row)
    print(ROOT)
