"""Nido's libvirt event loop: poll masks, handles, timers, freeing, and that it stays off
GLib's default context (which Qt's GUI thread owns)."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import threading
import time

import libvirt
import pytest

from app.core import events
from app.core.events import EventLoop, from_poll, to_poll


def test_masks_translate_both_ways() -> None:
    both = libvirt.VIR_EVENT_HANDLE_READABLE | libvirt.VIR_EVENT_HANDLE_WRITABLE
    assert to_poll(both) == select.POLLIN | select.POLLOUT
    assert from_poll(select.POLLIN | select.POLLHUP) == (
        libvirt.VIR_EVENT_HANDLE_READABLE | libvirt.VIR_EVENT_HANDLE_HANGUP
    )
    assert from_poll(select.POLLNVAL) == libvirt.VIR_EVENT_HANDLE_ERROR


@pytest.fixture
def loop(monkeypatch):
    freed = []
    monkeypatch.setattr(libvirt, "virEventInvokeFreeCallback", freed.append)
    loop = EventLoop()
    loop.freed = freed
    return loop


def test_handle_fires_when_readable_and_not_after_removal(loop) -> None:
    r, w = os.pipe()
    calls = []
    hid = loop.add_handle(r, libvirt.VIR_EVENT_HANDLE_READABLE, lambda *a: calls.append(a), "op")
    os.write(w, b"x")
    loop.run_once()
    loop.run_once()  # the first pass may only drain the wake-up pipe
    assert calls and calls[0][:3] == (hid, r, libvirt.VIR_EVENT_HANDLE_READABLE)
    assert calls[0][3] == "op"
    assert loop.remove_handle(hid) == 0 and loop.remove_handle(hid) == -1
    n = len(calls)
    loop.run_once()
    assert len(calls) == n
    assert loop.freed == ["op"]  # freed from the loop, after the remove returned
    os.close(r)
    os.close(w)


def test_disabled_handle_is_not_polled(loop) -> None:
    r, w = os.pipe()
    calls = []
    hid = loop.add_handle(r, libvirt.VIR_EVENT_HANDLE_READABLE, lambda *a: calls.append(a), None)
    loop.update_handle(hid, 0)
    os.write(w, b"x")
    loop.add_timer(10, lambda *a: None, None)  # so that run_once returns
    for _ in range(3):
        loop.run_once()
    assert calls == []
    os.close(r)
    os.close(w)


def test_timers_fire_repeatedly_until_disabled(loop) -> None:
    fired = []
    tid = loop.add_timer(5, lambda t, o: fired.append((t, o)), "t")
    end = time.monotonic() + 1
    while len(fired) < 3 and time.monotonic() < end:
        loop.run_once()
    assert fired[:3] == [(tid, "t")] * 3
    loop.update_timer(tid, -1)
    n = len(fired)
    other = loop.add_timer(5, lambda *a: None, None)
    for _ in range(5):
        loop.run_once()
    assert len(fired) == n
    loop.remove_timer(tid)
    loop.remove_timer(other)
    loop.run_once()  # woken by the removals; frees their data
    assert loop.freed == ["t", None]


def test_adding_from_another_thread_wakes_a_blocked_loop(loop) -> None:
    fired = threading.Event()
    thread = threading.Thread(target=lambda: [loop.run_once() for _ in range(3)], daemon=True)
    thread.start()
    time.sleep(0.1)  # the loop now sleeps in poll() with nothing to wait for
    loop.add_timer(0, lambda *a: fired.set(), None)
    assert fired.wait(2)


QT_TIMERS_STAY_ON_THE_GUI_THREAD = """
import threading, libvirt
from app.core.events import ensure_event_loop
ensure_event_loop()                      # before Qt, as when a connection opens early
conn = libvirt.open("test:///default")  # keep libvirt's loop busy with a connection
from PySide6.QtCore import QCoreApplication, QTimer
app = QCoreApplication([])
wrong = []
count = [0]
def tick():
    count[0] += 1
    if threading.current_thread() is not threading.main_thread():
        wrong.append(threading.current_thread().name)
    if count[0] >= 300:
        app.quit()
t = QTimer(); t.setInterval(1); t.timeout.connect(tick); t.start()
app.exec()
print(len(wrong), count[0])
"""


def test_qt_timers_never_run_on_libvirts_thread() -> None:
    out = subprocess.run(
        [sys.executable, "-c", QT_TIMERS_STAY_ON_THE_GUI_THREAD],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["0", "300"]
    # libvirt's default loop fights Qt for GLib's default context, and GLib says so.
    assert "GLib-CRITICAL" not in out.stderr


def test_ensure_event_loop_is_idempotent() -> None:
    assert events.ensure_event_loop() is events.ensure_event_loop()
    assert events.event_thread_running()
