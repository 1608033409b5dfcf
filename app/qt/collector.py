"""Python's cyclic garbage collection, run on the GUI thread only.

CPython runs its cycle collector in whichever thread happens to allocate when a threshold
is crossed. In Nido that is often a worker or the libvirt event thread. When the garbage
holds a Qt object that Python owns (a dialog or widget in a reference cycle with a lambda
or a bound method), its C++ destructor then runs on that thread, and Qt crashes: seen as
segfaults "Garbage-collecting" in a worker, at random places in the test suite.

:func:`install` turns the automatic collector off and collects from a GUI-thread timer
instead, with the same generation thresholds, so the cost stays as small as CPython's own.
:func:`collect_due` is the check itself, for callers with no event loop (the tests run it
between tests).
"""

from __future__ import annotations

import gc
import threading

from PySide6.QtCore import QObject, QThread, QTimer

#: How often the GUI thread looks at the collector's counts.
INTERVAL_MS = 1000


def collect_due() -> int:
    """Collect the generations whose counts are over their thresholds, as CPython would
    have done by itself; returns the number of objects found unreachable."""
    if threading.current_thread() is not threading.main_thread():
        raise RuntimeError("garbage is collected on the GUI thread only")
    t0, t1, t2 = gc.get_threshold()
    c0, c1, c2 = gc.get_count()
    if c0 <= t0:
        return 0
    if c1 <= t1:
        return gc.collect(0)
    if c2 <= t2:
        return gc.collect(1)
    return gc.collect(2)


class GuiCollector(QObject):
    """Owns the timer; keep it alive as long as the application runs."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        if QThread.currentThread() is not self.thread() or (
            threading.current_thread() is not threading.main_thread()
        ):
            raise RuntimeError("GuiCollector must be made on the GUI thread")
        self._timer = QTimer(self)
        self._timer.setInterval(INTERVAL_MS)
        self._timer.timeout.connect(collect_due)

    def start(self) -> None:
        gc.disable()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()
        gc.enable()


_installed: GuiCollector | None = None


def install() -> GuiCollector:
    """Move cycle collection to the GUI thread for the rest of the process (idempotent)."""
    global _installed
    if _installed is None:
        _installed = GuiCollector()
        _installed.start()
    return _installed
