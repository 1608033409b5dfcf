"""The client-side framebuffer: a ``bytearray`` of B, G, R, 0xFF pixels, stride = width * 4,
that rectangle events are applied to.

The buffer maps straight onto ``QImage(fb.data, w, h, fb.stride, QImage.Format_RGB32)``
(or ARGB32: every alpha byte is 0xFF once :meth:`Framebuffer.settle` ran). A resize
replaces :attr:`Framebuffer.data` with a new bytearray, so an image made over the old one
must be made again.

Raw pixels read from a socket straight into :meth:`Framebuffer.row_buffer` keep the X
byte the server sent (QEMU passes on the guest's own, often 0) until something reads them:
:meth:`Framebuffer.received` notes them, and :meth:`Framebuffer.settle` sets their X bytes
to 0xFF. What here reads whole pixels settles first (:meth:`~Framebuffer.array`, a
CopyRect's source, the content a resize keeps), and so must any other reader of
:attr:`~Framebuffer.data`, such as a QImage over it. So a frame that is overwritten before
anyone looks costs one pass over memory, the read, and not two.

Size cap: no side over :data:`~app.core.rfb.protocol.MAX_FRAMEBUFFER_SIDE` (16384) and at
most :data:`~app.core.rfb.protocol.MAX_FRAMEBUFFER_PIXELS` pixels (32 Mi, so 128 MiB);
8K UHD fits. :class:`~app.core.rfb.client.RFBClient` checks the same caps, so the events
it emits always fit; this class checks again and raises ``ValueError`` for events that do
not, so a bug elsewhere cannot write outside the buffer.
"""

from __future__ import annotations

import numpy as np

from app.core.rfb.events import (
    CopyRect,
    DesktopResized,
    Event,
    FillRect,
    Pixels,
    RectPixels,
)
from app.core.rfb.pixels import OPAQUE
from app.core.rfb.protocol import (
    MAX_FRAMEBUFFER_PIXELS,
    MAX_FRAMEBUFFER_SIDE,
    ProtocolViolation,
    check_framebuffer_size,
)

#: A rectangle: x, y, width, height.
Rect = tuple[int, int, int, int]

_BLACK = np.uint32(0xFF000000)


class Framebuffer:
    """Pixels of the remote screen, kept up to date by :meth:`apply`."""

    def __init__(
        self,
        width: int = 0,
        height: int = 0,
        *,
        max_side: int = MAX_FRAMEBUFFER_SIDE,
        max_pixels: int = MAX_FRAMEBUFFER_PIXELS,
    ) -> None:
        self.max_side = max_side
        self.max_pixels = max_pixels
        self.width = 0
        self.height = 0
        self.data = bytearray()
        self._pixels = np.zeros((0, 0), np.uint32)
        self._flat = self._pixels.reshape(-1)
        #: Pixels written straight into :attr:`data` whose X byte may not be 0xFF yet: a
        #: span [start, end) counted row after row from the top left, or None.
        self._unsettled: tuple[int, int] | None = None
        self.resize(width, height)

    @property
    def stride(self) -> int:
        return self.width * 4

    def array(self) -> np.ndarray:
        """A (height, width, 4) uint8 view of the pixels, B, G, R, A."""
        self.settle()
        return self._pixels.view(np.uint8).reshape(self.height, self.width, 4)

    def resize(self, width: int, height: int) -> None:
        """A new size: new buffer, the old content kept where it overlaps, black elsewhere."""
        try:
            check_framebuffer_size(width, height, self.max_side, self.max_pixels)
        except ProtocolViolation as e:
            raise ValueError(str(e)) from None
        if width < 0 or height < 0:
            raise ValueError("negative framebuffer size")
        if (width, height) == (self.width, self.height) and self.data:
            return
        self.settle()
        data = bytearray(width * height * 4)
        pixels = np.frombuffer(data, np.uint32).reshape(height, width)
        pixels[...] = _BLACK
        keep_w, keep_h = min(width, self.width), min(height, self.height)
        pixels[:keep_h, :keep_w] = self._pixels[:keep_h, :keep_w]
        self.width, self.height, self.data, self._pixels = width, height, data, pixels
        self._flat = pixels.reshape(-1)

    def _check(self, x: int, y: int, w: int, h: int) -> None:
        if x < 0 or y < 0 or w < 0 or h < 0 or x + w > self.width or y + h > self.height:
            raise ValueError(
                f"rectangle {w}x{h}+{x}+{y} is outside the {self.width}x{self.height} framebuffer"
            )

    def apply(self, event: Event) -> Rect | None:
        """Apply one event; returns the damaged rectangle, or None if the event changes no
        pixels here (a :class:`JpegRect` must be decoded by the caller and given to
        :meth:`put_pixels`; a :class:`DesktopResized` resizes and damages everything)."""
        if isinstance(event, RectPixels):
            self.put_pixels(event.x, event.y, event.width, event.height, event.pixels)
        elif isinstance(event, FillRect):
            self.fill(event.x, event.y, event.width, event.height, event.pixel)
        elif isinstance(event, CopyRect):
            self.copy(event.src_x, event.src_y, event.x, event.y, event.width, event.height)
        elif isinstance(event, DesktopResized):
            self.resize(event.width, event.height)
            return (0, 0, self.width, self.height)
        else:
            return None
        return (event.x, event.y, event.width, event.height)

    def put_pixels(
        self, x: int, y: int, w: int, h: int, pixels: Pixels, stride: int | None = None
    ) -> None:
        """Copy B, G, R, X pixels in (rows ``stride`` bytes apart, default w * 4); the
        alpha byte is set to 0xFF on the way."""
        self._check(x, y, w, h)
        if not w or not h:
            return
        row = w * 4
        stride = row if stride is None else stride
        if stride < row or len(pixels) < stride * (h - 1) + row:
            raise ValueError("pixel data is shorter than the rectangle")
        if stride == row:  # the common case: packed rows
            src = np.frombuffer(pixels, np.uint32, w * h)
            if w == self.width:  # whole rows: one flat run of memory
                flat = self._pixels.reshape(-1)[y * w : (y + h) * w]
                np.bitwise_or(src, OPAQUE, out=flat)
                return
            src = src.reshape(h, w)
        elif stride % 4 == 0:
            src = np.frombuffer(pixels, np.uint32, (stride // 4) * (h - 1) + w)
            src = np.lib.stride_tricks.as_strided(src, (h, w), (stride, 4), writeable=False)
        else:
            raw = np.frombuffer(pixels, np.uint8, stride * (h - 1) + w * 4)
            src = np.lib.stride_tricks.as_strided(raw, (h, w * 4), (stride, 1), writeable=False)
            src = np.ascontiguousarray(src).view(np.uint32)
        np.bitwise_or(src, OPAQUE, out=self._pixels[y : y + h, x : x + w])

    def row_buffer(self, y: int, rows: int) -> memoryview:
        """A writable view of the bytes of whole rows ``y`` to ``y + rows``, to read Raw
        pixels into straight from a socket; tell :meth:`received` what came, after."""
        self._check(0, y, self.width, rows)
        return memoryview(self.data)[y * self.stride : (y + rows) * self.stride]

    def received(self, start: int, count: int) -> None:
        """``count`` pixels from pixel ``start`` (counted row after row from the top left)
        were written into :meth:`row_buffer` as they came; :meth:`settle` makes them
        opaque before anything reads them."""
        end = start + count
        if start < 0 or count < 0 or end > self.width * self.height:
            raise ValueError(f"pixels {start}+{count} are outside the framebuffer")
        if not count:
            return
        span = self._unsettled
        self._unsettled = (start, end) if span is None else (min(span[0], start), max(span[1], end))

    def settle(self) -> None:
        """Set the X byte of every pixel :meth:`received` noted to 0xFF, as
        :meth:`put_pixels` does on its way in. Cheap when there are none."""
        span = self._unsettled
        if span is not None:
            self._unsettled = None
            flat = self._flat[span[0] : span[1]]
            np.bitwise_or(flat, OPAQUE, out=flat)

    def fill(self, x: int, y: int, w: int, h: int, pixel: bytes) -> None:
        self._check(x, y, w, h)
        self._pixels[y : y + h, x : x + w] = np.frombuffer(pixel, np.uint32, 1)[0] | OPAQUE

    def copy(self, src_x: int, src_y: int, x: int, y: int, w: int, h: int) -> None:
        """Copy a rectangle within the framebuffer; overlapping areas copy correctly."""
        self._check(src_x, src_y, w, h)
        self._check(x, y, w, h)
        self.settle()  # the source may hold pixels as they came
        p = self._pixels
        # NumPy copies through a temporary when the two areas overlap.
        p[y : y + h, x : x + w] = p[src_y : src_y + h, src_x : src_x + w]

    def pixel(self, x: int, y: int) -> tuple[int, int, int]:
        """(R, G, B) at (x, y), for tests and screenshots' colour pickers."""
        v = int(self._pixels[y, x])
        return (v >> 16) & 0xFF, (v >> 8) & 0xFF, v & 0xFF
