"""The embedded guest display: :class:`ConsoleView` for the VM window's Console tab (live
display, toolbar, overlays, fullscreen), built from :class:`DisplayCanvas` (painting only
what changed, scaling, keyboard and mouse) and :class:`DisplayOverlay`. The protocol side
lives in :mod:`app.qt.display`."""

from widgets.display.canvas import DisplayCanvas
from widgets.display.console import ConsoleView, FullscreenWindow
from widgets.display.geometry import Placement, Scaling, place
from widgets.display.overlay import DisplayOverlay

__all__ = [
    "ConsoleView",
    "DisplayCanvas",
    "DisplayOverlay",
    "FullscreenWindow",
    "Placement",
    "Scaling",
    "place",
]
