"""Worker threads for blocking libvirt calls.

Each connection owns a small pool, so a host that stops answering only stalls its own
queue. The threads are daemons: a call stuck on a dead host must never keep Nido from
quitting (concurrent.futures' pool joins its threads at exit, which would hang).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

_STOP = object()
_PR_SET_NAME = 15
_libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)


def name_native_thread(name: str) -> None:
    """Give the calling thread its name in the kernel too (15 bytes), so `top -H`, /proc
    and the benchmarks can tell Nido's threads apart."""
    _libc.prctl(_PR_SET_NAME, name.encode()[:15], 0, 0, 0)


class WorkerPool:
    """A pool of daemon threads that run callables and resolve Futures."""

    def __init__(self, name: str, size: int = 3) -> None:
        self._name = name
        self._size = size
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._idle = 0
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> Future[T]:
        future: Future[T] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError(f"worker pool {self._name} is closed")
            self._queue.put((future, fn, args, kwargs))
            if self._idle == 0 and len(self._threads) < self._size:
                t = threading.Thread(
                    target=self._work, name=f"{self._name}-{len(self._threads)}", daemon=True
                )
                self._threads.append(t)
                t.start()
        return future

    def close(self) -> None:
        """Let the threads end once their queue is empty; never waits for a stuck call."""
        with self._lock:
            self._closed = True
            for _ in self._threads:
                self._queue.put(_STOP)

    def _work(self) -> None:
        name_native_thread(threading.current_thread().name)
        while True:
            with self._lock:
                self._idle += 1
            item = self._queue.get()
            with self._lock:
                self._idle -= 1
            if item is _STOP:
                return
            future, fn, args, kwargs = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:  # handed to whoever waits on the future
                future.set_exception(exc)
            else:
                future.set_result(result)
