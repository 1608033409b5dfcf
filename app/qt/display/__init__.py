"""The Qt side of the embedded guest display, below the widgets.

- :mod:`.transport` — non-blocking socket I/O on the GUI thread (QSocketNotifier).
- :mod:`.session` — :class:`DisplaySession`, the seam every protocol implements.
- :mod:`.vnc` — :class:`VncSession`: the sans-IO RFB client on a transport.
- :mod:`.opener` — blocking libvirt calls that reach a display (run on workers).
- :mod:`.controller` — :class:`DisplayController`: one VM's display across its life
  (connect, follow the VM's state, reconnect), as states for the widget's overlays.

SPICE plugs in as another :class:`DisplaySession` with a factory in
``controller.SESSION_FACTORIES``; the widgets need not change.
"""

from app.qt.display.controller import DisplayController, DisplayState
from app.qt.display.opener import DisplayEndpoint, NoDisplay, open_display
from app.qt.display.session import CursorImage, DisplaySession
from app.qt.display.transport import SocketTransport
from app.qt.display.vnc import VncSession, local_options, remote_options

__all__ = [
    "CursorImage",
    "DisplayController",
    "DisplayEndpoint",
    "DisplaySession",
    "DisplayState",
    "NoDisplay",
    "SocketTransport",
    "VncSession",
    "local_options",
    "open_display",
    "remote_options",
]
