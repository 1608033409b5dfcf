"""A sans-IO RFB (VNC) client: bytes in, events out, never a socket.

Example, with any transport::

    from app.core.rfb import Framebuffer, RFBClient, RFBOptions, events

    client = RFBClient(RFBOptions(password=None))
    fb = Framebuffer()
    while not client.closed:
        sock.sendall(client.data_to_send())
        for ev in client.receive_data(sock.recv(1 << 20)):
            if isinstance(ev, events.ServerInit):
                fb.resize(ev.width, ev.height)
            elif isinstance(ev, events.AuthRequired):
                client.send_password(ask_the_person())
            elif isinstance(ev, events.JpegRect):
                fb.put_pixels(ev.x, ev.y, ev.width, ev.height, decode_jpeg(ev.data))
            else:
                fb.apply(ev)   # rectangles, copies, fills, resizes; None for the rest

The modules: :mod:`.client` (the state machine and client messages), :mod:`.events`,
:mod:`.framebuffer`, :mod:`.protocol` (constants, the pixel format, limits), :mod:`.messages`
(client message encoders), :mod:`.reader` (feeding split byte streams to the parser),
:mod:`.inflate` (bounded zlib), :mod:`.pixels` (vectorised conversions), :mod:`.tight`,
:mod:`.zrle`, :mod:`.pseudo` (cursor, screens, LEDs), :mod:`.des` (VNC authentication)
and :mod:`.keymap` (Linux evdev codes to QEMU scancodes).

Core needs NumPy (vectorised pixel work) and nothing else outside the standard library.
"""

from app.core.rfb import events
from app.core.rfb.client import (
    COMPRESSED_ENCODINGS,
    LOCAL_ENCODINGS,
    RFBClient,
    RFBOptions,
    State,
)
from app.core.rfb.framebuffer import Framebuffer
from app.core.rfb.protocol import (
    CLIENT_PIXEL_FORMAT,
    MAX_FRAMEBUFFER_PIXELS,
    MAX_FRAMEBUFFER_SIDE,
    Encoding,
    PixelFormat,
)

__all__ = [
    "CLIENT_PIXEL_FORMAT",
    "COMPRESSED_ENCODINGS",
    "LOCAL_ENCODINGS",
    "MAX_FRAMEBUFFER_PIXELS",
    "MAX_FRAMEBUFFER_SIDE",
    "Encoding",
    "Framebuffer",
    "PixelFormat",
    "RFBClient",
    "RFBOptions",
    "State",
    "events",
]
