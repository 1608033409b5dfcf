"""Which VMs have a live display open in Nido, so that others can use its picture: the
main window's thumbnails take a VM's screen from its open console instead of asking
libvirt for a screenshot (a round trip, a PNG to encode and decode).

The display controller registers a session once it is connected and unregisters it when
it goes; :data:`LIVE` is the process's one registry. GUI thread only.

It lives outside :mod:`app.qt.display` so that the main window, which reads it, does not
load the display's code (the RFB client, NumPy) at start-up.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtGui import QImage

if TYPE_CHECKING:
    from app.qt.display.session import DisplaySession

Key = tuple[str, str]  # (connection id, VM UUID)

#: Frame serials never repeat, across sessions too, so a serial names one picture.
_serials = itertools.count(1)


@dataclass
class _Entry:
    session: DisplaySession
    serial: int = field(default_factory=lambda: next(_serials))

    def bump(self, *_args: object) -> None:
        self.serial = next(_serials)


class LiveDisplays:
    """Live display sessions by VM key, each with a serial that changes with its picture."""

    def __init__(self) -> None:
        self._entries: dict[Key, _Entry] = {}

    def register(self, key: Key, session: DisplaySession) -> None:
        self.unregister(key)
        entry = _Entry(session)
        session.damaged.connect(entry.bump)
        session.resized.connect(entry.bump)
        self._entries[key] = entry

    def unregister(self, key: Key, session: DisplaySession | None = None) -> None:
        """Forget ``key``'s session (only if it is ``session``, when that is given)."""
        entry = self._entries.get(key)
        if entry is None or (session is not None and entry.session is not session):
            return
        del self._entries[key]
        if shiboken6.isValid(entry.session):
            entry.session.damaged.disconnect(entry.bump)
            entry.session.resized.disconnect(entry.bump)

    def frame(self, key: Key) -> tuple[int, QImage] | None:
        """(serial, picture) of ``key``'s live display, or None when it has none. The
        picture is a view over the session's pixels: copy or scale it before keeping it."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        session = entry.session
        if not shiboken6.isValid(session) or not session.is_open:
            self.unregister(key)
            return None
        image = session.image()
        if image.isNull():
            return None
        return entry.serial, image

    def __contains__(self, key: object) -> bool:
        return key in self._entries


#: The process's registry: display controllers fill it, thumbnails read it.
LIVE = LiveDisplays()
