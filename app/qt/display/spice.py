"""SPICE in the display seam: spice-client-glib, in process, through GObject introspection.

A :class:`SpiceSession` opens a ``SpiceSession`` with no socket of its own
(``open_fd(-1)``): each channel the guest offers (main, display, cursor, inputs, USB
redirection) asks for a descriptor with its ``open-fd`` signal, and gets a fresh one from
libvirt's ``virDomainOpenGraphicsFD``, opened on the connection's workers, never on the GUI
thread. The channel then owns the descriptor.

- The primary surface is memory that spice-client-glib owns; :meth:`image` is a QImage
  over it (no copy), dropped at ``display-primary-destroy``, which the library signals
  before it frees the memory. ``display-invalidate`` rectangles become :attr:`damaged`,
  once per turn of the event loop.
- Keys go as scancodes, buttons and motions as SPICE wants them (:mod:`.spice_input`).
  The pointer is absolute in SPICE's client mouse mode (a tablet or an agent in the guest),
  else relative.
- The clipboard is shared with the guest's agent, and :meth:`set_preferred_size` asks the
  agent for a guest resolution that fits the widget (:mod:`.spice_agent`).
- When the guest offers USB redirection channels (``<redirdev type='spicevmc'>``),
  :attr:`SpiceSession.usb` follows the host's USB devices and redirects the ones the
  person picks (:mod:`.spice_usb`); :attr:`~SpiceSession.usbChanged` says when it comes
  and goes.

Everything runs on the GUI thread: Qt's GLib event dispatcher iterates GLib's default
main context, where spice-client-glib's channels live (see :mod:`.spice_gi`).
"""

from __future__ import annotations

import logging
import os
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QImage

from app.core.errors import NidoError
from app.qt.display.opener import SPICE, DisplayEndpoint
from app.qt.display.session import CursorImage, DisplaySession, coalesce_damage
from app.qt.display.spice_agent import AgentLink
from app.qt.display.spice_files import FileSender
from app.qt.display.spice_gi import FdRequest, fd_request_on, load, view_at
from app.qt.display.spice_input import InputRouter, PacedInput
from app.qt.display.spice_usb import UsbRedirection

log = logging.getLogger(__name__)

#: SpiceSurfaceFmt values whose pixels are Format_RGB32 in memory (x/a, R, G, B words).
_RGB32_FORMATS = {32, 96}  # SPICE_SURFACE_FMT_32_xRGB, SPICE_SURFACE_FMT_32_ARGB
#: A surface side beyond this is refused (spice-client-glib allocates what the server asks).
MAX_SIDE = 16384
MAX_CURSOR_SIDE = 512
#: SpiceMouseMode
_CLIENT_MOUSE = 2
_EVENT_REASONS = {
    "SPICE_CHANNEL_CLOSED": "the guest's display closed",
    "SPICE_CHANNEL_ERROR_CONNECT": "could not connect to the guest's display",
    "SPICE_CHANNEL_ERROR_TLS": "the TLS handshake failed",
    "SPICE_CHANNEL_ERROR_LINK": "the display refused the connection",
    "SPICE_CHANNEL_ERROR_AUTH": "authentication failed",
    "SPICE_CHANNEL_ERROR_IO": "the connection to the display broke",
}


class SpiceSession(DisplaySession):
    """One SPICE connection; descriptors for its channels come from ``request_fd``."""

    protocol = "spice"
    #: :attr:`usb` came (the guest offers USB redirection) or went (the session closed).
    usbChanged = Signal()

    def __init__(
        self,
        request_fd: FdRequest,
        password: str | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._G, self._S = load()
        self._request_fd = request_fd
        self._session = self._S.Session()
        # Sound from the guest plays through spice-client-glib's own GStreamer output (see
        # _start_sound); the microphone stays closed: no record channel is connected.
        self._session.props.enable_audio = True
        self._session.props.enable_smartcard = False
        if password:
            self._session.props.password = password
        self._handlers: list[tuple[Any, int]] = []
        self._channels: list[Any] = []
        self._main: Any = None
        self._display: Any = None
        self._image = QImage()
        self._view: object | None = None
        self._width = self._height = 0
        self._damage: list[tuple[int, int, int, int]] = []
        self._flush = QTimer(self)
        self._flush.setSingleShot(True)
        self._flush.setInterval(0)
        self._flush.timeout.connect(self._flush_damage)
        self.inputs = InputRouter()
        self._paced = PacedInput(self.inputs, self)
        self.agent = AgentLink(self)
        #: Files sent into the guest through its agent.
        self.files = FileSender(self._G, self)
        self.agent.listeners.append(self.files.set_agent)
        #: USB redirection, once the guest offers a channel for it (None before, and after).
        self.usb: UsbRedirection | None = None
        #: spice-client-glib's sound output, once the guest offers a playback channel.
        self._audio: Any = None
        #: Bytes of the guest's sound received (a counter for tests and status displays).
        self.sound_bytes = 0
        self._absolute = False
        self._ready = False
        self._open = True
        self._disconnected: Any = None
        #: Counters for tests and status displays.
        self.fds_opened = 0
        self.invalidations = 0
        self._on(self._session, "channel-new", self._channel_new)
        self._on(self._session, "disconnected", self._session_disconnected)
        self._session.open_fd(-1)  # the main channel asks for its descriptor at once

    # -- DisplaySession ----------------------------------------------------------------------
    @property
    def width(self) -> int:
        return self._width

    @property
    def height(self) -> int:
        return self._height

    @property
    def absolute_pointer(self) -> bool:
        return self._absolute

    @property
    def agent_connected(self) -> bool:
        return self.agent.connected

    @property
    def resize_hint(self) -> str:
        # Only the guest's agent can be asked (one may still start).
        return "" if self.agent.connected else "Needs the SPICE agent in the guest"

    @property
    def is_open(self) -> bool:
        return self._open

    def image(self) -> QImage:
        return self._image

    def key(self, down: bool, keysym: int, scancode: int | None) -> None:
        self._paced.key(down, scancode)

    def pointer(self, x: int, y: int, buttons: int) -> None:
        self._paced.pointer(x, y, buttons)

    def relative_pointer(self, dx: int, dy: int, buttons: int) -> None:
        self._paced.relative_pointer(dx, dy, buttons)

    def send_password(self, password: str) -> None:
        # SPICE asks for no password mid-session: a wrong one closes the session with an
        # authentication error, and the next session gets the password up front.
        if self._session is not None:
            self._session.props.password = password

    def close(self) -> None:
        self._shut("")

    def set_preferred_size(self, width: int, height: int) -> None:
        """Ask the guest (through its agent) for a resolution that fills ``width`` x
        ``height`` device pixels; remembered until an agent is there to hear it."""
        self.agent.set_preferred_size(width, height)

    def clear_preferred_size(self) -> None:
        self.agent.clear_preferred_size()

    def usb_device_manager(self) -> Any:
        """spice-client-glib's ``UsbDeviceManager`` for this session (lists the host's USB
        devices and redirects them to the guest's ``<redirdev type='spicevmc'>``); None
        once the session is closed."""
        if self._session is None:
            return None
        return self._S.UsbDeviceManager.get(self._session)

    # -- GObject plumbing --------------------------------------------------------------------
    def _on(self, obj: Any, signal: str, handler: Any) -> None:
        # SpiceSession.connect and SpiceChannel.connect shadow GObject's own connect.
        self._handlers.append((obj, self._G.Object.connect(obj, signal, handler)))

    def _shut(self, reason: str) -> None:
        if not self._open:
            return
        self._open = False
        # The QImage points into spice-client-glib's memory: let go of it first.
        self._image = QImage()
        self._view = None
        self._flush.stop()
        self._paced.clear()
        for obj, handler in self._handlers:
            obj.handler_disconnect(handler)
        self._handlers.clear()
        self.inputs.attach(None)
        self.agent.detach()
        self.files.detach(reason)
        usb, self.usb = self.usb, None
        if usb is not None:
            usb.close()
            self.usbChanged.emit()
        session, self._session = self._session, None
        self._main = self._display = None
        self._audio = None
        self._channels.clear()
        session.disconnect()  # spice_session_disconnect: closes every channel's socket
        # _shut may run inside one of the session's own signals: the GObject must outlive
        # that emission, so it goes with this object rather than now.
        self._disconnected = session
        if reason:
            log.info("SPICE display closed: %s", reason)
        self.closed.emit(reason)

    # -- channels ------------------------------------------------------------------------------
    def _channel_new(self, session: Any, channel: Any) -> None:
        S = self._S
        self._channels.append(channel)
        if isinstance(channel, S.RecordChannel):
            # The guest's microphone input. spice-client-glib's sound output would connect
            # it and record from the host's microphone whenever the guest listens: it
            # hears of new channels after this handler, so it does not hear of this one.
            session.stop_emission_by_name("channel-new")
            log.info("SPICE: the guest's microphone input is not connected")
            return
        self._on(channel, "open-fd", self._channel_wants_fd)
        self._on(channel, "channel-event", self._channel_event)
        if isinstance(channel, S.MainChannel):
            self._main = channel
            self._on(channel, "notify::mouse-mode", self._mouse_mode)
            self.agent.attach(channel, self._on)
            self.files.attach(channel, self._on)
        elif isinstance(channel, S.DisplayChannel):
            if channel.props.channel_id == 0 and self._display is None:
                self._display = channel
                self._on(channel, "display-primary-create", self._primary_create)
                self._on(channel, "display-primary-destroy", self._primary_destroy)
                self._on(channel, "display-invalidate", self._invalidate)
        elif isinstance(channel, S.CursorChannel):
            self._on(channel, "cursor-set", self._cursor_set)
            self._on(channel, "cursor-hide", self._cursor_hide)
        elif isinstance(channel, S.UsbredirChannel) and self.usb is None:
            self._start_usb()  # before the channel connects: the manager takes it in
        elif isinstance(channel, S.PlaybackChannel) and self._start_sound():
            self._on(channel, "playback-data", self._sound_data)
            channel.connect()  # after the sound output took it in (it listens to the channel)
        # The session connects its main channel; the others wait to be asked. Only what
        # Nido shows is connected (one display, so one descriptor less per extra head).
        if channel is self._display or isinstance(
            channel, (S.CursorChannel, S.InputsChannel, S.UsbredirChannel)
        ):
            channel.connect()  # spice_channel_connect: asks for its descriptor (open-fd)

    def _start_sound(self) -> bool:
        """spice-client-glib's sound output for this session (GStreamer, to the desktop's
        default output), made when the guest offers a playback channel; whether there is
        one. A record channel (the guest's microphone input) is never connected: Nido does
        not open the host's microphone without being asked."""
        if self._audio is None:
            missing = missing_sound_elements()
            if missing:
                # spice-client-glib would build its pipeline anyway, fail, and then complain
                # on stderr a hundred times a second while the guest plays.
                log.info(
                    "SPICE: no sound: GStreamer lacks %s (Debian: gstreamer1.0-plugins-base "
                    "and -good)",
                    ", ".join(missing),
                )
                return False
            try:
                self._audio = self._S.Audio.get(self._session, None)
            except Exception as exc:  # GLib.Error: built without sound, or GStreamer failed
                log.info("SPICE: no sound output on this computer: %s", exc)
                return False
            if self._audio is None:
                log.info("SPICE: no sound output on this computer")
                return False
            log.info("SPICE: the guest's sound plays here")
        return True

    def _sound_data(self, _ch: Any, _data: Any, size: int) -> None:
        self.sound_bytes += size

    def _start_usb(self) -> None:
        # The manager is made once the guest offers a channel, not for every session: it
        # starts libusb and a hot-plug watch. It takes in the session's usbredir channels
        # (those there now, and later ones through channel-new).
        try:
            manager = self._S.UsbDeviceManager.get(self._session)
        except Exception as exc:  # GLib.Error: built without usbredir, or libusb failed
            log.info("SPICE: no USB redirection on this computer: %s", exc)
            return
        self.usb = UsbRedirection(manager, self._G, self)
        log.info("SPICE: the guest offers USB redirection")
        self.usbChanged.emit()

    def _channel_wants_fd(self, channel: Any, _with_tls: bool) -> None:
        def arrived(fd: int) -> None:
            if not shiboken6.isValid(self) or not self._open or channel not in self._channels:
                os.close(fd)
                return
            self.fds_opened += 1
            if not channel.open_fd(fd):
                os.close(fd)

        def failed(err: NidoError) -> None:
            if shiboken6.isValid(self):
                self._shut(f"could not open the display ({err.summary})")

        self._request_fd(arrived, failed)

    def _channel_event(self, channel: Any, event: Any) -> None:
        name = getattr(event, "value_name", str(event))
        if name == "SPICE_CHANNEL_OPENED":
            if isinstance(channel, self._S.InputsChannel):
                self.inputs.attach(channel)
                self._paced.resume()
            return
        if isinstance(channel, self._S.InputsChannel):
            self.inputs.attach(None)
        error = channel.get_error()
        reason = _EVENT_REASONS.get(name, name)
        if error is not None and error.message:
            reason = f"{reason}: {error.message}"
        if channel is self._main or channel is self._display:
            self._shut(reason)
        else:
            log.info("SPICE %s channel: %s", type(channel).__name__, reason)

    def _session_disconnected(self, _session: Any) -> None:
        self._shut("the display connection closed")

    # -- display --------------------------------------------------------------------------------
    def _primary_create(
        self, _ch: Any, fmt: int, width: int, height: int, stride: int, _shmid: int, data: int
    ) -> None:
        if fmt not in _RGB32_FORMATS:
            self._shut(f"the display sent a surface format Nido does not know ({fmt})")
            return
        if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE) or stride < 4 * width or not data:
            self._shut(f"the display sent an impossible surface ({width}x{height}, {stride})")
            return
        self._image = QImage()
        self._view = view_at(data, stride * height)
        self._image = QImage(self._view, width, height, stride, QImage.Format.Format_RGB32)
        self._width, self._height = width, height
        self._damage = [(0, 0, width, height)]
        log.info("SPICE primary surface %dx%d", width, height)
        self.resized.emit(width, height)
        self._flush.start()
        if not self._ready:
            self._ready = True
            self.ready.emit()

    def _primary_destroy(self, _ch: Any) -> None:
        self._image = QImage()
        self._view = None
        self._damage.clear()

    def _invalidate(self, _ch: Any, x: int, y: int, w: int, h: int) -> None:
        self.invalidations += 1
        x0, y0 = max(0, x), max(0, y)
        x1, y1 = min(self._width, x + w), min(self._height, y + h)
        if x1 > x0 and y1 > y0 and not self._image.isNull():
            self._damage.append((x0, y0, x1 - x0, y1 - y0))
            if not self._flush.isActive():
                self._flush.start()

    def _flush_damage(self) -> None:
        damage, self._damage = self._damage, []
        if damage and self._open and not self._image.isNull():
            self.damaged.emit(coalesce_damage(damage))

    # -- cursor and pointer mode -------------------------------------------------------------
    def _cursor_set(self, _ch: Any, width: int, height: int, hot_x: int, hot_y: int, data: int):
        shape = cursor_image(width, height, hot_x, hot_y, data)
        if shape is not None:
            self.cursorChanged.emit(shape)

    def _cursor_hide(self, _ch: Any) -> None:
        self.cursorChanged.emit(CursorImage(None))

    def _mouse_mode(self, main: Any, _pspec: Any) -> None:
        absolute = main.props.mouse_mode == _CLIENT_MOUSE
        if absolute != self._absolute:
            self._absolute = absolute
            self.pointerModeChanged.emit(absolute)


#: The GStreamer elements spice-client-glib's sound output plays through.
SOUND_ELEMENTS = ("appsrc", "queue", "audioconvert", "audioresample", "autoaudiosink")


def missing_sound_elements() -> list[str]:
    """The :data:`SOUND_ELEMENTS` this computer's GStreamer lacks (all of them without
    GStreamer's introspection data)."""
    try:
        import gi

        gi.require_version("Gst", "1.0")
        from gi.repository import Gst
    except (ImportError, ValueError):
        return list(SOUND_ELEMENTS)
    if not Gst.init_check(None)[0]:
        return list(SOUND_ELEMENTS)
    return [name for name in SOUND_ELEMENTS if Gst.ElementFactory.find(name) is None]


def cursor_image(width: int, height: int, hot_x: int, hot_y: int, data: int) -> CursorImage | None:
    """A cursor shape from spice-client-glib's pixels (R, G, B, A bytes: it swaps the
    wire's BGRA), copied. None when there is nothing to show: no data means the default
    pointer, and an implausible size is ignored."""
    if not (0 < width <= MAX_CURSOR_SIDE and 0 < height <= MAX_CURSOR_SIDE) or not data:
        return None
    view = view_at(data, width * height * 4)
    image = QImage(view, width, height, width * 4, QImage.Format.Format_RGBA8888)
    image = image.convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)
    return CursorImage(image, min(max(hot_x, 0), width - 1), min(max(hot_y, 0), height - 1))


# -- the controller's factory ------------------------------------------------------------------
def spice_session(endpoint: DisplayEndpoint, password: str | None) -> DisplaySession:
    """``SESSION_FACTORIES["spice"]``. The endpoint says how to get each channel's
    descriptor, either as ``endpoint.fd_request`` (an
    :data:`~app.qt.display.spice_gi.FdRequest`) or as ``endpoint.open_fd`` (a blocking
    call, such as :func:`~app.qt.display.spice_gi.open_channel_fd` bound to the VM) with
    ``endpoint.workers`` (the connection's pool, where it runs)."""
    request = getattr(endpoint, "fd_request", None)
    open_fd = getattr(endpoint, "open_fd", None)
    workers = getattr(endpoint, "workers", None)
    if request is None and open_fd is not None and workers is not None:
        request = fd_request_on(workers, open_fd)
    if request is None:
        raise NidoError(
            "Nido cannot open this SPICE display.",
            "The display endpoint says neither fd_request nor open_fd and workers.",
        )
    return SpiceSession(request, password)


def register(factories: dict | None = None) -> None:
    """Add SPICE to the protocols the display controller can show."""
    if factories is None:
        from app.qt.display.controller import SESSION_FACTORIES as factories
    factories[SPICE] = spice_session
