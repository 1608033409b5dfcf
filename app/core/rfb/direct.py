"""Reading Raw rectangles' pixels from a socket straight into a :class:`Framebuffer`,
past the parser: the fast path for a local display, where QEMU sends the screen as Raw.

A transport asks :meth:`RawReader.buffer` where its next read should go. While the
client waits for rows of a Raw rectangle the answer is a writable view: the framebuffer's
own rows when the rectangle is as wide as the screen (one contiguous run of memory), else
a reused scratch buffer whose rows are then copied into place. Otherwise it is None, and
the read goes to :meth:`RFBClient.receive_data` as usual. After a read into the view,
:meth:`RawReader.commit` makes the new pixels opaque (or copies them in) and moves the
parser past the complete rows, with no :class:`~app.core.rfb.events.RectPixels` for them.

Every event the client returned before must have been applied to the framebuffer first
(a later Raw rectangle must not land before an earlier CopyRect reads its source), which a
caller that applies each batch of events as it gets it does. Bounds: the client checked
the rectangle against its size, and the framebuffer checks every row range and pixel
range against its own.
"""

from __future__ import annotations

from app.core.rfb.client import RFBClient
from app.core.rfb.events import Event
from app.core.rfb.framebuffer import Framebuffer, Rect

#: The scratch buffer for rectangles narrower than the screen (reused for the reader's
#: life; a read of a libvirt graphics socket brings about 230 KB).
SCRATCH_BYTES = 1 << 20


class RawReader:
    """The state of one connection's reads into the framebuffer (see the module). The
    parser hears of a rectangle's rows once they all came, so a read costs little more
    than the ``recv_into`` itself."""

    def __init__(self) -> None:
        #: The Raw rectangle being read: (x, y, w, rows), as the parser announced it.
        self._rect: tuple[int, int, int, int] | None = None
        self._into_framebuffer = True
        #: Its rows complete so far.
        self._row = 0
        #: Bytes of the next row already read (into the framebuffer or the scratch).
        self._partial = 0
        #: Of that row, the pixels already made opaque (reads into the framebuffer).
        self._opaque = 0
        self._scratch: bytearray | None = None

    def buffer(self, client: RFBClient, fb: Framebuffer) -> memoryview | None:
        """Where the next read goes, or None for :meth:`RFBClient.receive_data`."""
        pending = client.pending_raw()
        if pending is None:
            self._rect = None
            return None
        if pending != self._rect and not self._start(client, fb, pending):
            return None
        return self._view(fb)[self._partial :]

    def _start(self, client: RFBClient, fb: Framebuffer, rect: tuple[int, int, int, int]) -> bool:
        x, y, w, rows = rect
        if x + w > fb.width or y + rows > fb.height:
            self._rect = None
            return False  # events not applied yet: let the parser have it
        self._rect = rect
        self._row = self._partial = self._opaque = 0
        self._into_framebuffer = x == 0 and w == fb.width
        if not self._into_framebuffer:
            fit = max(1, SCRATCH_BYTES // (w * 4))
            if self._scratch is None or fit * w * 4 > len(self._scratch):
                self._scratch = bytearray(max(SCRATCH_BYTES, fit * w * 4))
        head = client.take_raw_head()
        if head:  # the start of the first row came with the last parsed read
            self._view(fb)[: len(head)] = head
            self._partial = len(head)
        return True

    def _view(self, fb: Framebuffer) -> memoryview:
        """The rest of the rectangle's rows in the framebuffer, or what the scratch holds
        of them."""
        _, y, w, rows = self._rect  # type: ignore[misc]
        y += self._row
        rows -= self._row
        if self._into_framebuffer:
            return fb.row_buffer(y, rows)
        row = w * 4
        fit = len(self._scratch) // row  # type: ignore[arg-type]
        return memoryview(self._scratch)[: min(rows, fit) * row]  # type: ignore[arg-type]

    def commit(
        self, client: RFBClient, fb: Framebuffer, nbytes: int
    ) -> tuple[Rect | None, list[Event]]:
        """``nbytes`` came into the last :meth:`buffer`: returns the rows of the rectangle
        now complete in the framebuffer (None if no row is) and, once it is all there,
        the events the parser goes on to."""
        if self._rect is None:
            raise RuntimeError("a read into the framebuffer with no Raw rows waited for")
        x, y, w, total = self._rect
        y += self._row
        end = self._partial + nbytes
        rows, self._partial = divmod(end, w * 4)
        if self._into_framebuffer:
            # Whole pixels only: a pixel split between reads is done with its last byte.
            fb.make_opaque(y * w + self._opaque, end // 4 - self._opaque)
            self._opaque = end // 4 - rows * w
        elif rows:
            scratch = self._scratch
            assert scratch is not None
            done = rows * w * 4
            fb.put_pixels(x, y, w, rows, memoryview(scratch)[:done])
            scratch[: self._partial] = scratch[done:end]  # the next row's start
        if not rows:
            return None, []
        self._row += rows
        if self._row < total:
            return (x, y, w, rows), []
        self._rect = None
        return (x, y, w, rows), client.raw_rows_done(total)
