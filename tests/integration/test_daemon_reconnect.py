"""Against a real libvirt daemon (a private one): a VM defined with virsh appears within a
second, and after the daemon restarts Nido reconnects on its own."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time

import pytest
from PySide6.QtCore import QTimer

from app.core import uris
from app.core.connection import Connection, ConnectionSpec, State, probe_local
from app.core.vmstate import Action
from tests.guest.libvirt_env import embedded_connection
from tests.support.private_daemon import PrivateDaemon
from tests.support.waiting import wait_connected
from widgets.vm_list import group_detail

pytestmark = pytest.mark.integration

VIRSH = shutil.which("virsh")


@pytest.fixture
def daemon():
    d = PrivateDaemon()
    d.start()
    yield d
    d.cleanup()


@pytest.fixture
def ui(make_ui, daemon, failures):
    uri = daemon.uri("qemu", "session")
    env = make_ui(
        [ConnectionSpec(kind=uris.Kind.CUSTOM, uri=uri, name="Daemon")], connect_timeout=20000
    )
    return env.hub, env.model, env.window, env.conn


def virsh(daemon: PrivateDaemon, *args: str) -> str:
    out = subprocess.run(
        [VIRSH, "-c", daemon.uri("qemu", "session"), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return out.stdout


def test_vm_defined_with_virsh_appears_within_a_second(ui, daemon, qtbot, tmp_path) -> None:
    _hub, model, _window, _conn = ui
    xml = tmp_path / "v.xml"
    xml.write_text(
        "<domain type='qemu'><name>from-virsh</name><memory unit='MiB'>64</memory>"
        "<os><type arch='x86_64'>hvm</type></os></domain>"
    )
    t0 = time.monotonic()
    virsh(daemon, "define", str(xml))
    qtbot.waitUntil(lambda: model.find_vm_by_name("from-virsh") is not None, timeout=1000)
    print(f"\nvirsh define -> row in the list: {time.monotonic() - t0:.3f} s")
    virsh(daemon, "undefine", "from-virsh")
    qtbot.waitUntil(lambda: model.find_vm_by_name("from-virsh") is None, timeout=1000)


def test_reconnects_by_itself_after_the_daemon_restarts(ui, daemon, qtbot) -> None:
    _hub, _model, _window, conn = ui
    daemon.stop()
    qtbot.waitUntil(lambda: conn.state is State.DISCONNECTED, timeout=10000)
    assert "closed the connection" in conn.reason or "Retrying" in conn.reason
    assert "Retrying" in group_detail(conn)
    daemon.start()
    qtbot.waitUntil(lambda: conn.state is State.CONNECTED, timeout=20000)
    assert group_detail(conn).startswith("QEMU/KVM session")


def test_plain_daemon_uris_still_work_beside_the_embedded_driver(daemon, monkeypatch) -> None:
    """Once qemu:///embed is open in the process, plain qemu:///session is claimed by the
    in-process driver; Nido reaches the daemon through its socket instead, and says so
    clearly when there is no daemon."""
    with embedded_connection():  # loads the embedded driver in this process
        monkeypatch.setenv("XDG_RUNTIME_DIR", str(daemon.dir / "run"))
        conn = Connection(ConnectionSpec(kind=uris.Kind.SESSION, uri="qemu:///session"))
        conn.connect()
        try:
            assert wait_connected(conn, 20), conn.reason
            assert conn.virconn.getURI().startswith("qemu+unix:///session?socket=")
            assert conn.uri == "qemu:///session"  # what the person chose stays as it was
        finally:
            conn.shutdown()
        monkeypatch.setenv("XDG_RUNTIME_DIR", str(daemon.dir / "nowhere"))
        lonely = Connection(ConnectionSpec(kind=uris.Kind.SESSION, uri="qemu:///session"))
        lonely.connect()
        try:
            deadline = time.monotonic() + 10
            while "No session libvirt daemon" not in lonely.reason and time.monotonic() < deadline:
                time.sleep(0.05)
            assert "No session libvirt daemon is running on this computer." in lonely.reason
        finally:
            lonely.shutdown()


def test_probe_finds_a_running_session_daemon(daemon) -> None:
    # As an ordinary user would probe, with the daemon's runtime directory as theirs.
    found = probe_local(euid=1000, runtime_dir=str(daemon.dir / "run"))
    assert found.session_socket == str(daemon.socket)
    assert uris.choose_local(found).uri in ("qemu:///session", "qemu:///system")
    assert probe_local(euid=1000, runtime_dir=str(daemon.dir / "none")).session_socket is None


def test_a_daemon_that_freezes_after_connecting(make_ui, daemon, qtbot, failures) -> None:
    """The host answers, then stops (SIGSTOP): the window stays responsive, the person's
    actions wait without blocking anything, keepalive notices within ~20 s, and when the
    daemon thaws Nido reconnects by itself."""
    node_uri = daemon.uri("test", "default")
    env = make_ui([ConnectionSpec(kind=uris.Kind.CUSTOM, uri=node_uri, name="Freezer")], vms=1)
    conn = env.conn
    (vm,) = env.model.all_vms()
    env.window.select_vm(vm.conn_id, vm.uuid)
    os.kill(daemon.proc.pid, signal.SIGSTOP)
    try:
        env.window.vm_actions.actions[Action.PAUSE].trigger()  # will wait on the frozen host
        clock = time.monotonic()
        stalls = []
        timer = QTimer()
        timer.setInterval(20)
        last = [clock]

        def tick() -> None:
            now = time.monotonic()
            stalls.append(now - last[0])
            last[0] = now

        timer.timeout.connect(tick)
        timer.start()
        qtbot.waitUntil(lambda: conn.state is State.DISCONNECTED, timeout=40_000)
        timer.stop()
        assert "stopped answering" in conn.reason
        assert max(stalls) < 1.0, f"the GUI thread stalled for {max(stalls):.2f} s"
        print(f"\nkeepalive noticed the frozen daemon after {time.monotonic() - clock:.1f} s")
    finally:
        os.kill(daemon.proc.pid, signal.SIGCONT)
    qtbot.waitUntil(lambda: conn.state is State.CONNECTED, timeout=30_000)
    qtbot.waitUntil(lambda: len(env.model.all_vms()) == 1, timeout=5000)
    # The pause that waited on the frozen host is forgotten; the VM's actions work again.
    assert not env.window.vm_actions._busy
    (vm,) = env.model.all_vms()
    env.window.select_vm(vm.conn_id, vm.uuid)
    assert env.window.vm_actions.actions[Action.FORCE_OFF].isEnabled()
