"""Cancel up to the point of no return, and not past it.

Creation can be cancelled until the VM is defined and about to start; after that the
guest runs and cancelling would mean destroying something the person can already see.
Cancel (from the GUI thread) and the engine's commit (from its worker) race for one lock:
whichever comes first wins, and the loser learns it, so a Cancel pressed a moment too late
is told so instead of being silently ignored.

    gate = CancelGate()
    create(..., cancelled=gate.cancelled, commit=gate.commit)
    if not gate.cancel(): ...            # too late: the VM is made and starting
"""

from __future__ import annotations

import enum
import threading

__all__ = ["CancelGate"]


class _State(enum.Enum):
    OPEN = "open"
    CANCELLED = "cancelled"
    COMMITTED = "committed"


class CancelGate:
    """One creation's cancel flag, which closes at the point of no return."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state = _State.OPEN

    def cancel(self) -> bool:
        """Ask to cancel; False when creation has already passed the point of no return."""
        with self._lock:
            if self._state is _State.COMMITTED:
                return False
            self._state = _State.CANCELLED
            return True

    def commit(self) -> bool:
        """Pass the point of no return; False when a cancel came first."""
        with self._lock:
            if self._state is _State.CANCELLED:
                return False
            self._state = _State.COMMITTED
            return True

    def cancelled(self) -> bool:
        with self._lock:
            return self._state is _State.CANCELLED

    @property
    def committed(self) -> bool:
        with self._lock:
            return self._state is _State.COMMITTED
