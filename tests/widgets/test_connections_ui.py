"""Adding and removing connections, their state in the list, and a host that hangs."""

from __future__ import annotations

import time

from PySide6.QtCore import QElapsedTimer, QTimer
from PySide6.QtWidgets import QDialogButtonBox

from app.core import settings as settings_store
from app.core import uris
from app.core.connection import ConnectionSpec, State
from app.core.settings import Settings
from app.qt.bridge import ConnectionHub
from app.qt.models import VMTreeModel
from tests.support.hung_host import HungHost
from tests.widgets.conftest import answer_next_dialog, button_with_text
from widgets.connection_dialog import ConnectionDialog
from widgets.main_window import MainWindow
from widgets.vm_list import group_detail


def test_dialog_builds_an_ssh_uri_and_refuses_a_missing_host(qtbot) -> None:
    dialog = ConnectionDialog(has_local=True)
    qtbot.addWidget(dialog)
    kinds = [dialog.kind.itemData(i) for i in range(dialog.kind.count())]
    assert uris.Kind.LOCAL not in kinds  # already present, not offered twice
    dialog.kind.setCurrentIndex(kinds.index(uris.Kind.SSH))
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert not ok.isEnabled() and "host name" in dialog.preview.text()
    dialog.user.setText("ana")
    dialog.host.setText("box.lan")
    assert ok.isEnabled()
    assert "qemu+ssh://ana@box.lan/system" in dialog.preview.text()
    spec = dialog.spec()
    assert (spec.kind, spec.uri, spec.autoconnect) == (
        uris.Kind.SSH,
        "qemu+ssh://ana@box.lan/system",
        True,
    )


def test_dialog_custom_uri_is_escaped_in_the_preview(qtbot) -> None:
    dialog = ConnectionDialog(has_local=False)
    qtbot.addWidget(dialog)
    kinds = [dialog.kind.itemData(i) for i in range(dialog.kind.count())]
    assert uris.Kind.LOCAL in kinds
    dialog.kind.setCurrentIndex(kinds.index(uris.Kind.CUSTOM))
    dialog.custom.setText("test:///<b>x")
    assert "<b>x" not in dialog.preview.text() and "&lt;b&gt;x" in dialog.preview.text()


def test_added_connection_is_remembered_and_removal_forgets_it(qtbot, tmp_path) -> None:
    hub = ConnectionHub(Settings(connections=[]))  # saves settings, unlike make_ui's
    model = VMTreeModel(hub)
    window = MainWindow(hub, model)
    qtbot.addWidget(window)
    hub.start()
    node = tmp_path / "n.xml"
    node.write_text("<node/>")
    conn = hub.add_connection(
        ConnectionSpec(kind=uris.Kind.CUSTOM, uri=f"test://{node}", name="Lab")
    )
    qtbot.waitUntil(lambda: conn.state is State.CONNECTED, timeout=3000)
    saved = settings_store.load()
    assert [c.uri for c in saved.connections] == [f"test://{node}"]
    assert model.rowCount() == 1 and model.index(0, 0).data() == "Lab"
    answer_next_dialog(button_with_text("Yes"))
    window.remove_connection(conn)
    assert model.rowCount() == 0
    assert settings_store.load().connections == []
    hub.shutdown()


def test_a_hung_host_never_freezes_the_window(make_ui, qtbot, tmp_path) -> None:
    host = HungHost()
    node = tmp_path / "n.xml"
    node.write_text("<node/>")
    frozen_spec = ConnectionSpec(kind=uris.Kind.CUSTOM, uri=host.uri, name="Frozen")
    fine_spec = ConnectionSpec(kind=uris.Kind.CUSTOM, uri=f"test://{node}", name="Fine")
    frozen_spec.autoconnect = False  # make_ui waits for autoconnected ones; start it below
    env = make_ui([frozen_spec, fine_spec])
    hub = env.hub
    hub.connection(frozen_spec.id).connect()
    frozen, fine = hub.connections()
    qtbot.waitUntil(lambda: fine.state is State.CONNECTED, timeout=3000)
    # Measure how late a 20 ms timer fires on the GUI thread for two seconds while the
    # frozen host holds a worker.
    worst = 0
    clock = QElapsedTimer()
    clock.start()
    last = [clock.elapsed()]

    def tick() -> None:
        nonlocal worst
        now = clock.elapsed()
        worst = max(worst, now - last[0])
        last[0] = now

    timer = QTimer()
    timer.setInterval(20)
    timer.timeout.connect(tick)
    timer.start()
    qtbot.wait(2000)
    timer.stop()
    # A freeze would be as long as the hang: forever. One second allows for a busy machine.
    assert worst < 1000, f"the GUI thread stalled for {worst} ms"
    assert frozen.state is State.CONNECTING
    assert group_detail(frozen) == "Connecting…"
    assert host.accepted
    # The person gives up on it: disconnecting works at once.
    t0 = time.monotonic()
    frozen.disconnect()
    qtbot.waitUntil(lambda: frozen.state is State.DISCONNECTED, timeout=2000)
    assert time.monotonic() - t0 < 2
    host.close()
