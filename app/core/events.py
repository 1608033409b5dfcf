"""The libvirt event loop: Nido's own poll loop on a daemon thread, registered with
`virEventRegisterImpl` before the first connection opens.

Why not libvirt's default implementation: since libvirt 6 it iterates GLib's *default*
main context, and Qt's GLib event dispatcher iterates that same context on the GUI
thread. Two threads iterating one context dispatch each other's sources, so Qt's timers and
posted events end up running on libvirt's thread (seen here as segfaults). libvirt-python's
asyncio adapter (libvirtaio) is no answer either: it is not safe to call from the many
threads libvirt adds watches from. This loop is small, thread-safe and GLib-free.

The embedded QEMU driver does its QEMU-monitor I/O through this loop, and every domain and
connection event callback arrives on its thread, so callbacks only record facts and hand
them on; they never make blocking libvirt calls.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import select
import threading
import time
from dataclasses import dataclass
from typing import Any

import libvirt

from app.core import finalizers
from app.core.workers import name_native_thread

log = logging.getLogger(__name__)

_POLL_FROM_LIBVIRT = {
    libvirt.VIR_EVENT_HANDLE_READABLE: select.POLLIN,
    libvirt.VIR_EVENT_HANDLE_WRITABLE: select.POLLOUT,
    libvirt.VIR_EVENT_HANDLE_ERROR: select.POLLERR,
    libvirt.VIR_EVENT_HANDLE_HANGUP: select.POLLHUP,
}


def to_poll(events: int) -> int:
    mask = 0
    for vir, poll in _POLL_FROM_LIBVIRT.items():
        if events & vir:
            mask |= poll
    return mask


def from_poll(revents: int) -> int:
    events = 0
    for vir, poll in _POLL_FROM_LIBVIRT.items():
        if revents & poll:
            events |= vir
    if revents & select.POLLNVAL:
        events |= libvirt.VIR_EVENT_HANDLE_ERROR
    return events


@dataclass
class _Handle:
    fd: int
    events: int  # libvirt's VIR_EVENT_HANDLE_* bits
    cb: Any
    opaque: Any


@dataclass
class _Timer:
    interval_ms: int  # -1 disabled, 0 fire on every iteration
    due: float
    cb: Any
    opaque: Any


class EventLoop:
    """A thread-safe poll() loop that implements libvirt's event API."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._handles: dict[int, _Handle] = {}
        self._timers: dict[int, _Timer] = {}
        self._wake_r, self._wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        # Opaque data of removed handles and timers, freed from the loop's own stack: libvirt
        # forbids calling the free callback from inside its remove call (it deadlocks).
        self._to_free: list[Any] = []

    def _wake(self) -> None:
        with contextlib.suppress(BlockingIOError):  # a full pipe: already awake
            os.write(self._wake_w, b"x")

    # -- libvirt's callbacks (called from any thread) ------------------------------------
    def add_handle(self, fd: int, events: int, cb: Any, opaque: Any) -> int:
        with self._lock:
            handle_id = next(self._ids)
            self._handles[handle_id] = _Handle(fd, events, cb, opaque)
        self._wake()
        return handle_id

    def update_handle(self, handle_id: int, events: int) -> None:
        with self._lock:
            handle = self._handles.get(handle_id)
            if handle is not None:
                handle.events = events
        self._wake()

    def remove_handle(self, handle_id: int) -> int:
        with self._lock:
            found = self._handles.pop(handle_id, None)
            if found is not None:
                self._to_free.append(found.opaque)
        self._wake()
        return 0 if found is not None else -1

    def add_timer(self, interval_ms: int, cb: Any, opaque: Any) -> int:
        with self._lock:
            timer_id = next(self._ids)
            self._timers[timer_id] = _Timer(interval_ms, self._due(interval_ms), cb, opaque)
        self._wake()
        return timer_id

    def update_timer(self, timer_id: int, interval_ms: int) -> None:
        with self._lock:
            timer = self._timers.get(timer_id)
            if timer is not None:
                timer.interval_ms = interval_ms
                timer.due = self._due(interval_ms)
        self._wake()

    def remove_timer(self, timer_id: int) -> int:
        with self._lock:
            found = self._timers.pop(timer_id, None)
            if found is not None:
                self._to_free.append(found.opaque)
        self._wake()
        return 0 if found is not None else -1

    @staticmethod
    def _due(interval_ms: int) -> float:
        return time.monotonic() + max(interval_ms, 0) / 1000.0

    # -- the loop ------------------------------------------------------------------------
    def run_once(self) -> None:
        poller = select.poll()
        poller.register(self._wake_r, select.POLLIN)
        with self._lock:
            fds: dict[int, int] = {}
            for handle in self._handles.values():
                if handle.events:
                    fds[handle.fd] = fds.get(handle.fd, 0) | to_poll(handle.events)
            now = time.monotonic()
            timeout_ms: int | None = None
            for timer in self._timers.values():
                if timer.interval_ms < 0:
                    continue
                left = max(0, int((timer.due - now) * 1000 + 0.999))
                timeout_ms = left if timeout_ms is None else min(timeout_ms, left)
        for fd, mask in fds.items():
            poller.register(fd, mask)
        try:
            ready = poller.poll(timeout_ms)
        except InterruptedError:
            ready = []
        for fd, revents in ready:
            if fd == self._wake_r:
                with contextlib.suppress(BlockingIOError):
                    while os.read(self._wake_r, 4096):
                        pass
                continue
            self._dispatch_fd(fd, revents)
        self._dispatch_timers()
        self._free_removed()

    def _free_removed(self) -> None:
        with self._lock:
            to_free, self._to_free = self._to_free, []
        for opaque in to_free:
            libvirt.virEventInvokeFreeCallback(opaque)

    def _dispatch_fd(self, fd: int, revents: int) -> None:
        with self._lock:
            targets = [(hid, h) for hid, h in self._handles.items() if h.fd == fd]
        for handle_id, handle in targets:
            events = from_poll(revents) & (
                handle.events | libvirt.VIR_EVENT_HANDLE_ERROR | libvirt.VIR_EVENT_HANDLE_HANGUP
            )
            with self._lock:
                still = self._handles.get(handle_id) is handle
            if events and still:
                handle.cb(handle_id, fd, events, handle.opaque)

    def _dispatch_timers(self) -> None:
        now = time.monotonic()
        with self._lock:
            due = [
                (tid, t) for tid, t in self._timers.items() if t.interval_ms >= 0 and t.due <= now
            ]
            for _tid, timer in due:
                timer.due = self._due(timer.interval_ms)
        for timer_id, timer in due:
            with self._lock:
                still = self._timers.get(timer_id) is timer
            if still:
                timer.cb(timer_id, timer.opaque)

    def run_forever(self) -> None:
        name_native_thread("libvirt-events")
        while True:
            try:
                self.run_once()
            except Exception:  # a bad callback must not stop every connection's events
                log.exception("libvirt event loop iteration failed")


_lock = threading.Lock()
_loop: EventLoop | None = None
_thread: threading.Thread | None = None


def ensure_event_loop() -> EventLoop:
    """Register Nido's event loop with libvirt and start its thread, once per process."""
    global _loop, _thread
    with _lock:
        if _loop is not None:
            return _loop
        finalizers.install()  # every libvirt user comes here first
        loop = EventLoop()
        libvirt.virEventRegisterImpl(
            loop.add_handle,
            loop.update_handle,
            loop.remove_handle,
            loop.add_timer,
            loop.update_timer,
            loop.remove_timer,
        )
        # Every libvirt error reaches the person through NidoError and the log, not as raw
        # lines on stderr.
        libvirt.registerErrorHandler(_log_libvirt_error, None)
        _thread = threading.Thread(target=loop.run_forever, name="libvirt-events", daemon=True)
        _thread.start()
        _loop = loop
        return loop


def _log_libvirt_error(_ctx: object, err: tuple) -> None:
    # err is (code, domain, message, level, str1, str2, str3, int1, int2)
    log.debug("libvirt: %s (code %s)", err[2], err[0])


def event_thread_running() -> bool:
    return _thread is not None and _thread.is_alive()
