"""The SPICE session's own logic, without a guest: GLib inside Qt's event loop, scancodes
and buttons, the surface over spice-client-glib's memory, the clipboard bridge, the agent's
monitor config, descriptors that fail or come late, and a machine without SPICE.

What only a real SPICE server can show (the guest's picture, typed keys reaching it) is
in tests/integration/test_spice_display.py.
"""

from __future__ import annotations

import contextlib
import ctypes
import itertools
import socket
import sys
import threading
import time
from types import SimpleNamespace

import gi
import pytest
from PySide6.QtGui import QClipboard, QGuiApplication, QImage

from app.core.errors import ErrorKind, NidoError
from app.core.rfb import keymap
from app.core.workers import WorkerPool
from app.qt.display import spice_gi
from app.qt.display.opener import SPICE, DisplayEndpoint
from app.qt.display.spice import SpiceSession, cursor_image, register, spice_session
from app.qt.display.spice_agent import (
    CAP_CLIPBOARD_BY_DEMAND,
    MAX_TEXT,
    UTF8_TEXT,
    AgentLink,
    ClipboardBridge,
)
from app.qt.display.spice_input import InputRouter, spice_scancode

gi.require_version("GLib", "2.0")
from gi.repository import GLib  # noqa: E402


# -- GLib inside Qt --------------------------------------------------------------------------
def test_qt_event_loop_runs_glib_default_context_sources_on_the_gui_thread(qtbot) -> None:
    """spice-client-glib's channels live on GLib's default context: Qt must iterate it."""
    ran: list[str] = []

    def idle() -> bool:
        ran.append(threading.current_thread().name)
        return GLib.SOURCE_REMOVE

    GLib.idle_add(idle)
    GLib.timeout_add(20, idle)
    qtbot.waitUntil(lambda: len(ran) == 2, timeout=2000)
    assert ran == [threading.main_thread().name] * 2


# -- keys and buttons ------------------------------------------------------------------------
def test_qnum_scancodes_become_spice_scancodes() -> None:
    assert spice_scancode(0x1E) == 0x1E  # A
    assert spice_scancode(keymap.qnum_from_evdev(97)) == 0x11D  # right Ctrl: E0 1D
    assert spice_scancode(keymap.qnum_from_evdev(103)) == 0x148  # Up: E0 48
    assert spice_scancode(keymap.qnum_from_evdev(111)) == 0x153  # Delete: E0 53
    for bad in (0, 0x80, 0x100, -1):
        assert spice_scancode(bad) is None
    # Every key the keymap knows gets a distinct SPICE scancode.
    qnums = {keymap.qnum_from_evdev(c) for c in range(1, 256)} - {None}
    codes = {spice_scancode(q) for q in qnums}
    assert None not in codes and len(codes) == len(qnums)


class RecordingInputs:
    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def __getattr__(self, name: str):
        return lambda *args: self.calls.append((name, *args))


def test_input_waits_for_the_channel_then_translates_keys() -> None:
    router = InputRouter()
    assert router.key(True, 0x1E) is False  # no inputs channel yet: dropped, not queued
    inputs = RecordingInputs()
    router.attach(inputs)
    assert router.key(True, 0x9D) and router.key(False, 0x9D)
    assert router.key(True, None) is False  # no scancode: SPICE takes nothing else
    assert inputs.calls == [("key_press", 0x11D), ("key_release", 0x11D)]
    assert router.down == set()


def test_buttons_and_wheel_become_presses_and_releases_with_the_held_state() -> None:
    router = InputRouter()
    inputs = RecordingInputs()
    router.attach(inputs)
    router.pointer(10, 20, 1)  # left down
    router.pointer(11, 21, 1 | 4)  # right down too
    router.pointer(12, 22, 4)  # left up
    router.pointer(12, 22, 4 | 8)  # wheel up (RFB: press ...
    router.pointer(12, 22, 4)  # ... and release)
    router.relative_pointer(-3, 5, 0)  # a move with right still held, then right up
    assert inputs.calls == [
        ("position", 10, 20, 0, 0),
        ("button_press", 1, 1),
        ("position", 11, 21, 0, 1),
        ("button_press", 3, 5),
        ("position", 12, 22, 0, 5),
        ("button_release", 1, 4),
        ("position", 12, 22, 0, 4),
        ("button_press", 4, 4),
        ("position", 12, 22, 0, 4),
        ("button_release", 4, 4),
        ("motion", -3, 5, 4),
        ("button_release", 3, 0),
    ]
    router.pointer(-5, -7, 0)
    assert inputs.calls[-1] == ("position", 0, 0, 0, 0)  # never negative


# -- a session on a descriptor source the test controls ---------------------------------------
class Descriptors:
    """Hands out one end of a socketpair per request, or fails, when the test says."""

    def __init__(self) -> None:
        self.pending: list[tuple] = []
        self.peers: list[socket.socket] = []

    def __call__(self, on_fd, on_error) -> None:
        self.pending.append((on_fd, on_error))

    def give(self) -> socket.socket:
        on_fd, _ = self.pending.pop(0)
        ours, peer = socket.socketpair()
        self.peers.append(peer)
        on_fd(ours.detach())
        return peer

    def fail(self, summary: str) -> None:
        _, on_error = self.pending.pop(0)
        on_error(NidoError(summary))

    def close(self) -> None:
        for p in self.peers:
            p.close()


def closed_by_the_other_end(peer: socket.socket) -> bool:
    """End of file (or a reset, when our unread data was dropped) within 5 s."""
    peer.settimeout(5)
    try:
        while peer.recv(4096):
            pass
    except ConnectionResetError:
        pass
    return True


@pytest.fixture
def fds():
    d = Descriptors()
    yield d
    d.close()


@pytest.fixture
def session(qtbot, fds):
    s = SpiceSession(fds)
    yield s
    s.close()
    s.deleteLater()


def test_the_main_channel_asks_for_a_descriptor_at_once(session, fds) -> None:
    assert len(fds.pending) == 1 and session.is_open
    assert not session.absolute_pointer and session.image().isNull()


def test_a_descriptor_that_cannot_be_opened_closes_the_session_with_why(qtbot, session, fds):
    with qtbot.waitSignal(session.closed, timeout=2000) as closed:
        fds.fail("The guest is not running.")
    assert "The guest is not running." in closed.args[0]
    assert not session.is_open


def test_a_server_that_hangs_up_closes_the_session_and_its_descriptor(qtbot, session, fds):
    peer = fds.give()
    assert session.fds_opened == 1
    peer.setblocking(False)
    got = bytearray()

    def link_sent() -> bool:
        with contextlib.suppress(BlockingIOError):
            got.extend(peer.recv(4096))
        return len(got) >= 4

    qtbot.waitUntil(link_sent, timeout=5000)  # GLib runs the channel inside Qt's loop
    assert got[:4] == b"REDQ"  # SPICE's link message went out on our descriptor
    with qtbot.waitSignal(session.closed, timeout=5000) as closed:
        peer.sendall(b"garbage, not SPICE" * 4)
        peer.shutdown(socket.SHUT_WR)
    assert closed.args[0]  # a reason for the person, not ""
    assert not session.is_open
    # spice-client-glib owned the descriptor and closed it.
    assert closed_by_the_other_end(peer)


def test_a_descriptor_arriving_after_close_is_closed_not_leaked(qtbot, session, fds) -> None:
    with qtbot.waitSignal(session.closed, timeout=1000) as closed:
        session.close()
    assert closed.args == [""]
    peer = fds.give()
    assert session.fds_opened == 0
    assert closed_by_the_other_end(peer)


def test_keys_are_paced_and_input_keeps_its_order(qtbot, session) -> None:
    """QEMU puts SPICE keys straight into the guest's small PS/2 queue: a burst must be
    spread out, or a slow guest loses keys."""
    inputs = RecordingInputs()
    stamps: list[float] = []
    inputs.calls = CallLog(stamps)
    session.inputs.attach(inputs)
    for code in (0x2A, 0x1E, 0x9E, 0xAA):  # Shift down, A down, A up, Shift up
        session.key(code < 0x80, 0, code & 0x7F)
    session.pointer(5, 6, 1)  # a click made after the keys reaches the guest after them
    assert inputs.calls == [("key_press", 0x2A)]  # the first goes at once
    qtbot.waitUntil(lambda: len(inputs.calls) == 6, timeout=2000)
    assert [c[0] for c in inputs.calls] == [
        "key_press",
        "key_press",
        "key_release",
        "key_release",
        "position",
        "button_press",
    ]
    gaps = [b - a for a, b in itertools.pairwise(stamps[:5])]
    assert min(gaps) >= 0.009, gaps
    session.close()
    session.key(True, 0, 0x1E)
    assert len(inputs.calls) == 6  # nothing goes after close


class CallLog(list):
    """A list of calls that notes when each was made."""

    def __init__(self, stamps: list[float]) -> None:
        super().__init__()
        self.stamps = stamps

    def append(self, item) -> None:
        self.stamps.append(time.monotonic())
        super().append(item)


def surface(width: int, height: int, stride: int) -> ctypes.Array:
    return (ctypes.c_ubyte * (stride * height))()


def test_the_primary_surface_is_shown_without_a_copy_and_damage_is_batched(qtbot, session):
    mem = surface(64, 32, 64 * 4 + 16)
    addr = ctypes.addressof(mem)
    with qtbot.waitSignals([session.resized, session.ready], timeout=1000, order="strict"):
        session._primary_create(None, 32, 64, 32, 64 * 4 + 16, -1, addr)
    image = session.image()
    assert (image.width(), image.height(), image.format()) == (64, 32, QImage.Format.Format_RGB32)
    assert (session.width, session.height) == (64, 32)
    with qtbot.waitSignal(session.damaged, timeout=1000) as first:
        pass
    assert first.args == [[(0, 0, 64, 32)]]
    # The guest draws a pixel: it shows through the QImage with no copy.
    row = 5 * (64 * 4 + 16)
    mem[row + 4 * 7 : row + 4 * 7 + 4] = (0x30, 0x20, 0x10, 0)  # B G R x
    assert session.image().pixel(7, 5) & 0xFFFFFF == 0x102030
    # Several invalidations in one turn make one signal, clipped to the surface.
    with qtbot.waitSignal(session.damaged, timeout=1000) as batch:
        session._invalidate(None, 1, 2, 3, 4)
        session._invalidate(None, 60, 30, 10, 10)
        session._invalidate(None, 100, 100, 5, 5)  # wholly outside: dropped
    assert batch.args == [[(1, 2, 3, 4), (60, 30, 4, 2)]]
    # Destroyed: the image lets go of the memory before spice-client-glib frees it.
    session._primary_destroy(None)
    assert session.image().isNull()


@pytest.mark.parametrize(
    ("fmt", "width", "height", "stride", "why"),
    [
        (16, 64, 32, 128, "format"),
        (32, 64, 32, 64, "impossible"),  # stride shorter than a row
        (32, 20000, 2, 80000, "impossible"),
        (32, 0, 10, 0, "impossible"),
    ],
)
def test_a_surface_nido_cannot_show_closes_the_session(
    qtbot, session, fmt, width, height, stride, why
):
    mem = surface(4, 4, 16)
    with qtbot.waitSignal(session.closed, timeout=1000) as closed:
        session._primary_create(None, fmt, width, height, stride, -1, ctypes.addressof(mem))
    assert why in closed.args[0]
    assert session.image().isNull()


def test_cursor_shapes_are_copied_from_rgba_and_implausible_ones_refused() -> None:
    # spice-client-glib hands over R, G, B, A bytes (it swaps the wire's B and R).
    pixels = (ctypes.c_ubyte * (2 * 2 * 4))(*([255, 0, 0, 255] * 3 + [0, 0, 0, 0]))
    shape = cursor_image(2, 2, 1, 5, ctypes.addressof(pixels))
    assert shape is not None and shape.image is not None
    assert shape.image.pixelColor(0, 0).getRgb() == (255, 0, 0, 255)
    assert shape.image.pixelColor(1, 1).alpha() == 0
    assert (shape.hotspot_x, shape.hotspot_y) == (1, 1)  # clamped into the shape
    pixels[0] = 0
    assert shape.image.pixelColor(0, 0).red() == 255  # a copy, not a view
    assert cursor_image(4096, 4096, 0, 0, ctypes.addressof(pixels)) is None
    assert cursor_image(2, 2, 0, 0, 0) is None  # no data: the default pointer, no change


# -- the agent: clipboard and monitor config ---------------------------------------------------
class FakeMain(RecordingInputs):
    """The main channel's agent calls, recorded; ``caps`` are the agent's capabilities."""

    def __init__(self, caps: set[int] | None = None) -> None:
        super().__init__()
        self.caps = {CAP_CLIPBOARD_BY_DEMAND} if caps is None else caps

    def agent_test_capability(self, cap: int) -> bool:
        return cap in self.caps


@pytest.fixture
def clipboard(qtbot):
    board = QGuiApplication.clipboard()
    board.clear(QClipboard.Mode.Clipboard)
    bridge = ClipboardBridge()
    main = FakeMain()
    bridge.attach(main)
    yield bridge, main, board
    bridge.detach()
    board.clear(QClipboard.Mode.Clipboard)


def test_host_text_is_offered_to_the_guest_only_with_an_agent(clipboard) -> None:
    bridge, main, board = clipboard
    board.setText("from the host")
    assert main.calls == []  # no agent: the guest hears nothing
    bridge.set_agent(True)  # the agent comes: it hears of the text there already
    assert main.calls == [("clipboard_selection_grab", 0, [UTF8_TEXT])]
    assert bridge.guest_requests(0, UTF8_TEXT)
    assert main.calls[-1] == ("clipboard_selection_notify", 0, UTF8_TEXT, b"from the host")
    assert not bridge.guest_requests(1, UTF8_TEXT)  # X11 PRIMARY is not shared
    assert not bridge.guest_requests(0, 5)  # nor images


def test_guest_text_lands_on_the_host_without_echoing_back(clipboard) -> None:
    bridge, main, board = clipboard
    bridge.set_agent(True)
    main.calls.clear()
    assert not bridge.guest_grabs(0, [5])  # an image only: not asked for
    assert bridge.guest_grabs(0, [5, UTF8_TEXT])
    assert main.calls == [("clipboard_selection_request", 0, UTF8_TEXT)]
    bridge.guest_data(0, UTF8_TEXT, "héllo guest\0".encode())
    assert board.text() == "héllo guest"
    assert main.calls == [("clipboard_selection_request", 0, UTF8_TEXT)]  # no grab back
    bridge.guest_data(0, UTF8_TEXT, b"x" * (MAX_TEXT + 1))
    assert board.text() == "héllo guest"


def test_the_preferred_size_reaches_the_agent_when_there_is_one(qtbot) -> None:
    link = AgentLink()
    main = FakeMain()
    main.props = SimpleNamespace(agent_connected=False)
    signals: list[str] = []
    link.attach(main, lambda _obj, name, _handler: signals.append(name))
    try:
        assert "notify::agent-connected" in signals
        assert "main-clipboard-selection-request" in signals
        link.set_preferred_size(1000, 700)
        assert main.calls == []  # no agent yet: kept for later
        main.props.agent_connected = True
        link._agent_changed(main, None)  # what notify::agent-connected calls
        assert link.connected
        assert ("update_display_enabled", 0, True, False) in main.calls
        assert main.calls[-1] == ("update_display", 0, 0, 0, 1000, 700, True)
        link.set_preferred_size(10, 10)
        assert main.calls[-1] == ("update_display", 0, 0, 0, 320, 200, True)
        # Following turned off, then the guest restarts: its new agent is sent no size.
        link.clear_preferred_size()
        sent = len(main.calls)
        main.props.agent_connected = False
        link._agent_changed(main, None)
        main.props.agent_connected = True
        link._agent_changed(main, None)
        assert not [c for c in main.calls[sent:] if c[0] == "update_display"]
    finally:
        link.detach()


def test_guest_clipboard_signals_take_the_lists_and_bytes_the_typelib_gives(clipboard) -> None:
    """spice-client-glib's typelib annotates the types and the data as arrays: PyGObject
    hands over a list and bytes (seen with a real agent, tests/integration/test_spice_agent)."""
    bridge, main, board = clipboard
    link = AgentLink()
    link.clipboard.detach()
    link.clipboard = bridge
    link.main = main
    bridge.set_agent(True)
    assert link._guest_grabs(main, 0, [5, UTF8_TEXT], 2)
    assert not link._guest_grabs(main, 0, [5, UTF8_TEXT], 1)  # only ntypes of them count
    link._guest_data(main, 0, UTF8_TEXT, b"from the guest", len(b"from the guest"))
    assert board.text() == "from the guest"
    # A size beyond the cap is refused before the data is looked at.
    link._guest_data(main, 0, UTF8_TEXT, b"x", MAX_TEXT + 1)
    assert board.text() == "from the guest"


def test_the_clipboard_waits_for_the_agents_capabilities(clipboard) -> None:
    """An agent is connected before it says what it takes; spice-client-glib drops a grab
    and rejects a release sent in between (a GSpice-CRITICAL, seen with a real agent)."""
    bridge, _main, board = clipboard
    board.setText("there before the agent")
    link = AgentLink()
    link.clipboard.detach()
    link.clipboard = bridge
    main = FakeMain(caps=set())
    main.props = SimpleNamespace(agent_connected=True)
    link.main = main
    bridge.attach(main)
    link._agent_changed(main, None)  # notify::agent-connected: no capabilities yet
    assert link.connected and not bridge.agent
    assert not [c for c in main.calls if c[0].startswith("clipboard")]
    main.caps.add(CAP_CLIPBOARD_BY_DEMAND)
    link._agent_changed(main)  # main-agent-update: they arrived
    assert bridge.agent
    assert [c for c in main.calls if c[0].startswith("clipboard")] == [
        ("clipboard_selection_grab", 0, [UTF8_TEXT])
    ]
    link._agent_changed(main)  # told again: nothing new is offered
    assert len([c for c in main.calls if c[0].startswith("clipboard")]) == 1


# -- wiring and a machine without SPICE --------------------------------------------------------
def test_register_adds_the_factory_which_needs_a_descriptor_source(qtbot, fds) -> None:
    factories: dict = {}
    register(factories)
    assert factories == {SPICE: spice_session}
    with pytest.raises(NidoError):
        spice_session(DisplayEndpoint(SPICE, None, 0), None)
    endpoint = SimpleNamespace(protocol=SPICE, sock=None, index=0, fd_request=fds)
    s = spice_session(endpoint, "secret")
    try:
        assert isinstance(s, SpiceSession) and len(fds.pending) == 1
    finally:
        s.close()


def test_a_blocking_opener_runs_on_the_workers_and_the_channel_gets_its_fd(qtbot) -> None:
    """The endpoint form for the controller: ``open_fd`` (blocking) plus ``workers``."""
    opened_on: list[str] = []
    peers: list[socket.socket] = []

    def open_fd() -> int:
        opened_on.append(threading.current_thread().name)
        ours, peer = socket.socketpair()
        peers.append(peer)
        return ours.detach()

    workers = WorkerPool("spice-test", 1)
    endpoint = SimpleNamespace(protocol=SPICE, sock=None, index=0, open_fd=open_fd, workers=workers)
    s = spice_session(endpoint, None)
    try:
        qtbot.waitUntil(lambda: s.fds_opened == 1, timeout=3000)
        assert opened_on and opened_on[0] != threading.main_thread().name
        peers[0].settimeout(5)
        assert peers[0].recv(4) == b"REDQ"  # the main channel speaks on that descriptor
    finally:
        s.close()
        workers.close()
        for p in peers:
            p.close()


def test_without_pygobject_the_error_says_so_and_offers_vnc(monkeypatch, fds) -> None:
    monkeypatch.setattr(spice_gi, "_modules", None)
    monkeypatch.setitem(sys.modules, "gi", None)  # import gi -> ImportError
    assert not spice_gi.available()
    with pytest.raises(spice_gi.SpiceUnavailable) as info:
        SpiceSession(fds)
    err = info.value
    assert err.kind is ErrorKind.UNSUPPORTED and isinstance(err, NidoError)
    assert "SPICE" in err.summary and "VNC" in err.summary
    assert "gir1.2-spiceclientglib-2.0" in err.details
    assert fds.pending == []


def test_usb_redirection_comes_from_spice_client_glib_and_never_automatically(session):
    manager = session.usb_device_manager()
    assert type(manager).__name__ == "UsbDeviceManager"
    # Never get_devices(): through PyGObject 3.50 each call costs every device a reference
    # for good (see app.qt.display.spice_usb); the device list comes from signals.
    assert manager.props.auto_connect is False  # a USB stick plugged in stays the host's
    session.close()
    assert session.usb_device_manager() is None


def test_input_made_before_the_inputs_channel_opens_is_sent_when_it_does(qtbot) -> None:
    from app.qt.display.spice_input import PacedInput

    router = InputRouter()
    paced = PacedInput(router)
    paced.pointer(10, 20, 1)  # a click made while SPICE still opens its inputs channel
    paced.pointer(10, 20, 0)
    paced.key(True, 0x1E)
    paced.key(False, 0x1E)
    inputs = RecordingInputs()
    router.attach(inputs)
    paced.resume()
    qtbot.waitUntil(lambda: [c[0] for c in inputs.calls].count("key_release") == 1, timeout=2000)
    names = [c[0] for c in inputs.calls]
    # The click, then the key, in the order they were made, nothing lost.
    assert names.index("button_press") < names.index("button_release") < names.index("key_press")
    assert names.index("key_press") < names.index("key_release")
    paced.clear()


def test_sound_needs_these_gstreamer_elements(monkeypatch) -> None:
    """Without one of the elements spice-client-glib's sound output plays through, the
    session connects no playback channel (spice-client-glib would fail to build its
    pipeline and complain on every packet); with all of them, nothing is missing."""
    from app.qt.display import spice

    assert spice.missing_sound_elements() == []  # installers/debian-deps.sh installs them
    from gi.repository import Gst  # loaded above, as version 1.0

    real = Gst.ElementFactory.find
    monkeypatch.setattr(
        Gst.ElementFactory, "find", lambda name: None if name == "appsrc" else real(name)
    )
    assert spice.missing_sound_elements() == ["appsrc"]
