"""Where the guest's framebuffer goes in the widget: pure arithmetic, no Qt.

Sizes in the widget are logical pixels (Qt's), and ``dpr`` is the screen's device pixel
ratio. Scaling modes:

- ``NEVER``: one guest pixel on one physical screen pixel, crisp on HiDPI screens too (a
  1920-pixel guest takes 960 logical pixels at dpr 2); the widget scrolls if it is larger.
- ``FIT``: as NEVER while it fits; shrunk, keeping the aspect ratio, when it does not.
- ``ALWAYS``: scaled up or down to fill the widget, keeping the aspect ratio.

The picture is centred, and its corner lands on a physical pixel.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass


class Scaling(enum.Enum):
    NEVER = "never"
    FIT = "fit"
    ALWAYS = "always"


#: How close below a whole guest pixel a mapped position counts as on it.
_EDGE = 1e-9


@dataclass(frozen=True)
class Placement:
    """The framebuffer's rectangle in the widget (logical pixels) and its scale (logical
    pixels per guest pixel)."""

    x: float
    y: float
    width: float
    height: float
    scale: float
    fb_width: int
    fb_height: int

    def to_guest(self, px: float, py: float) -> tuple[int, int]:
        """The guest pixel under a widget position, clamped to the framebuffer."""
        if not self.fb_width or not self.fb_height:
            return 0, 0
        # A widget position exactly on a guest pixel's edge belongs to that pixel, even
        # when the division lands a hair below it (249 / 0.51875 = 479.99999999999994).
        gx = math.floor((px - self.x) / self.scale + _EDGE)
        gy = math.floor((py - self.y) / self.scale + _EDGE)
        return min(max(gx, 0), self.fb_width - 1), min(max(gy, 0), self.fb_height - 1)

    def contains(self, px: float, py: float) -> bool:
        return self.x <= px < self.x + self.width and self.y <= py < self.y + self.height

    def to_widget(self, x: int, y: int, w: int, h: int) -> tuple[float, float, float, float]:
        """A guest rectangle in widget coordinates (logical, fractional)."""
        s = self.scale
        return (self.x + x * s, self.y + y * s, w * s, h * s)

    def widget_rect(
        self, x: int, y: int, w: int, h: int, margin: int = 0
    ) -> tuple[int, int, int, int]:
        """The whole logical pixels a guest rectangle touches, grown by ``margin`` guest
        pixels (smooth scaling reads neighbours), for update()."""
        fx, fy, fw, fh = self.to_widget(x - margin, y - margin, w + 2 * margin, h + 2 * margin)
        left, top = math.floor(fx), math.floor(fy)
        right, bottom = math.ceil(fx + fw), math.ceil(fy + fh)
        return left, top, right - left, bottom - top

    def guest_rect(
        self, x: float, y: float, w: float, h: float, margin: int = 0
    ) -> tuple[int, int, int, int]:
        """The guest pixels a widget rectangle shows, grown by ``margin`` and clamped."""
        s = self.scale
        left = max(math.floor((x - self.x) / s) - margin, 0)
        top = max(math.floor((y - self.y) / s) - margin, 0)
        right = min(math.ceil((x + w - self.x) / s) + margin, self.fb_width)
        bottom = min(math.ceil((y + h - self.y) / s) + margin, self.fb_height)
        return left, top, max(right - left, 0), max(bottom - top, 0)


def place(
    fb_width: int, fb_height: int, view_width: float, view_height: float, dpr: float, mode: Scaling
) -> Placement:
    """Where a ``fb_width`` x ``fb_height`` framebuffer goes in a view of the given logical
    size on a screen of device pixel ratio ``dpr``."""
    dpr = dpr if dpr > 0 else 1.0
    if fb_width <= 0 or fb_height <= 0:
        return Placement(0.0, 0.0, 0.0, 0.0, 1.0 / dpr, 0, 0)
    native = 1.0 / dpr
    fit = min(view_width / fb_width, view_height / fb_height) if view_width > 0 else native
    if mode is Scaling.NEVER:
        scale = native
    elif mode is Scaling.FIT:
        scale = min(fit, native)
    else:
        scale = fit
    if scale <= 0:
        scale = native
    width, height = fb_width * scale, fb_height * scale
    x = max((view_width - width) / 2, 0.0)
    y = max((view_height - height) / 2, 0.0)
    # The corner on a whole device pixel, so an unscaled picture stays sharp.
    x, y = math.floor(x * dpr) / dpr, math.floor(y * dpr) / dpr
    return Placement(x, y, width, height, scale, fb_width, fb_height)


def minimum_view_size(fb_width: int, fb_height: int, dpr: float, mode: Scaling) -> tuple[int, int]:
    """The logical size the view needs (NEVER shows every guest pixel; scroll if larger)."""
    if mode is not Scaling.NEVER or fb_width <= 0 or fb_height <= 0:
        return 0, 0
    dpr = dpr if dpr > 0 else 1.0
    return math.ceil(fb_width / dpr), math.ceil(fb_height / dpr)
