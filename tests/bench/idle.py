"""Nido at idle: CPU with 10 running guests and statistics every second (target under 1 %
of one core), and resident memory (target under 150 MB).

The guests (the cached test Linux, under TCG here) are started on a private embedded root
by a helper process that then exits, so that the only process measured is Nido itself:
libvirt's embedded QEMU driver runs inside Nido, so its work counts. The window is
"shown" on the offscreen platform, so live thumbnails are taken as on a desktop.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from app.core import uris
from app.core.connection import ConnectionSpec
from tests.bench.measure import ROOT, RunningNido, bench_env, custom, write_settings
from tests.support.testdriver import domain, node_uri

CPU_TARGET = 1.0
RSS_TARGET_MB = 150.0
GUESTS = 10
SETTLE_S = 15
MEASURE_S = 30

START_GUESTS = """
import sys
from pathlib import Path
from app.core import uris
from app.core.connection import Connection, ConnectionSpec
from tests.support.local import no_daemon_prober
from tests.support.waiting import wait_connected
from tests.guest import READY_MARKER, accelerator, domain_xml, linux_guest
from tests.guest.libvirt_env import wait_for_text
conn = Connection(ConnectionSpec(kind=uris.Kind.LOCAL), local_prober=no_daemon_prober)
conn.connect()
assert wait_connected(conn, 120), conn.reason
logs = []
for i in range(int(sys.argv[1])):
    log = Path(sys.argv[2]) / f"g{i}.log"
    xml = domain_xml(f"idle-{i}", linux_guest(), accelerator(), serial_log=log)
    conn.virconn.defineXML(xml).create()
    logs.append(log)
for log in logs:
    wait_for_text(log, READY_MARKER, 180)
print("ready")
"""

STOP_GUESTS = """
from app.core import uris
from app.core.connection import Connection, ConnectionSpec
from tests.support.local import no_daemon_prober
from tests.support.waiting import wait_connected
conn = Connection(ConnectionSpec(kind=uris.Kind.LOCAL), local_prober=no_daemon_prober)
conn.connect()
assert wait_connected(conn, 120), conn.reason
for dom in conn.virconn.listAllDomains():
    if dom.isActive(): dom.destroy()
    dom.undefine()
"""


def local() -> ConnectionSpec:
    # Embedded from the start, like the guests' helper: never a daemon of the machine.
    return ConnectionSpec(kind=uris.Kind.LOCAL, local_mode=uris.LocalMode.EMBEDDED.value)


def _helper(env: dict[str, str], code: str, *args: str) -> None:
    subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, env=env, check=True, timeout=600)


def with_guests(modes: tuple[bool, ...] = (True, False)) -> dict[bool, dict[str, float]]:
    """Measure Nido with the guests running, once per thumbnails setting in `modes`."""
    base = Path(tempfile.mkdtemp(prefix="ni", dir="/tmp"))
    env = bench_env(base)
    logs = base / "serial"
    logs.mkdir()
    results = {}
    try:
        _helper(env, START_GUESTS, str(GUESTS), str(logs))
        for thumbnails in modes:
            write_settings(Path(env["XDG_CONFIG_HOME"]), [local()], thumbnails=thumbnails)
            nido = RunningNido(env)
            try:
                nido.wait_for(f"startup: {GUESTS} VMs of This computer listed", 120)
                time.sleep(SETTLE_S)
                cpu = nido.idle_cpu_percent(MEASURE_S)
                rss = nido.rss_mib()
            finally:
                nido.stop()
            results[thumbnails] = {"cpu": cpu, "rss": rss}
        _helper(env, STOP_GUESTS)
    finally:
        subprocess.run(["pkill", "-f", f"{base}/"], check=False)
        shutil.rmtree(base, ignore_errors=True)
    return results


def with_500_vms() -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="nb") as tmp:
        base = Path(tmp)
        uri = node_uri(base, [domain(f"vm-{i:03d}", state="shutoff") for i in range(500)])
        env = bench_env(base)
        write_settings(Path(env["XDG_CONFIG_HOME"]), [custom(uri, "Bench")])
        nido = RunningNido(env)
        try:
            nido.wait_for("startup: 500 VMs of Bench listed", 60)
            time.sleep(5)
            cpu = nido.idle_cpu_percent(15)
            rss = nido.rss_mib()
        finally:
            nido.stop()
    return {"cpu": cpu, "rss": rss}


def run() -> list[tuple[str, float, str, float]]:
    guests = with_guests()
    many = with_500_vms()
    return [
        (
            f"Idle CPU, {GUESTS} running guests, stats 1/s, thumbnails (% of a core)",
            guests[True]["cpu"],
            "target",
            CPU_TARGET,
        ),
        (
            f"Idle CPU, {GUESTS} running guests, stats 1/s, no thumbnails (% of a core)",
            guests[False]["cpu"],
            "target",
            CPU_TARGET,
        ),
        (
            f"Resident memory, {GUESTS} running guests (MiB)",
            guests[True]["rss"],
            "target",
            RSS_TARGET_MB,
        ),
        ("Idle CPU, 500 VMs listed (% of a core)", many["cpu"], "target", CPU_TARGET),
        ("Resident memory, 500 VMs listed (MiB)", many["rss"], "target", RSS_TARGET_MB),
    ]


if __name__ == "__main__":
    for row in run():
        print(row)
