"""Keyboard and mouse for SPICE: the display seam's input (QEMU "qnum" scancodes, RFB
button masks) turned into calls on a ``SpiceInputsChannel``.

Scancodes: ``spice_inputs_channel_key_press`` takes a PC XT (set 1) scancode with an
0xE0-prefixed key as ``0x100 | code``; QEMU's qnum writes the same key as ``0x80 | code``.
Buttons: SPICE's button-state mask has left, middle and right in the same bits as RFB's
(1, 2, 4); the wheel is a press and release of buttons 4 (up) and 5 (down).
Pacing: QEMU feeds SPICE keys straight into the guest's 16-byte PS/2 queue (its VNC server
paces keys 10 ms apart itself; its SPICE server does not), so :class:`PacedInput` leaves
:data:`KEY_INTERVAL_MS` after each key event, or a burst — a send-keys combination, fast
typing into a slow guest — loses keys.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Protocol

from PySide6.QtCore import QObject, QTimer

#: SpiceMouseButton
LEFT, MIDDLE, RIGHT, WHEEL_UP, WHEEL_DOWN = 1, 2, 3, 4, 5
#: RFB mask bit -> SPICE button
_RFB_BUTTONS = ((1, LEFT), (2, MIDDLE), (4, RIGHT), (8, WHEEL_UP), (16, WHEEL_DOWN))
#: The RFB bits that are held buttons in SPICE's button-state mask (the rest are wheels).
_STATE_BITS = 1 | 2 | 4
_EXTENDED = 0x80
KEY_INTERVAL_MS = 10
MAX_QUEUED_INPUT = 4096


def spice_scancode(qnum: int) -> int | None:
    """The SPICE scancode for a qnum, or None for a code that is not a key."""
    if not 0 < qnum <= 0xFF or qnum == _EXTENDED:
        return None
    if qnum & _EXTENDED:
        return 0x100 | (qnum & 0x7F)
    return qnum


class InputsChannel(Protocol):
    """The part of ``SpiceClientGLib.InputsChannel`` that input goes through."""

    def key_press(self, scancode: int) -> None: ...
    def key_release(self, scancode: int) -> None: ...
    def position(self, x: int, y: int, display: int, button_state: int) -> None: ...
    def motion(self, dx: int, dy: int, button_state: int) -> None: ...
    def button_press(self, button: int, button_state: int) -> None: ...
    def button_release(self, button: int, button_state: int) -> None: ...


class InputRouter:
    """Sends input to an inputs channel once it is open; drops it before (as a server
    that is not listening would)."""

    def __init__(self, display_id: int = 0) -> None:
        self.channel: InputsChannel | None = None
        self.display_id = display_id
        #: The RFB mask last sent (held buttons and wheel bits alike).
        self._mask = 0
        #: Scancodes the guest saw go down.
        self.down: set[int] = set()

    def attach(self, channel: InputsChannel | None) -> None:
        self.channel = channel
        self._mask = 0
        self.down.clear()

    def key(self, down: bool, qnum: int | None) -> bool:
        """Send one key; False when it cannot go (no scancode, or no channel yet)."""
        code = spice_scancode(qnum) if qnum is not None else None
        if code is None or self.channel is None:
            return False
        if down:
            self.channel.key_press(code)
            self.down.add(code)
        else:
            self.channel.key_release(code)
            self.down.discard(code)
        return True

    def pointer(self, x: int, y: int, buttons: int) -> None:
        if self.channel is None:
            return
        self.channel.position(max(0, x), max(0, y), self.display_id, self._mask & _STATE_BITS)
        self._press_release(buttons)

    def relative_pointer(self, dx: int, dy: int, buttons: int) -> None:
        if self.channel is None:
            return
        if dx or dy:
            self.channel.motion(dx, dy, self._mask & _STATE_BITS)
        self._press_release(buttons)

    def _press_release(self, buttons: int) -> None:
        """A press or release for every RFB bit that changed, in mask order."""
        assert self.channel is not None
        old, self._mask = self._mask, buttons
        state = old & _STATE_BITS
        for bit, button in _RFB_BUTTONS:
            was, now = bool(old & bit), bool(buttons & bit)
            if now == was:
                continue
            if bit & _STATE_BITS:
                state = state | bit if now else state & ~bit
            if now:
                self.channel.button_press(button, state)
            else:
                self.channel.button_release(button, state)


class PacedInput(QObject):
    """Input goes to the router at once unless keys are still being paced, or the inputs
    channel is not open yet; then it waits its turn (at most MAX_QUEUED_INPUT events), so
    the guest sees keys and clicks in the order they were made."""

    def __init__(self, router: InputRouter, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.router = router
        self._queue: deque[tuple[Callable[[], object], bool]] = deque()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(KEY_INTERVAL_MS)
        self._timer.timeout.connect(self._drain)
        self._closed = False

    def key(self, down: bool, qnum: int | None) -> None:
        self._put(lambda: self.router.key(down, qnum), gap=True)

    def pointer(self, x: int, y: int, buttons: int) -> None:
        self._put(lambda: self.router.pointer(x, y, buttons), gap=False)

    def relative_pointer(self, dx: int, dy: int, buttons: int) -> None:
        self._put(lambda: self.router.relative_pointer(dx, dy, buttons), gap=False)

    def clear(self) -> None:
        """Drop what waits, and take nothing more (the session closed)."""
        self._closed = True
        self._timer.stop()
        self._queue.clear()

    def _put(self, send: Callable[[], object], gap: bool) -> None:
        if self._closed or len(self._queue) >= MAX_QUEUED_INPUT:
            return
        self._queue.append((send, gap))
        if not self._timer.isActive():
            self._drain()

    def resume(self) -> None:
        """The inputs channel opened: send what waited for it."""
        if not self._timer.isActive():
            self._drain()

    def _drain(self) -> None:
        while self._queue:
            if self.router.channel is None:
                return  # input made before the inputs channel opened waits for it (resume)
            send, gap = self._queue.popleft()
            send()
            if gap:
                self._timer.start()
                return
