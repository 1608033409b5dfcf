"""Screenshots of every page of the New-VM wizard, and of the main window with no VM
(where New VM… is offered), for the README and for review:

    QT_QPA_PLATFORM=offscreen .venv/bin/python -m tests.widgets.newvm.screenshots [DIR]

The wizard runs over hand-made host facts (an embedded-like host: 8 CPUs on 4 cores,
16 GiB, UEFI, Secure Boot, a TPM, user-mode NAT, a network and a bridge) with a Windows 11
install disc built with xorriso, so the pictures do not depend on the machine. Nothing is
created: the Create page is shown with its progress as it looks during a creation, and
past the point of no return. The main window runs over an empty libvirt test-driver host.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("LANGUAGE", "C")

from PySide6.QtWidgets import QApplication

from app.core import uris
from app.core.connection import Connection, ConnectionSpec, State
from app.core.newvm.pool import StorageKind, StorageTarget
from app.core.settings import Settings
from tests.support.local import connection_for_tests
from tests.support.testdriver import node_uri
from tests.unit.core.newvm.conftest import GIB, make_host
from tests.unit.core.osdb.conftest import SPECS, build_iso
from widgets.newvm import NewVMWizard, PageId

ROOT = Path(__file__).resolve().parents[3]
MAX_SIZE = (1024, 768)


def _wait(app: QApplication, cond, timeout: float = 15.0) -> None:
    end = time.monotonic() + timeout
    while not cond():
        app.processEvents()
        time.sleep(0.01)
        if time.monotonic() > end:
            raise TimeoutError("the wizard did not settle")
    for _ in range(5):
        app.processEvents()


def _settled(wizard: NewVMWizard) -> bool:
    return (
        wizard.host is not None
        and wizard.settled
        and not wizard.source_page._path_timer.isActive()
        and not wizard.summary_page._name_timer.isActive()
    )


def take(out: Path) -> list[Path]:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    work = Path(tempfile.mkdtemp(prefix="nido-shots-"))
    iso = build_iso(work / "Win11_23H2_English_x64.iso", SPECS["win11"])
    images = str(Path.home() / ".local/share/nido/embed/images")
    host = make_host(
        uri=f"qemu:///embed?root={Path.home()}/.local/share/nido/embed",
        storage=StorageTarget(StorageKind.DIR, images, exists=True, free_bytes=212 * GIB),
        existing_names=frozenset({"debian12", "fedora"}),
    )
    conn = Connection(ConnectionSpec(kind=uris.Kind.LOCAL))
    wizard = NewVMWizard(conn, None, None, host=host)
    wizard.start_create = lambda: None  # pictures only: nothing is made
    wizard.show()
    _wait(app, lambda: wizard.catalogue is not None and wizard.host is not None)
    out.mkdir(parents=True, exist_ok=True)
    shots: list[Path] = []

    def shot(name: str) -> None:
        _wait(app, lambda: _settled(wizard))
        image = wizard.grab()
        assert image.width() <= MAX_SIZE[0] and image.height() <= MAX_SIZE[1], image.size()
        path = out / f"wizard-{name}.png"
        image.save(str(path))
        shots.append(path)

    def forward() -> None:
        _wait(app, lambda: _settled(wizard) and wizard.currentPage().isComplete())
        wizard.next()

    notes = work / "notes.txt"
    notes.write_text("not a disc\n" * 1000)
    wizard.source_page.iso.edit.setText(str(notes))
    shot("source-refused")
    wizard.source_page.iso.edit.setText(str(iso))
    shot("source")
    forward()
    wizard.os_page.other.setChecked(True)
    wizard.os_page.search.setText("windows")
    shot("os")
    forward()
    shot("resources")
    res = wizard.resources_page
    res.vcpus.control.spin.setValue(6)
    res.memory.control.spin.setValue(14 * 1024)
    res.disk.control.spin.setValue(300)
    shot("resources-limits")
    res.vcpus.control.spin.setValue(wizard.defaults.vcpus.value)
    res.memory.control.spin.setValue(wizard.defaults.memory_bytes.value // 1024**2)
    res.disk.control.spin.setValue(wizard.defaults.disk_bytes.value // GIB)
    forward()
    net = wizard.network_page
    net.boxes[0].add_forward.click()
    net.boxes[0].forwards[0].host.setValue(33389)
    net.boxes[0].forwards[0].guest.setValue(3389)
    net.add_nic_button.click()
    net.boxes[1].source.setCurrentIndex(1)  # the 'default' network
    net.boxes[0].add_forward.click()
    net.boxes[0].forwards[1].host.setValue(33389)
    shot("network-refused")
    net.boxes[0].forwards[1].remove.click()
    shot("network")
    forward()
    shot("firmware")
    forward()
    wizard.summary_page.name.setText("Windows 11 — work")
    _wait(app, lambda: _settled(wizard) and wizard.summary_page.storage != [])
    shot("summary")
    wizard.summary_page.customize.setChecked(True)
    _wait(app, lambda: wizard.summary_page.xml.toPlainText() != "")
    shot("summary-xml")
    wizard.summary_page.customize.setChecked(False)
    wizard.summary_page.name.setText("fedora")
    shot("name-taken")
    wizard.summary_page.name.setText("Windows 11 — work")
    _wait(app, lambda: _settled(wizard) and wizard.currentPage().isComplete())
    wizard.next()
    assert wizard.currentId() == PageId.CREATE
    wizard.createProgress.emit("Creating the disk…", 0.35)
    shot("create")
    wizard.creating = True  # as the engine passes the point of no return
    assert wizard._gate.commit()
    wizard._committed(wizard._gate)
    wizard.createProgress.emit("Starting the VM…", 0.92)
    shot("create-started")
    wizard.creating = False
    wizard.hide()
    wizard.deleteLater()
    app.processEvents()
    return shots


def take_empty_main_window(out: Path) -> Path:
    """The main window over a connected host with no VM: the empty state."""
    from app.qt.bridge import ConnectionHub
    from app.qt.models import VMTreeModel
    from widgets.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    work = Path(tempfile.mkdtemp(prefix="nido-shots-"))
    spec = ConnectionSpec(kind=uris.Kind.CUSTOM, uri=node_uri(work, []), name="This computer")
    hub = ConnectionHub(
        Settings(connections=[spec]), save_settings=False, connection_factory=connection_for_tests
    )
    model = VMTreeModel(hub)
    window = MainWindow(hub, model)
    hub.start()
    window.show()
    _wait(app, lambda: hub.connections()[0].state is State.CONNECTED and window.is_empty())
    _wait(app, window.view.empty_state.isVisible)
    path = out / "main-window-empty.png"
    window.grab().save(str(path))
    window.hide()
    hub.shutdown()
    window.deleteLater()
    app.processEvents()
    return path


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "resources" / "screenshots"
    for p in take(target):
        print(p)
    print(take_empty_main_window(target))
