"""The Qt side of the embedded guest display, below the widgets.

- :mod:`.transport` — non-blocking socket I/O on the GUI thread (QSocketNotifier).
- :mod:`.session` — :class:`DisplaySession`, the seam every protocol implements.
- :mod:`.vnc` — :class:`VncSession`: the sans-IO RFB client on a transport.
- :mod:`.opener` — blocking libvirt calls that reach a display (run on workers).
- :mod:`.spice` (with :mod:`.spice_gi`, :mod:`.spice_input`, :mod:`.spice_agent`) —
  :class:`SpiceSession`: spice-client-glib in process, one libvirt descriptor per channel.
- :mod:`.passwords` — display passwords remembered in the desktop keyring (off the GUI
  thread).
- :mod:`.controller` — :class:`DisplayController`: one VM's display across its life
  (connect, follow the VM's state, reconnect), as states for the widget's overlays.

Each protocol is a :class:`DisplaySession` with a factory in
``controller.SESSION_FACTORIES``; the widgets never ask which protocol they show.
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
