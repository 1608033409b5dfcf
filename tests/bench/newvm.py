"""The New-VM wizard's speed. Not a test:

    .venv/bin/python -m tests.bench.newvm       (or: python -m tests.bench newvm)

- Detection on install discs built with xorriso whose labels match real releases (Debian,
  Ubuntu, Fedora, openSUSE, FreeBSD, Windows 11), through the OS-database helper process
  as Nido does it: with the helper running (the wizard starts it when it opens), and the
  first detection of a fresh client, which starts the helper and loads osinfo-db in it.
  Against libosinfo in this process, as Nido did before the helper.
- Memory: Nido's resident memory before the wizard opens, while it is open with a disc
  detected, and after it closed (the helper, and osinfo-db with it, gone).
- Finish to the first guest frame: the wizard on "This computer" (the embedded driver, in
  a process of its own with fresh XDG directories), the GRUB rescue disc, Generic Linux
  2022, BIOS; from the press on Create until the guest's screen first shows something
  (libvirt screenshots, polled), split into Nido's own time (before QEMU starts: checks,
  the disk, the XML, the definition; after: the VM listed and its window asked for) and
  QEMU's (libvirt starting QEMU, then the firmware drawing its first picture). Then the
  VM window: how long it takes to build, and when its live display first shows a frame
  with something on it.
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DETECT_TARGET_S = 0.300
NIDO_TARGET_S = 1.0
DISCS = ("debian11", "ubuntu22.04", "fedora37", "opensuse15.4", "freebsd13.1", "win11")


def _detect_times(db, isos: list[Path]) -> dict[str, float]:
    t0 = time.perf_counter()
    first = db.detect(isos[0])
    cold = time.perf_counter() - t0
    assert first.os is not None and first.os.short_id == "debian11", first
    times = []
    for iso in isos:
        for _ in range(5):
            t = time.perf_counter()
            det = db.detect(iso)
            times.append(time.perf_counter() - t)
        assert det.recognised, iso
    return {"cold": cold, "warm_median": statistics.median(times), "warm_max": max(times)}


def _detection(work: Path) -> dict[str, float]:
    """Through the helper process (what Nido does), then libosinfo in this process (what
    it did before the helper: the reference). Run last: the reference loads osinfo-db
    here for good."""
    from app.core import osdb
    from tests.unit.core.osdb.conftest import SPECS, build_iso

    isos = [build_iso(work / f"detect-{n}.iso", SPECS[n]) for n in DISCS]
    client = osdb.OSDatabaseClient()
    try:
        helper = _detect_times(client, isos)
    finally:
        client.close()
    local = _detect_times(osdb.OSDatabase(), isos)
    return {**helper, **{f"inproc_{k}": v for k, v in local.items()}}


def _rss_mib(pid: int | str = "self") -> float:
    pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _memory(app, window, wait, iso: Path) -> dict[str, float]:
    """Nido's resident memory before the wizard opens, while it is open with a disc
    detected, and after it closed; and the helper's own while it runs."""
    import gc

    from app.core import osdb

    def calm(seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.01)
        gc.collect()

    def use_wizard() -> tuple[float, float, float]:
        window.new_vm_action.trigger()
        wizard = window.new_vm_wizard
        wait(lambda: wizard.host is not None and wizard.catalogue is not None, 60)
        wizard.source_page.iso.edit.setText(str(iso))
        wait(lambda: wizard.spec.detection is not None and wizard.os_ready, 60)
        calm(0.5)
        during = _rss_mib()
        pid = osdb.database().pid
        helper = _rss_mib(pid) if pid else 0.0
        wizard.reject()
        wait(lambda: window.new_vm_wizard is None, 30)
        calm(1.0)
        assert not osdb.database().running, "the helper outlived the wizard"
        return during, helper, _rss_mib()

    calm(1.0)
    before = _rss_mib()
    during, helper, after = use_wizard()
    _, _, again = use_wizard()
    # As Nido was before the helper: libosinfo in this process, for good.
    local = osdb.OSDatabase()
    local.defaults_for(local.detect(iso))
    local.catalogue()
    calm(0.5)
    inproc = _rss_mib()
    return {
        "before": before,
        "during": during,
        "after": after,
        "again": again,
        "helper": helper,
        "inproc": inproc,
    }


def _create(work: Path) -> dict[str, float]:
    import libvirt
    from PySide6.QtWidgets import QApplication

    from app.core import uris
    from app.core.connection import ConnectionSpec, State
    from app.core.newvm import images
    from app.core.settings import Settings
    from app.core.xml import Domain
    from app.qt.bridge import ConnectionHub
    from app.qt.models import VMTreeModel
    from tests.guest import rescue_iso
    from tests.guest.libvirt_env import screenshot
    from tests.support.local import connection_for_tests
    from widgets.main_window import MainWindow
    from widgets.newvm import PageId

    app = QApplication.instance() or QApplication(["bench"])
    marks: dict[str, float] = {}
    spans: dict[str, float] = {}

    def timed(name: str, fn):
        def wrapper(*args, **kwargs):
            t = time.perf_counter()
            marks.setdefault(f"{name}_start", t)
            try:
                return fn(*args, **kwargs)
            finally:
                end = time.perf_counter()
                marks[f"{name}_end"] = end
                spans[name] = spans.get(name, 0.0) + end - t

        return wrapper

    libvirt.virDomain.create = timed("qemu_start", libvirt.virDomain.create)
    libvirt.virConnect.defineXML = timed("define", libvirt.virConnect.defineXML)
    images.create_qcow2 = timed("qemu_img", images.create_qcow2)

    def wait(cond, timeout: float) -> None:
        end = time.monotonic() + timeout
        while not cond():
            app.processEvents()
            time.sleep(0.002)
            if time.monotonic() > end:
                raise TimeoutError(cond)

    hub = ConnectionHub(
        Settings(connections=[ConnectionSpec(kind=uris.Kind.LOCAL)]),
        save_settings=False,
        connection_factory=connection_for_tests,
    )
    model = VMTreeModel(hub)
    window = MainWindow(hub, model)
    hub.start()
    window.show()
    conn = hub.connections()[0]
    wait(lambda: conn.state is State.CONNECTED and window.new_vm_action.isEnabled(), 120)
    from tests.unit.core.osdb.conftest import SPECS, build_iso

    memory = _memory(app, window, wait, build_iso(work / "memory.iso", SPECS["debian11"]))
    window.new_vm_action.trigger()
    wizard = window.new_vm_wizard
    wait(lambda: wizard.host is not None and wizard.catalogue is not None, 60)

    def settled() -> bool:
        return (
            wizard.settled
            and not wizard.source_page._path_timer.isActive()
            and not wizard.summary_page._name_timer.isActive()
        )

    def forward(page: PageId) -> None:
        while wizard.currentId() < page:
            wait(lambda: settled() and wizard.currentPage().isComplete(), 30)
            wizard.next()

    wizard.source_page.iso.edit.setText(str(rescue_iso()))
    forward(PageId.OS)
    wizard.os_page.other.setChecked(True)
    wizard.os_page.search.setText("linux2022")
    wizard.os_page.list.setCurrentRow(0)
    wait(settled, 30)
    assert wizard.spec.os is not None and wizard.spec.os.short_id == "linux2022"
    forward(PageId.RESOURCES)
    wizard.resources_page.vcpus.control.spin.setValue(1)
    wizard.resources_page.disk.control.spin.setValue(3)
    forward(PageId.SUMMARY)
    wizard.summary_page.name.setText("nido-bench-newvm")
    wait(lambda: settled() and wizard.summary_page.isComplete(), 30)

    opened: list[float] = []
    shown: list[float] = []
    windows = []

    def open_vm(vm) -> None:
        opened.append(time.perf_counter())
        from widgets.vm_window import VMWindow  # as Nido.open_vm does

        vm_window = VMWindow(hub, model, vm)
        vm_window.show()
        windows.append(vm_window)
        shown.append(time.perf_counter())
        vm_window.display.controller.sessionChanged.connect(watch_session)
        watch_session(getattr(vm_window.display.controller, "session", None))

    on_screen: list[float] = []

    def watch_session(session) -> None:
        """The first frame with something on it that Nido's own display receives."""
        if session is None:
            return

        def damaged(_rects) -> None:
            if on_screen:
                return
            image = session.image()
            w, h = image.width(), image.height()
            seen = {image.pixel(x, y) for x in range(0, w, 7) for y in range(0, h, 7)}
            if len(seen) >= 2:
                on_screen.append(time.perf_counter())

        session.damaged.connect(damaged)

    window.openVM.connect(open_vm)
    frame: list[float] = []
    virconn = conn.virconn

    def watch() -> None:
        deadline = time.monotonic() + 120
        while "qemu_start_end" not in marks and time.monotonic() < deadline:
            time.sleep(0.001)
        dom = virconn.lookupByName("nido-bench-newvm")
        while time.monotonic() < deadline:
            if screenshot(virconn, dom).distinct_colours() >= 2:
                frame.append(time.perf_counter())
                return
            time.sleep(0.02)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    pressed = time.perf_counter()
    wizard.next()  # Create
    wait(lambda: bool(shown) and bool(frame), 180)
    with contextlib.suppress(TimeoutError):  # no live display in the VM window: no row
        wait(lambda: bool(on_screen), 30)
    for vm_window in windows:
        vm_window.close()

    dom = virconn.lookupByName("nido-bench-newvm")
    disk = next(d.source_file for d in Domain.from_xml(dom.XMLDesc(0)).devices.disks)
    dom.destroy()
    dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_NVRAM)
    if disk:
        os.unlink(disk)
    hub.shutdown()

    before = marks["qemu_start_start"] - pressed
    after = opened[0] - marks["qemu_start_end"]
    return {
        "total": frame[0] - pressed,
        "nido_before": before,
        "nido_after": after,
        "qemu_start": spans["qemu_start"],
        "qemu_to_frame": frame[0] - marks["qemu_start_end"],
        "qemu_img": spans.get("qemu_img", 0.0),
        "define": spans.get("define", 0.0),
        "window_asked": opened[0] - pressed,
        "window_built": shown[0] - opened[0],
        "on_screen": on_screen[0] - pressed if on_screen else -1.0,
        "accelerator": 1.0 if conn.accelerator and conn.accelerator.is_kvm else 0.0,
        **{f"rss_{k}": v for k, v in memory.items()},
    }


def child() -> None:
    with tempfile.TemporaryDirectory(prefix="nbw") as tmp:
        create = _create(Path(tmp))  # first: it measures memory before osinfo-db is here
        result = {"detect": _detection(Path(tmp)), "create": create}
    print(json.dumps(result))


def measure() -> dict[str, dict[str, float]]:
    with tempfile.TemporaryDirectory(prefix="nb") as tmp:
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen", LANGUAGE="C")
        for name in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME", "XDG_RUNTIME_DIR"):
            env[name] = str(Path(tmp) / name[4:8].lower())
            Path(env[name]).mkdir(mode=0o700)
        proc = subprocess.run(
            [sys.executable, "-m", "tests.bench.newvm", "--child"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"the wizard benchmark failed:\n{proc.stderr[-4000:]}")
        return json.loads(proc.stdout.strip().splitlines()[-1])


def run() -> list[tuple[str, float, str, float]]:
    data = measure()
    d, c = data["detect"], data["create"]
    nido = c["nido_before"] + c["nido_after"]
    qemu = c["qemu_start"] + c["qemu_to_frame"]
    accel = "KVM" if c["accelerator"] else "TCG"
    share = "Nido's share"
    return [
        (
            "Detect an install ISO, helper running (s, median of 30)",
            d["warm_median"],
            "target",
            DETECT_TARGET_S,
        ),
        (
            "Detect an install ISO, helper running (s, slowest of 30)",
            d["warm_max"],
            "target",
            DETECT_TARGET_S,
        ),
        (
            "Detect an install ISO, first: starting the helper, loading osinfo-db (s)",
            d["cold"],
            "libosinfo in process, first",
            d["inproc_cold"],
        ),
        (
            "Detect an install ISO, libosinfo in process (s, median of 30)",
            d["inproc_warm_median"],
            "helper running",
            d["warm_median"],
        ),
        (
            "Nido's resident memory, wizard open, disc detected (MiB)",
            c["rss_during"],
            "before the wizard opened",
            c["rss_before"],
        ),
        (
            "Nido's resident memory, wizard closed (MiB)",
            c["rss_after"],
            "before the wizard opened",
            c["rss_before"],
        ),
        (
            "Nido's resident memory, wizard opened and closed a second time (MiB)",
            c["rss_again"],
            "before the wizard opened",
            c["rss_before"],
        ),
        (
            "Nido's resident memory, libosinfo loaded in process, as before the helper (MiB)",
            c["rss_inproc"],
            "before the wizard opened",
            c["rss_before"],
        ),
        (
            "The helper's resident memory while the wizard is open (MiB)",
            c["rss_helper"],
            "Nido's, wizard open",
            c["rss_during"],
        ),
        (
            f"Create → first guest frame, GRUB rescue ISO, {accel} (s)",
            c["total"],
            "QEMU's share",
            qemu,
        ),
        (
            "Nido's share: before QEMU starts, and after until the VM window is asked for (s)",
            nido,
            "target",
            NIDO_TARGET_S,
        ),
        ("  before QEMU starts: checks, disk, XML, definition (s)", c["nido_before"], share, nido),
        ("    of which qemu-img create (s)", c["qemu_img"], share, nido),
        ("    of which libvirt defineXML (s)", c["define"], share, nido),
        (
            "  after QEMU started: running, listed, window asked for (s)",
            c["nido_after"],
            share,
            nido,
        ),
        ("Then: the VM window built and shown (s)", c["window_built"], "target", NIDO_TARGET_S),
        *(
            [
                (
                    "Create → first guest frame in Nido's VM window (live VNC display) (s)",
                    c["on_screen"],
                    "QEMU's share",
                    qemu,
                )
            ]
            if c["on_screen"] > 0
            else []
        ),
        (
            "QEMU's share: libvirt starting QEMU (s)",
            c["qemu_start"],
            "Create → first frame",
            c["total"],
        ),
        (
            "QEMU's share: started → first frame (s)",
            c["qemu_to_frame"],
            "Create → first frame",
            c["total"],
        ),
    ]


def fmt(value: float) -> str:
    return f"{value:.3f}" if value < 10 else f"{value:.1f}"


def main() -> None:
    if "--child" in sys.argv:
        child()
        return
    print("| Measured | Value | Against | Reference | Ratio |")
    print("|---|---:|---|---:|---:|")
    for what, value, against, ref in run():
        print(f"| {what} | {fmt(value)} | {against} | {fmt(ref)} | {value / ref:.2f} |")


if __name__ == "__main__":
    main()
