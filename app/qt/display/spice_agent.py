"""The guest's SPICE agent (spice-vdagent), reached through the main channel: clipboard
sharing (text) and the guest's resolution following the widget (monitor config).

Clipboard sharing:

The agent protocol is lazy on both sides: whoever copies *grabs* the clipboard with a list
of types, and the other side *requests* the data only when somebody pastes.

- The host copies: Qt says ``QClipboard.dataChanged``; if there is text, the bridge grabs
  the guest's clipboard for UTF-8 text. The guest pastes: the agent requests it and the
  bridge answers with the host's text.
- The guest copies: the agent grabs with its types; if UTF-8 text is among them the bridge
  requests it, and the text it receives goes onto the host's clipboard.

Only the CLIPBOARD selection is shared (not X11's PRIMARY), and nothing at all while no
agent is connected. Texts longer than :data:`MAX_TEXT` are not shared.

Nothing is offered before the agent has announced that it takes the clipboard on demand
(spice-client-glib drops a grab, and rejects a release, sent before that): a newly
connected agent hears of the host's text once its capabilities arrive
(``main-agent-update``).

Monitor config goes through the agent too: spice-client-glib sends it only while an agent
is connected, so a guest without one keeps its own resolution.

Checked against real QEMU with the test guest's agent (tests/integration/test_spice_agent.py):
the typelib gives the clipboard signals' ``types`` as a list and their ``data`` as bytes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from PySide6.QtCore import QObject
from PySide6.QtGui import QClipboard, QGuiApplication

from app.qt.display.session import guest_resolution

log = logging.getLogger(__name__)

#: VD_AGENT_CLIPBOARD_SELECTION_CLIPBOARD, VD_AGENT_CLIPBOARD_UTF8_TEXT
SELECTION_CLIPBOARD = 0
UTF8_TEXT = 1
#: VD_AGENT_CAP_CLIPBOARD_BY_DEMAND: the agent takes grabs and requests.
CAP_CLIPBOARD_BY_DEMAND = 5
#: The most clipboard types looked at in one grab.
MAX_TYPES = 64
#: A guest may not flood the host's clipboard (nor the host the guest's).
MAX_TEXT = 16 * 1024 * 1024


class AgentClipboard(Protocol):
    """The clipboard calls of ``SpiceClientGLib.MainChannel``."""

    def clipboard_selection_grab(self, selection: int, types: list[int]) -> None: ...
    def clipboard_selection_notify(self, selection: int, type: int, data: bytes) -> None: ...
    def clipboard_selection_request(self, selection: int, type: int) -> None: ...
    def clipboard_selection_release(self, selection: int) -> None: ...


class ClipboardBridge(QObject):
    """Moves text between the host's clipboard and one guest's agent."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.main: AgentClipboard | None = None
        self.agent = False
        self._clipboard: QClipboard = QGuiApplication.clipboard()
        #: The text this bridge itself put on the host's clipboard (not to echo back).
        self._from_guest: str | None = None
        self._guest_owns = False
        self._clipboard.dataChanged.connect(self._host_changed)

    def attach(self, main: AgentClipboard | None) -> None:
        self.main = main
        self.agent = False

    def set_agent(self, connected: bool) -> None:
        """An agent that takes the clipboard came, or went; a newly come one hears of the
        host's current text."""
        was, self.agent = self.agent, connected
        if connected and not was:
            self._host_changed()

    def detach(self) -> None:
        self._clipboard.dataChanged.disconnect(self._host_changed)
        self.main = None
        self.agent = False

    # -- host -> guest ---------------------------------------------------------------------
    def _host_text(self) -> str:
        return self._clipboard.text(QClipboard.Mode.Clipboard)

    def _host_changed(self) -> None:
        if self.main is None or not self.agent:
            return
        text = self._host_text()
        if self._from_guest is not None and text == self._from_guest:
            return  # our own paste of the guest's text
        self._from_guest = None
        self._guest_owns = False
        if text and len(text.encode()) <= MAX_TEXT:
            self.main.clipboard_selection_grab(SELECTION_CLIPBOARD, [UTF8_TEXT])
        else:
            self.main.clipboard_selection_release(SELECTION_CLIPBOARD)

    def guest_requests(self, selection: int, type_: int) -> bool:
        """The guest pastes: answer with the host's text. True when answered."""
        if self.main is None or selection != SELECTION_CLIPBOARD or type_ != UTF8_TEXT:
            return False
        data = self._host_text().encode()
        if len(data) > MAX_TEXT:
            return False
        self.main.clipboard_selection_notify(selection, UTF8_TEXT, data)
        return True

    # -- guest -> host ---------------------------------------------------------------------
    def guest_grabs(self, selection: int, types: list[int]) -> bool:
        """The guest copied: ask for its text if it offers any."""
        if self.main is None or selection != SELECTION_CLIPBOARD or UTF8_TEXT not in types:
            return False
        self._guest_owns = True
        self.main.clipboard_selection_request(selection, UTF8_TEXT)
        return True

    def guest_data(self, selection: int, type_: int, data: bytes) -> None:
        """The guest's text arrived: put it on the host's clipboard."""
        if selection != SELECTION_CLIPBOARD or type_ != UTF8_TEXT or not self._guest_owns:
            return
        if len(data) > MAX_TEXT:
            log.warning("guest clipboard text of %d bytes not shared", len(data))
            return
        text = data.rstrip(b"\0").decode("utf-8", errors="replace")
        self._from_guest = text
        self._clipboard.setText(text, QClipboard.Mode.Clipboard)

    def guest_releases(self, selection: int) -> None:
        if selection == SELECTION_CLIPBOARD:
            self._guest_owns = False


class MainChannel(AgentClipboard, Protocol):
    """The agent-related part of ``SpiceClientGLib.MainChannel``."""

    props: Any

    def update_display(self, id: int, x: int, y: int, w: int, h: int, update: bool) -> None: ...
    def update_display_enabled(self, id: int, enabled: bool, update: bool) -> None: ...
    def agent_test_capability(self, cap: int) -> bool: ...


#: How the session connects a GObject signal: ``on(obj, "signal", handler)``.
Connect = Callable[[Any, str, Callable[..., Any]], None]


class AgentLink:
    """Follows the main channel's agent and carries clipboard and monitor config."""

    def __init__(self, parent: QObject | None = None) -> None:
        self.clipboard = ClipboardBridge(parent)
        self.main: MainChannel | None = None
        self.connected = False
        self.preferred: tuple[int, int] | None = None
        #: Told ``connected`` whenever the agent comes or goes or announces what it takes
        #: (file transfer, say, asks the main channel for the capability it needs).
        self.listeners: list[Callable[[bool], None]] = []

    def attach(self, main: MainChannel, on: Connect) -> None:
        self.main = main
        self.clipboard.attach(main)
        on(main, "notify::agent-connected", self._agent_changed)
        on(main, "main-agent-update", self._agent_changed)  # its capabilities arrived
        on(main, "main-clipboard-selection-grab", self._guest_grabs)
        on(main, "main-clipboard-selection", self._guest_data)
        on(main, "main-clipboard-selection-request", self._guest_requests)
        on(main, "main-clipboard-selection-release", self._guest_releases)

    def detach(self) -> None:
        self.clipboard.detach()
        self.main = None
        self.connected = False

    def set_connected(self, connected: bool, clipboard: bool) -> None:
        """The agent is there or not; ``clipboard``: it has said it takes the clipboard."""
        takes = connected and clipboard
        news = (connected and not self.connected) or (takes and not self.clipboard.agent)
        self.connected = connected
        self.clipboard.set_agent(takes)
        if news:  # a new agent, or its capabilities: spice-client-glib may have dropped it
            self._send_preferred_size()

    def set_preferred_size(self, width: int, height: int) -> None:
        """Ask for a guest resolution of ``width`` x ``height``; kept until an agent is
        there to hear it."""
        self.preferred = guest_resolution(width, height)
        self._send_preferred_size()

    def clear_preferred_size(self) -> None:
        """Ask nothing more: a later agent (the guest restarted) is not sent a size."""
        self.preferred = None

    def _send_preferred_size(self) -> None:
        if self.preferred is None or self.main is None or not self.connected:
            return
        width, height = self.preferred
        self.main.update_display_enabled(0, True, False)
        # update=True: spice-client-glib sends it after a short delay, coalescing a drag.
        self.main.update_display(0, 0, 0, width, height, True)

    # -- the main channel's signals --------------------------------------------------------------
    def _agent_changed(self, main: Any, *_args: Any) -> None:
        connected = bool(main.props.agent_connected)
        clipboard = connected and bool(main.agent_test_capability(CAP_CLIPBOARD_BY_DEMAND))
        self.set_connected(connected, clipboard)
        for listener in self.listeners:
            listener(connected)

    def _guest_grabs(self, _main: Any, selection: int, types: Sequence[int], ntypes: int) -> bool:
        return self.clipboard.guest_grabs(selection, list(types[: min(ntypes, MAX_TYPES)]))

    def _guest_data(
        self, _main: Any, selection: int, type_: int, data: bytes | None, size: int
    ) -> None:
        if size > MAX_TEXT:
            log.warning("guest clipboard data of %d bytes not shared", size)
            return
        self.clipboard.guest_data(selection, type_, bytes(data or b"")[:size])

    def _guest_requests(self, _main: Any, selection: int, type_: int) -> bool:
        return self.clipboard.guest_requests(selection, type_)

    def _guest_releases(self, _main: Any, selection: int) -> None:
        self.clipboard.guest_releases(selection)
