"""Creation from the wizard leaves the connection's call lane free while it works, and
past the point of no return (the VM defined and starting) Cancel goes grey, the page says
so, and a cancel that comes too late is told plainly: the VM stays, unopened."""

from __future__ import annotations

import threading
from concurrent.futures import TimeoutError as FutureTimeout

from PySide6.QtWidgets import QWizard

from app.core import newvm
from app.core.workers import WorkerPool
from tests.widgets.newvm.conftest import go_to, set_iso
from tests.widgets.newvm.test_create import open_wizard
from widgets.newvm import PageId

WAIT = 30.0  # generous: only reached when something is wrong


def cancel_button(wizard) -> object:
    return wizard.button(QWizard.WizardButton.CancelButton)


def test_creation_leaves_the_connections_lane_free(test_env, qtbot, isos, monkeypatch) -> None:
    """A daemon connection has one call lane. While creation works without libvirt (a
    long qemu-img convert, say), a call queued on that lane is answered."""
    conn = test_env.conn
    lane = WorkerPool("lane", size=1)
    monkeypatch.setattr(conn, "workers", lane)
    real_create = newvm.create
    answers: list[str] = []
    lanes: list[str] = []

    def converting_create(virconn, spec, host, progress, cancelled, **kw):
        # Standing in for minutes of qemu-img: the lane must answer meanwhile.
        try:
            answers.append(lane.submit(virconn.getHostname).result(timeout=WAIT))
        except FutureTimeout:
            answers.append("the lane was held")
        real_call = kw["call"]

        def call(fn, *args):
            lanes.append(real_call(lambda: threading.current_thread().name))
            return real_call(fn, *args)

        return real_create(virconn, spec, host, progress, cancelled, **{**kw, "call": call})

    monkeypatch.setattr(newvm, "create", converting_create)
    opened = []
    test_env.window.openVM.connect(opened.append)
    wizard = open_wizard(qtbot, test_env.window)
    set_iso(qtbot, wizard, isos["debian11"])
    go_to(qtbot, wizard, PageId.SUMMARY)
    wizard.next()
    qtbot.waitUntil(lambda: len(opened) == 1, timeout=15_000)
    lane.close()
    assert answers == [conn.virconn.getHostname()]
    assert lanes and set(lanes) == {"lane-0"}  # every libvirt step took the lane


def test_past_the_point_of_no_return(test_env, qtbot, isos, monkeypatch) -> None:
    window = test_env.window
    opened = []
    window.openVM.connect(opened.append)
    real_create = newvm.create
    committed, release = threading.Event(), threading.Event()

    def held_create(virconn, spec, host, progress, cancelled, **kw):
        commit = kw["commit"]

        def held_commit() -> bool:
            ok = commit()
            committed.set()
            release.wait(WAIT)  # hold the creation here while the test looks
            return ok

        return real_create(
            virconn, spec, host, progress, cancelled, **{**kw, "commit": held_commit}
        )

    monkeypatch.setattr(newvm, "create", held_create)
    wizard = open_wizard(qtbot, window)
    set_iso(qtbot, wizard, isos["debian11"])
    go_to(qtbot, wizard, PageId.SUMMARY)
    name = wizard.spec.name
    page = wizard.create_page
    try:
        wizard.next()
        assert cancel_button(wizard).isEnabled()
        assert page.note.text() == "Cancel stops and removes everything made so far."
        qtbot.waitUntil(committed.is_set, timeout=10_000)
        qtbot.waitUntil(lambda: wizard.committed)
        assert not cancel_button(wizard).isEnabled()
        assert page.note.text() == (
            f"“{name}” was created and is starting: it can no longer be cancelled. "
            "Shut it down or delete it from the VM list if you do not want it."
        )
        wizard.reject()  # Escape, too late
        assert wizard.isVisible() and wizard.too_late
        assert page.note.text().startswith(f"Too late to cancel: “{name}” was created and is")
    finally:
        release.set()
    qtbot.waitUntil(lambda: cancel_button(wizard).isEnabled(), timeout=10_000)
    assert cancel_button(wizard).text() == "Close"
    assert page.status.text() == f"“{name}” was created and started."
    qtbot.waitUntil(lambda: test_env.vm_named(name) is not None, timeout=10_000)
    qtbot.waitUntil(lambda: test_env.vm_named(name).status.active, timeout=10_000)
    assert opened == []  # the person wanted out: its window stays shut
    cancel_button(wizard).click()
    qtbot.waitUntil(lambda: window.new_vm_wizard is None)
    assert test_env.vm_named(name).status.active  # kept


def test_a_cancel_just_before_the_commit_still_removes_everything(
    test_env, qtbot, isos, monkeypatch
) -> None:
    window = test_env.window
    real_create = newvm.create
    at_commit, release = threading.Event(), threading.Event()

    def racing_create(virconn, spec, host, progress, cancelled, **kw):
        commit = kw["commit"]

        def late_commit() -> bool:
            at_commit.set()
            release.wait(WAIT)  # Cancel is pressed while the engine is about to commit
            return commit()

        return real_create(
            virconn, spec, host, progress, cancelled, **{**kw, "commit": late_commit}
        )

    monkeypatch.setattr(newvm, "create", racing_create)
    wizard = open_wizard(qtbot, window)
    set_iso(qtbot, wizard, isos["debian11"])
    go_to(qtbot, wizard, PageId.SUMMARY)
    name = wizard.spec.name
    try:
        wizard.next()
        qtbot.waitUntil(at_commit.is_set, timeout=10_000)
        cancel_button(wizard).click()
        assert wizard.cancelling and not wizard.too_late
    finally:
        release.set()
    qtbot.waitUntil(lambda: window.new_vm_wizard is None, timeout=10_000)
    assert test_env.vm_named(name) is None
