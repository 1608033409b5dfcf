"""Reading Raw rectangles' pixels from a socket straight into a :class:`Framebuffer`,
past the parser: the fast path for a local display, where QEMU sends the screen as Raw.

A transport asks :meth:`RawReader.buffer` where its next read should go. While the
client waits for rows of a Raw rectangle the answer is a writable view: the framebuffer's
own rows when the rectangle is as wide as the screen (one contiguous run of memory), else
a reused scratch buffer whose rows are then copied into place. Otherwise it is None, and
the read goes to :meth:`RFBClient.receive_data` as usual. After a read into the view,
:meth:`RawReader.commit` tells the framebuffer what came (made opaque when something
reads it: :meth:`Framebuffer.settle`), or copies it in, and moves the parser past the
complete rows, with no :class:`~app.core.rfb.events.RectPixels` for them.

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
        #: The Raw rectangle being read: (x, y, w, rows), the very tuple the parser
        #: announced (a new wait is a new tuple).
        self._rect: tuple[int, int, int, int] | None = None
        self._into_framebuffer = True
        #: Reading into the framebuffer: the rectangle's bytes there, and how many came.
        self._region: memoryview | None = None
        self._got = 0
        #: Reading through the scratch: the rectangle's rows complete so far, and bytes of
        #: the next one already read.
        self._row = 0
        self._partial = 0
        self._scratch: bytearray | None = None

    def buffer(self, client: RFBClient, fb: Framebuffer) -> memoryview | None:
        """Where the next read goes, or None for :meth:`RFBClient.receive_data`."""
        pending = client.pending_raw()
        if pending is None:
            self._rect = self._region = None
            return None
        if pending is not self._rect and not self._start(client, fb, pending):
            return None
        if self._region is not None:
            return self._region[self._got :]
        return self._scratch_view()[self._partial :]

    def _start(self, client: RFBClient, fb: Framebuffer, rect: tuple[int, int, int, int]) -> bool:
        x, y, w, rows = rect
        self._rect = self._region = None
        if x + w > fb.width or y + rows > fb.height:
            return False  # events not applied yet: let the parser have it
        self._rect = rect
        self._got = self._row = self._partial = 0
        if x == 0 and w == fb.width:
            self._region = view = fb.row_buffer(y, rows)
        else:
            fit = max(1, SCRATCH_BYTES // (w * 4))
            if self._scratch is None or fit * w * 4 > len(self._scratch):
                self._scratch = bytearray(max(SCRATCH_BYTES, fit * w * 4))
            view = self._scratch_view()
        head = client.take_raw_head()
        if head:  # the start of the first row came with the last parsed read
            view[: len(head)] = head
            if self._region is not None:
                self._got = len(head)
                fb.received(y * w, len(head) // 4)
            else:
                self._partial = len(head)
        return True

    def _scratch_view(self) -> memoryview:
        """As many of the rectangle's remaining rows as the scratch holds."""
        _, _, w, rows = self._rect  # type: ignore[misc]
        row = w * 4
        fit = len(self._scratch) // row  # type: ignore[arg-type]
        return memoryview(self._scratch)[: min(rows - self._row, fit) * row]  # type: ignore[arg-type]

    def commit(
        self, client: RFBClient, fb: Framebuffer, nbytes: int
    ) -> tuple[Rect | None, list[Event]]:
        """``nbytes`` came into the last :meth:`buffer`: returns the rows of the rectangle
        now complete in the framebuffer (None if no row is) and, once it is all there,
        the events the parser goes on to."""
        if self._rect is None:
            raise RuntimeError("a read into the framebuffer with no Raw rows waited for")
        x, y, w, total = self._rect
        row = w * 4
        if self._region is not None:
            got0 = self._got
            got = self._got = got0 + nbytes
            # Whole pixels only: a pixel split between reads is done with its last byte.
            fb.received(y * w + got0 // 4, got // 4 - got0 // 4)
            first, done = got0 // row, got // row
        else:
            end = self._partial + nbytes
            rows, self._partial = divmod(end, row)
            first, done = self._row, self._row + rows
            if rows:
                scratch = self._scratch
                assert scratch is not None
                fb.put_pixels(x, y + first, w, rows, memoryview(scratch)[: rows * row])
                scratch[: self._partial] = scratch[rows * row : end]  # the next row's start
                self._row = done
        if done == first:
            return None, []
        rect = (x, y + first, w, done - first)
        if done < total:
            return rect, []
        self._rect = self._region = None
        return rect, client.raw_rows_done(total)
