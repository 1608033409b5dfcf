"""libvirt objects dropped on the GUI thread are freed on the finalizer thread
(app/core/finalizers.py), so a remote connection's close never blocks the window."""

from __future__ import annotations

import gc
import threading
import time
import weakref

import libvirt
import pytest

from app.core import finalizers


class _Recorder:
    """Stands in for libvirt-python's C module and notes which thread freed what."""

    def __init__(self, real) -> None:
        self._real = real
        self.calls: list[tuple[str, str]] = []
        #: The C object each call freed (its capsule), beside :attr:`calls`.
        self.freed: list[object] = []

    def __getattr__(self, name: str):
        target = getattr(self._real, name)
        if not name.endswith(("Close", "Free")):
            return target

        def call(*args):
            self.calls.append((name, threading.current_thread().name))
            self.freed.append(args[0] if args else None)
            return target(*args)

        return call


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> _Recorder:
    finalizers.install()
    rec = _Recorder(libvirt.libvirtmod)
    monkeypatch.setattr(libvirt, "libvirtmod", rec)
    return rec


def _wait_for(predicate, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


def test_every_libvirt_class_that_frees_is_wrapped() -> None:
    finalizers.install()
    classes = finalizers.libvirt_classes()
    assert libvirt.virConnect in classes and libvirt.virDomain in classes
    assert all(hasattr(vars(c)["__del__"], "_nido_deferred") for c in classes)


def test_a_connection_dropped_on_the_main_thread_closes_on_the_finalizer(recorder) -> None:
    conn = libvirt.open("test:///default")
    dom = conn.lookupByName("test")
    del dom, conn
    assert _wait_for(lambda: ("virConnectClose", "libvirt-finalize") in recorder.calls)
    assert ("virDomainFree", "libvirt-finalize") in recorder.calls
    assert all(thread != "MainThread" for _, thread in recorder.calls)


def test_a_connection_dropped_on_a_worker_closes_there(recorder) -> None:
    box = [libvirt.open("test:///default")]
    capsule = box[0]._o
    worker = threading.Thread(target=box.clear, name="some-worker")
    worker.start()
    worker.join()
    # Only this connection's calls: a libvirt object an earlier test left to the garbage
    # collector may be freed (on the finalizer thread) meanwhile.
    mine = [c for c, obj in zip(recorder.calls, recorder.freed, strict=True) if obj is capsule]
    assert mine == [("virConnectClose", "some-worker")]


def test_a_connection_in_a_cycle_collected_on_the_main_thread(recorder) -> None:
    class Holder:
        pass

    holder = Holder()
    holder.me = holder
    holder.conn = libvirt.open("test:///default")
    gone = weakref.ref(holder.conn)
    del holder
    gc.collect()
    assert _wait_for(lambda: ("virConnectClose", "libvirt-finalize") in recorder.calls)
    assert _wait_for(lambda: finalizers.pending() == 0)
    gc.collect()  # the finalizer thread let go: the object is freed, __del__ not run again
    assert _wait_for(lambda: gone() is None)
    assert [c for c in recorder.calls if c[0] == "virConnectClose"] == [
        ("virConnectClose", "libvirt-finalize")
    ]
