"""libvirt objects are never finalized on the GUI thread.

libvirt-python frees its objects in ``__del__``: a domain, pool or stream drops its
reference (``virDomainFree`` ...), a connection closes (``virConnectClose``). The last
reference to a connection's C object may sit in any of them, and then the free closes the
connection, which on a remote host is a round trip that can hang as long as the host does.
Whichever thread drops the last Python reference runs that ``__del__``, and on the GUI
thread that includes Python's cycle collector (app/qt/collector.py collects there).

:func:`install` wraps those ``__del__`` methods: on the main (GUI) thread the object is
handed, still alive, to a finalizer thread that runs the original ``__del__``; elsewhere
it runs at once. CPython calls a finalizer only once per object (PEP 442), so the object,
kept alive for that moment, is freed without a second ``__del__`` when the finalizer
thread lets go.
"""

from __future__ import annotations

import inspect
import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

import libvirt

from app.core.workers import name_native_thread

log = logging.getLogger(__name__)

_lock = threading.Lock()
_queue: queue.SimpleQueue[tuple[Callable[[Any], None], Any]] = queue.SimpleQueue()
_thread: threading.Thread | None = None
_MARK = "_nido_deferred"


def libvirt_classes() -> list[type]:
    """libvirt-python's classes whose ``__del__`` calls into libvirt."""
    return [
        cls
        for name, cls in vars(libvirt).items()
        if inspect.isclass(cls) and name.startswith("vir") and "__del__" in vars(cls)
    ]


def _deferring(original: Callable[[Any], None]) -> Callable[[Any], None]:
    def __del__(self: Any) -> None:
        if threading.current_thread() is threading.main_thread():
            _queue.put((original, self))  # keeps self alive until the thread is done
        else:
            original(self)

    setattr(__del__, _MARK, original)
    return __del__


def _run() -> None:
    name_native_thread("libvirt-finalize")
    while True:
        original, obj = _queue.get()
        try:
            original(obj)
        except Exception:
            log.debug("freeing a libvirt object failed", exc_info=True)
        del original, obj


def install() -> None:
    """Wrap every libvirt class's ``__del__`` and start the finalizer thread (once)."""
    global _thread
    with _lock:
        if _thread is not None:
            return
        for cls in libvirt_classes():
            current = vars(cls)["__del__"]
            if not hasattr(current, _MARK):
                cls.__del__ = _deferring(current)
        _thread = threading.Thread(target=_run, name="libvirt-finalize", daemon=True)
        _thread.start()


def pending() -> int:
    """Objects waiting for the finalizer thread (for tests and diagnostics)."""
    return _queue.qsize()
