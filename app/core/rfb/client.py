"""The sans-IO RFB client: the connection's state machine from the version greeting to
framebuffer updates, and the queue of messages to send.

Bytes go in with :meth:`RFBClient.receive_data`, events come out; what the client wants
sent accumulates until :meth:`RFBClient.data_to_send`. No socket, thread or clock in
here. Whatever the server sends, ``receive_data`` returns a list: a protocol violation,
a limit overrun or a bug in a decoder becomes a :class:`~app.core.rfb.events.ProtocolError`
event, after which the client takes no more input.
"""

from __future__ import annotations

import enum
import re
import struct
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from app.core.rfb import messages
from app.core.rfb.des import vnc_auth_response
from app.core.rfb.events import (
    AuthFailed,
    AuthRequired,
    Bell,
    CopyRect,
    DesktopNameChanged,
    DesktopResized,
    DesktopSizeStatus,
    Event,
    ExtendedKeyEventSupported,
    PointerModeChanged,
    ProtocolError,
    RectPixels,
    ScreenLayout,
    ServerCutText,
    ServerInit,
    UpdateEnd,
)
from app.core.rfb.inflate import ZlibStream
from app.core.rfb.protocol import (
    CLIENT_PIXEL_FORMAT,
    MAX_CUT_TEXT,
    MAX_FRAMEBUFFER_PIXELS,
    MAX_FRAMEBUFFER_SIDE,
    MAX_SHORT_STRING,
    RELATIVE_POINTER_CENTRE,
    Encoding,
    PixelFormat,
    ProtocolViolation,
    SecurityType,
    ServerMessage,
    check_framebuffer_size,
    compress_level_encoding,
    jpeg_quality_encoding,
)
from app.core.rfb.pseudo import read_cursor, read_desktop_name, read_led_state, read_screens
from app.core.rfb.reader import PAUSE, Feeder, Parser, read_string, read_u8, read_u32, skip
from app.core.rfb.tight import TightDecoder
from app.core.rfb.zrle import ZRLEDecoder

#: Encodings in order of preference, for a link where bandwidth matters.
COMPRESSED_ENCODINGS: tuple[int, ...] = (
    Encoding.TIGHT,
    Encoding.ZRLE,
    Encoding.ZLIB,
    Encoding.COPY_RECT,
    Encoding.RAW,
)
#: For a local socket (libvirt's graphics fd): Raw costs the least CPU on both ends.
LOCAL_ENCODINGS: tuple[int, ...] = (Encoding.COPY_RECT, Encoding.RAW)

#: Pseudo-encodings always announced (the server uses those it knows).
PSEUDO_ENCODINGS: tuple[int, ...] = (
    Encoding.EXTENDED_DESKTOP_SIZE,
    Encoding.DESKTOP_SIZE,
    Encoding.LAST_RECT,
    Encoding.CURSOR,
    Encoding.QEMU_EXTENDED_KEY_EVENT,
    Encoding.QEMU_POINTER_MOTION_CHANGE,
    Encoding.QEMU_LED_STATE,
    Encoding.DESKTOP_NAME,
)

_VERSION = re.compile(rb"RFB (\d{3})\.(\d{3})\n")
_RECT = struct.Struct(">HHHHi")
_SERVER_INIT = struct.Struct(">HH16sI")


class AuthFailure(Exception):
    """Raised inside the parser when the server refuses us; becomes AuthFailed."""


class State(enum.Enum):
    HANDSHAKE = "handshake"
    WAITING_FOR_PASSWORD = "waiting for password"
    CONNECTED = "connected"
    CLOSED = "closed"


@dataclass(frozen=True)
class RFBOptions:
    """How the client behaves. ``password`` may be left out and given later, when the
    client reports :class:`~app.core.rfb.events.AuthRequired`."""

    password: str | bytes | None = None
    shared: bool = True
    encodings: Sequence[int] = COMPRESSED_ENCODINGS
    #: Tight JPEG quality 0-9, or None for no JPEG (lossless Tight).
    jpeg_quality: int | None = None
    #: Compression level 0-9 for Tight/ZRLE servers that take it, or None.
    compress_level: int | None = None
    #: Ask for the next update by itself whenever one ends (a full one after a resize).
    auto_update: bool = True
    #: The highest protocol version to speak: (3, 3), (3, 7) or (3, 8).
    max_version: tuple[int, int] = (3, 8)
    max_side: int = MAX_FRAMEBUFFER_SIDE
    max_pixels: int = MAX_FRAMEBUFFER_PIXELS
    extra_encodings: Sequence[int] = field(default=PSEUDO_ENCODINGS)

    def all_encodings(self) -> list[int]:
        out = [int(e) for e in self.encodings]
        if Encoding.RAW not in out:
            out.append(Encoding.RAW)
        if self.jpeg_quality is not None:
            out.append(jpeg_quality_encoding(self.jpeg_quality))
        if self.compress_level is not None:
            out.append(compress_level_encoding(self.compress_level))
        out += [int(e) for e in self.extra_encodings]
        return out


class RFBClient:
    """One RFB connection's client side, without I/O.

    >>> client = RFBClient(RFBOptions(password="secret"))
    >>> events = client.receive_data(b"RFB 003.008\\n")
    >>> client.data_to_send()
    b'RFB 003.008\\n'
    """

    def __init__(self, options: RFBOptions | None = None) -> None:
        self.options = options or RFBOptions()
        self._events: list[Event] = []
        self._out: list[bytes] = []
        self.state = State.HANDSHAKE
        self.error: str | None = None
        self.version: tuple[int, int] | None = None
        self.width = 0
        self.height = 0
        self.name = ""
        self.server_pixel_format: PixelFormat | None = None
        self.extended_keys = False
        self.absolute_pointer = True
        self.can_set_desktop_size = False
        self.screens: tuple[ScreenLayout, ...] = ()
        self._resized = False
        self._zlib = ZlibStream()
        self._tight = TightDecoder()
        self._zrle = ZRLEDecoder()
        #: (x, y, w, rows left) while the parser waits for the next rows of a Raw rectangle.
        self._raw_waiting: tuple[int, int, int, int] | None = None
        self._feeder = Feeder(self._run())

    # --- I/O boundary --------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self.state is State.CLOSED

    def receive_data(self, data: bytes | bytearray | memoryview) -> list[Event]:
        """Parse what the server sent; returns the events it completed. Never raises."""
        if self.state is State.CLOSED:
            return []
        if type(data) is not bytes:
            data = bytes(data)
        self._guard(self._feeder.feed, data)
        return self._take_events()

    def pending_raw(self) -> tuple[int, int, int, int] | None:
        """``(x, y, width, rows)`` when the parser waits for the next ``rows`` rows of a
        Raw rectangle, else None. The caller may then read those rows' bytes from its
        socket straight into its framebuffer, saving a copy and a parse per read: first
        :meth:`take_raw_head` (the start of the first row, if it came with the last
        data), then the rest, each batch of whole rows reported with
        :meth:`raw_rows_done`. Once the head is taken, every byte up to the end of the
        rectangle must go that way (the parser no longer has it).

        The rectangle has been checked against the framebuffer size the client knows (as
        every rectangle is); the caller still writes only inside its own buffer."""
        if self.state is State.CONNECTED:
            return self._raw_waiting
        return None

    def take_raw_head(self) -> bytes:
        """The start of the first row :meth:`pending_raw` waits for (less than a row,
        maybe nothing), which the parser holds no more: see there."""
        if self.pending_raw() is None:
            raise ValueError("the parser is not waiting for Raw rows")
        return self._feeder.take_held()

    def raw_rows_done(self, rows: int) -> list[Event]:
        """The caller put the next ``rows`` rows of the Raw rectangle that
        :meth:`pending_raw` reported into its framebuffer itself (B, G, R, X, the X byte
        still to be made opaque): the parser goes on past them without a
        :class:`RectPixels` for them. Returns the events that completes (an
        :class:`UpdateEnd` when they were the update's last)."""
        pending = self.pending_raw()
        if pending is None or not 0 < rows <= pending[3]:
            raise ValueError(f"{rows} rows were not what the parser waits for ({pending})")
        self._guard(self._feeder.send_direct, rows)
        return self._take_events()

    def data_to_send(self) -> bytes:
        """Everything queued for the server since the last call."""
        out = b"".join(self._out)
        self._out.clear()
        return out

    def send_password(self, password: str | bytes) -> list[Event]:
        """Answer :class:`~app.core.rfb.events.AuthRequired`."""
        if self.state is not State.WAITING_FOR_PASSWORD:
            return []
        self.state = State.HANDSHAKE
        self._guard(self._feeder.resume, password)
        return self._take_events()

    def close(self, reason: str = "closed by the client") -> None:
        """Stop taking input (the transport is going away)."""
        if self.state is not State.CLOSED:
            self.state = State.CLOSED
            self.error = reason

    def _guard(self, func: Callable[[Any], None], arg: object) -> None:
        try:
            func(arg)
        except AuthFailure as e:
            self._fail(AuthFailed(str(e)))
        except ProtocolViolation as e:
            self._fail(ProtocolError(str(e)))
        except Exception as e:  # a decoder bug must not take the application down
            self._fail(ProtocolError(f"internal error while parsing: {type(e).__name__}: {e}"))

    def _fail(self, event: AuthFailed | ProtocolError) -> None:
        self._events.append(event)
        self.state = State.CLOSED
        self.error = event.reason
        self._out.clear()

    def _take_events(self) -> list[Event]:
        events = self._events
        self._events = []
        return events

    def _emit(self, event: Event) -> None:
        self._events.append(event)

    def _send(self, data: bytes) -> None:
        self._out.append(data)

    # --- Client messages ------------------------------------------------------------------
    # These queue a message once the handshake is done and are dropped before it (and after
    # the connection closed): input that arrives while connecting has nowhere to go.

    @property
    def ready(self) -> bool:
        return self.state is State.CONNECTED

    def request_update(
        self,
        incremental: bool = True,
        x: int = 0,
        y: int = 0,
        width: int | None = None,
        height: int | None = None,
    ) -> None:
        if self.ready:
            w = self.width - x if width is None else width
            h = self.height - y if height is None else height
            self._send(messages.framebuffer_update_request(incremental, x, y, w, h))

    def set_encodings(self, encodings: Iterable[int]) -> None:
        if self.ready:
            self._send(messages.set_encodings(list(encodings)))

    def key_event(self, keysym: int, down: bool) -> None:
        if self.ready:
            self._send(messages.key_event(keysym, down))

    def qemu_key_event(self, keysym: int, keycode: int, down: bool) -> None:
        """A QEMU Extended Key Event (XT scancode in QEMU's numbering); only once the
        server said it takes them (:attr:`extended_keys`)."""
        if self.ready and self.extended_keys:
            self._send(messages.qemu_extended_key_event(keysym, keycode, down))

    def key(self, down: bool, keysym: int, scancode: int | None = None) -> None:
        """A key, as a scancode when the server takes them and one is known, else as a
        keysym."""
        if scancode and self.extended_keys:
            self.qemu_key_event(keysym, scancode, down)
        else:
            self.key_event(keysym, down)

    def pointer_event(self, x: int, y: int, buttons: int) -> None:
        """An absolute position, clamped to the framebuffer."""
        if self.ready:
            x = min(max(x, 0), max(self.width - 1, 0), 0xFFFF)
            y = min(max(y, 0), max(self.height - 1, 0), 0xFFFF)
            self._send(messages.pointer_event(x, y, buttons))

    def relative_pointer_event(self, dx: int, dy: int, buttons: int) -> None:
        """A motion for QEMU's relative mode (see :class:`PointerModeChanged`)."""
        if self.ready:
            x = min(max(RELATIVE_POINTER_CENTRE + dx, 0), 0xFFFF)
            y = min(max(RELATIVE_POINTER_CENTRE + dy, 0), 0xFFFF)
            self._send(messages.pointer_event(x, y, buttons))

    def client_cut_text(self, text: str) -> None:
        if self.ready:
            self._send(messages.client_cut_text(text[:MAX_CUT_TEXT]))

    def set_desktop_size(
        self, width: int, height: int, screens: Sequence[ScreenLayout] | None = None
    ) -> bool:
        """Ask the server for a new size (ExtendedDesktopSize); False if it cannot."""
        if not (self.ready and self.can_set_desktop_size):
            return False
        if screens is None:
            first = self.screens[0] if self.screens else ScreenLayout(0, 0, 0, 0, 0, 0)
            screens = [ScreenLayout(first.id, 0, 0, width, height, first.flags)]
        self._send(messages.set_desktop_size(width, height, screens))
        return True

    # --- The parser -------------------------------------------------------------------------

    def _run(self) -> Parser:
        yield from self._handshake()
        dispatch = {
            ServerMessage.FRAMEBUFFER_UPDATE: self._framebuffer_update,
            ServerMessage.SET_COLOUR_MAP_ENTRIES: self._colour_map_entries,
            ServerMessage.BELL: self._bell,
            ServerMessage.SERVER_CUT_TEXT: self._server_cut_text,
        }
        while True:
            kind = yield from read_u8()
            handler = dispatch.get(kind)
            if handler is None:
                raise ProtocolViolation(f"unknown server message type {kind}")
            yield from handler()

    def _handshake(self) -> Parser:
        greeting = bytes((yield 12))
        m = _VERSION.fullmatch(greeting)
        if m is None:
            raise ProtocolViolation(f"not an RFB server (it said {greeting!r})")
        server = (int(m[1]), int(m[2]))
        if server < (3, 3):
            raise ProtocolViolation(f"RFB {server[0]}.{server[1]} is too old")
        version = (3, 8) if server >= (3, 8) else (3, 7) if server >= (3, 7) else (3, 3)
        version = min(version, self.options.max_version)
        self.version = version
        self._send(b"RFB 003.%03d\n" % version[1])

        if version == (3, 3):
            security = yield from read_u32()
            if security == SecurityType.INVALID:
                yield from self._refused()
            if security not in (SecurityType.NONE, SecurityType.VNC_AUTH):
                raise ProtocolViolation(f"unknown security type {security}")
        else:
            count = yield from read_u8()
            if count == 0:
                yield from self._refused()
            offered = bytes((yield count))
            if SecurityType.NONE in offered:
                security = SecurityType.NONE
            elif SecurityType.VNC_AUTH in offered:
                security = SecurityType.VNC_AUTH
            else:
                raise AuthFailure(
                    "the server offers no security type Nido supports "
                    f"(offered: {', '.join(str(t) for t in offered)})"
                )
            self._send(bytes((security,)))

        if security == SecurityType.VNC_AUTH:
            challenge = bytes((yield 16))
            password = self.options.password
            if password is None:
                self.state = State.WAITING_FOR_PASSWORD
                self._emit(AuthRequired())
                password = yield PAUSE
            self._send(vnc_auth_response(password, challenge))

        if security == SecurityType.VNC_AUTH or version == (3, 8):
            result = yield from read_u32()
            if result != 0:
                reason = ""
                if version == (3, 8):
                    raw, _ = yield from read_string(MAX_SHORT_STRING)
                    reason = raw.decode("utf-8", "replace")
                if not reason:
                    reason = (
                        "too many authentication failures"
                        if result == 2
                        else "authentication failed"
                    )
                raise AuthFailure(reason)

        self._send(bytes((int(self.options.shared),)))
        width, height, pf, name_length = _SERVER_INIT.unpack((yield _SERVER_INIT.size))
        check_framebuffer_size(width, height, self.options.max_side, self.options.max_pixels)
        keep = min(name_length, MAX_SHORT_STRING)
        name = bytes((yield keep)) if keep else b""
        yield from skip(name_length - keep)
        self.width, self.height = width, height
        self.name = name.decode("utf-8", "replace")
        self.server_pixel_format = PixelFormat.unpack(pf)
        self.state = State.CONNECTED
        self._emit(ServerInit(width, height, self.name, self.server_pixel_format, version))
        self._send(messages.set_pixel_format(CLIENT_PIXEL_FORMAT))
        self._send(messages.set_encodings(self.options.all_encodings()))
        if self.options.auto_update:
            self.request_update(incremental=False)

    def _refused(self) -> Parser:
        raw, _ = yield from read_string(MAX_SHORT_STRING)
        raise AuthFailure(raw.decode("utf-8", "replace") or "the server refused the connection")

    # --- Server messages ---------------------------------------------------------------------

    def _bell(self) -> Parser:
        self._emit(Bell())
        yield from ()

    def _colour_map_entries(self) -> Parser:
        # Only meaningful for colour-mapped pixel formats, which this client never uses.
        header = yield 5
        _, _first, count = struct.unpack(">BHH", header)
        yield from skip(count * 6)

    def _server_cut_text(self) -> Parser:
        yield 3
        raw, truncated = yield from read_string(MAX_CUT_TEXT)
        self._emit(ServerCutText(raw.decode("latin-1"), truncated))

    def _framebuffer_update(self) -> Parser:
        header = yield 3
        count = struct.unpack_from(">H", header, 1)[0]
        emit = self._emit
        for _ in range(count):
            x, y, w, h, encoding = _RECT.unpack((yield 12))
            if encoding == Encoding.LAST_RECT:
                break
            if encoding >= 0:
                self._check_rect(x, y, w, h)
            if encoding == Encoding.RAW:
                yield from self._raw(x, y, w, h)
            elif encoding == Encoding.COPY_RECT:
                sx, sy = struct.unpack(">HH", (yield 4))
                self._check_rect(sx, sy, w, h, "CopyRect source")
                if w and h:
                    emit(CopyRect(x, y, w, h, sx, sy))
            elif encoding == Encoding.ZLIB:
                length = yield from read_u32()
                data = yield from self._zlib.inflate_exact(length, w * h * 4)
                if w and h:
                    emit(RectPixels(x, y, w, h, data))
            elif encoding == Encoding.TIGHT:
                yield from self._tight.decode(x, y, w, h, emit)
            elif encoding == Encoding.ZRLE:
                yield from self._zrle.decode(x, y, w, h, emit)
            else:
                yield from self._pseudo(x, y, w, h, encoding)
        emit(UpdateEnd())
        if self.options.auto_update:
            self.request_update(incremental=not self._resized)
            self._resized = False

    def _check_rect(self, x: int, y: int, w: int, h: int, what: str = "rectangle") -> None:
        if x + w > self.width or y + h > self.height:
            raise ProtocolViolation(
                f"{what} {w}x{h}+{x}+{y} is outside the {self.width}x{self.height} framebuffer"
            )

    def _raw(self, x: int, y: int, w: int, h: int) -> Parser:
        row = w * 4
        if not row or not h:
            return
        emit = self._emit
        while h:
            self._raw_waiting = (x, y, w, h)
            chunk = yield (h * row, row)
            self._raw_waiting = None
            if type(chunk) is int:  # rows the caller read into its framebuffer itself
                rows = chunk
            else:
                rows = len(chunk) // row
                emit(RectPixels(x, y, w, rows, chunk))
            y += rows
            h -= rows

    def _pseudo(self, x: int, y: int, w: int, h: int, encoding: int) -> Parser:
        emit = self._emit
        if encoding == Encoding.DESKTOP_SIZE:
            self._resize(w, h, self.screens)
        elif encoding == Encoding.EXTENDED_DESKTOP_SIZE:
            screens = yield from read_screens()
            self.can_set_desktop_size = True
            reason, status = x, y
            if reason == 1:
                emit(DesktopSizeStatus(status))
            if status == 0:
                self._resize(w, h, screens)
        elif encoding == Encoding.CURSOR:
            emit((yield from read_cursor(x, y, w, h)))
        elif encoding == Encoding.QEMU_POINTER_MOTION_CHANGE:
            self.absolute_pointer = x != 0
            emit(PointerModeChanged(self.absolute_pointer))
        elif encoding == Encoding.QEMU_EXTENDED_KEY_EVENT:
            if not self.extended_keys:
                self.extended_keys = True
                emit(ExtendedKeyEventSupported())
        elif encoding == Encoding.QEMU_LED_STATE:
            emit((yield from read_led_state()))
        elif encoding == Encoding.DESKTOP_NAME:
            self.name = yield from read_desktop_name()
            emit(DesktopNameChanged(self.name))
        else:
            raise ProtocolViolation(f"unknown encoding {encoding}")

    def _resize(self, width: int, height: int, screens: tuple[ScreenLayout, ...]) -> None:
        check_framebuffer_size(width, height, self.options.max_side, self.options.max_pixels)
        if (width, height) != (self.width, self.height) or screens != self.screens:
            self.width, self.height, self.screens = width, height, screens
            self._resized = True
            self._emit(DesktopResized(width, height, screens))
