"""The life of one VM's display: connect when the guest runs, follow it when it stops,
reconnect when it comes back or the connection drops, and say at every moment which state
the display is in, for the widget's overlays.

libvirt's blocking calls (reading the domain, opening the graphics socket) run on the
connection's workers through :class:`~app.qt.jobs.Op`; sessions then run on the GUI
thread. The VM's state comes from the hub's ``vmChanged`` (libvirt events), never from
polling.

A display that asks for a password gets the one remembered in the desktop keyring first
(:mod:`.passwords`, on its own worker); if the server refuses it, it is forgotten and the
person is asked. VNC asks during its handshake; a SPICE server refuses the connection
instead, so for SPICE that refusal is the question, and the remembered password (or the
person's answer) goes to a new session. A password the person types is remembered, when
they ask for that, only once the server has accepted it.

A connected session is listed in :data:`app.qt.live_displays.LIVE`, so the main window's
thumbnail of the VM comes from its picture rather than from a libvirt screenshot.
"""

from __future__ import annotations

import dataclasses
import enum
import logging
from collections.abc import Callable

import shiboken6
from PySide6.QtCore import QObject, QTimer, Signal

from app.core.connection import State as ConnState
from app.core.errors import ErrorKind, NidoError
from app.core.inventory import VMInfo
from app.qt.bridge import ConnectionHub
from app.qt.display import passwords
from app.qt.display.opener import (
    SPICE,
    VNC,
    DisplayEndpoint,
    NoDisplay,
    connected,
    network_pool,
    open_display,
)
from app.qt.display.session import DisplaySession
from app.qt.display.spice import spice_session
from app.qt.display.vnc import VncSession, local_options, remote_options
from app.qt.jobs import Op
from app.qt.live_displays import LIVE

log = logging.getLogger(__name__)

#: Waits before each reconnect attempt, in ms; after the last one the display gives up
#: and offers a Reconnect button.
RETRY_DELAYS_MS = (300, 700, 1500, 3000, 5000)
#: A server that accepted the socket but never finishes its handshake.
HANDSHAKE_TIMEOUT_MS = 15_000
#: A keyring that has not answered by then (waiting to be unlocked, say): ask the person.
KEYRING_TIMEOUT_MS = 10_000

Opener = Callable[..., DisplayEndpoint]
SessionFactory = Callable[[DisplayEndpoint, "str | None"], DisplaySession]


def _vnc_session(endpoint: DisplayEndpoint, password: str | None) -> DisplaySession:
    assert endpoint.sock is not None
    # A local socket is cheapest in Raw; TCP or a tunnel wants compression (Tight/JPEG).
    options = remote_options(password) if endpoint.remote else local_options(password)
    return VncSession(endpoint.sock, options)


#: Protocols Nido can show, by endpoint protocol. SPICE loads spice-client-glib only when
#: a session starts; where it is missing, that session says so and the console explains.
SESSION_FACTORIES: dict[str, SessionFactory] = {VNC: _vnc_session, SPICE: spice_session}


class DisplayState(enum.Enum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    NOT_RUNNING = "not running"
    PASSWORD = "password"  # the server asks for a password
    DISCONNECTED = "disconnected"  # with a reason; waiting for the person or the host
    RECONNECTING = "reconnecting"
    UNAVAILABLE = "unavailable"  # no display Nido can show (none, or an unknown kind)


class DisplayController(QObject):
    """Keeps a :class:`DisplaySession` to one VM's display while the VM runs."""

    #: (DisplayState, detail text for the person)
    stateChanged = Signal(object, str)
    #: DisplaySession, or None when there is nothing to show
    sessionChanged = Signal(object)
    #: str: why a password cannot be remembered here ("" when the keyring works)
    keyringChecked = Signal(str)

    def __init__(
        self,
        hub: ConnectionHub,
        vm: VMInfo,
        *,
        opener: Opener = open_display,
        factories: dict[str, SessionFactory] | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.hub = hub
        self.vm = vm
        self._opener = opener
        self._factories = SESSION_FACTORIES if factories is None else factories
        self.state = DisplayState.CONNECTING
        self.detail = ""
        self.session: DisplaySession | None = None
        self._password: str | None = None
        self._password_from_keyring = False
        self._remember: str | None = None  # to store once the server accepts it
        self._keyring_refused = False  # a remembered password failed: do not try it again
        #: What a password found in the keyring is for: the open session that asked (VNC),
        #: or a new session (SPICE, whose server refused the connection instead of asking).
        self._recall_reopens = False
        #: The current session's route's own account of a failure (ssh's words).
        self._explain: Callable[[], NidoError | None] | None = None
        self._refusal = ""  # why the person is asked again, after a refused password
        #: Why a password cannot be remembered here; "" when it can (or is not known yet).
        self.keyring_unavailable = ""
        self._generation = 0
        self._opening = False
        self._attempts = 0
        self._stopped = True
        self._retry = QTimer(self)
        self._retry.setSingleShot(True)
        self._retry.timeout.connect(self._open)
        self._handshake = QTimer(self)
        self._handshake.setSingleShot(True)
        self._handshake.setInterval(HANDSHAKE_TIMEOUT_MS)
        self._handshake.timeout.connect(self._handshake_timed_out)
        self._keyring_wait = QTimer(self)
        self._keyring_wait.setSingleShot(True)
        self._keyring_wait.setInterval(KEYRING_TIMEOUT_MS)
        self._keyring_wait.timeout.connect(self._ask_password)
        hub.vmChanged.connect(self._vm_changed)
        hub.vmRemoved.connect(self._vm_removed)
        hub.connectionChanged.connect(self._connection_changed)

    # -- public --------------------------------------------------------------------------
    def start(self) -> None:
        """Begin following the VM (connects if it runs)."""
        self._stopped = False
        self._attempts = 0
        self._evaluate()

    def stop(self) -> None:
        """Close the display and stop following the VM (its window is closing)."""
        self._stopped = True
        self._generation += 1
        self._retry.stop()
        self._handshake.stop()
        self._drop_session()

    def reconnect(self) -> None:
        """The person asked for a fresh connection."""
        self._stopped = False
        self._attempts = 0
        self._retry.stop()
        self._drop_session()
        self._evaluate(force=True)

    def send_password(self, password: str, remember: bool = False) -> None:
        """The person's answer to the password prompt; with ``remember``, it goes into the
        keyring once the server accepts it."""
        self._password = password
        self._password_from_keyring = False
        self._remember = password if remember else None
        if self.session is not None and self.session.is_open:
            self._set_state(DisplayState.CONNECTING, "Checking the password…")
            self.session.send_password(password)
        elif self.state is DisplayState.PASSWORD and self.vm.status.active:
            # The protocol asked by refusing (SPICE): connect again, with the password.
            self._attempts = 0
            self._open()

    # -- state ---------------------------------------------------------------------------
    def _set_state(self, state: DisplayState, detail: str = "") -> None:
        if (state, detail) != (self.state, self.detail):
            self.state, self.detail = state, detail
            log.debug("display of %s: %s %s", self.vm.name, state.value, detail)
            self.stateChanged.emit(state, detail)

    def _evaluate(self, force: bool = False) -> None:
        if self._stopped:
            return
        if not self.vm.status.active:
            self._retry.stop()
            self._generation += 1
            self._drop_session()
            self._set_state(
                DisplayState.NOT_RUNNING,
                f"{self.vm.display_name} is {self.vm.status.value.lower()}.",
            )
            return
        if self.session is not None and self.session.is_open and not force:
            return
        if not self._opening and not self._retry.isActive():
            self._open()

    def _open(self) -> None:
        if self._stopped or not self.vm.status.active:
            return
        conn = self.hub.connection(self.vm.conn_id)
        virconn = conn.virconn if conn is not None else None
        if conn is None or virconn is None:
            self._set_state(
                DisplayState.DISCONNECTED,
                "The connection to the host is down; the display comes back with it.",
            )
            return
        self._generation += 1
        generation = self._generation
        self._opening = True
        if self._attempts:
            self._set_state(DisplayState.RECONNECTING, self.detail)
        else:
            self._set_state(DisplayState.CONNECTING, "Connecting to the display…")
        op = (
            Op(self._opener, virconn, self.vm.uuid, what="open the display")
            .success(lambda endpoint: _deliver(self, "_opened", generation, endpoint))
            .failure(lambda err: _deliver(self, "_open_failed", generation, err))
        )
        try:
            op.run_on(conn.workers)
        except RuntimeError as e:  # the connection is renewing its worker pools
            self._opening = False
            self._schedule_retry(f"The connection is busy ({e}).")

    def _opened(self, generation: int, endpoint: DisplayEndpoint) -> None:
        if endpoint.sock is None and endpoint.connect is not None:
            self._connect_network(generation, endpoint)
            return
        self._opening = False
        if generation != self._generation or self._stopped or not self.vm.status.active:
            _close_endpoint(endpoint)
            return
        factory = self._factories.get(endpoint.protocol)
        if factory is None:
            _close_endpoint(endpoint)
            self._unavailable(f"Nido cannot show {endpoint.protocol.upper()} displays yet.")
            return
        if endpoint.open_fd is not None and endpoint.workers is None:
            conn = self.hub.connection(self.vm.conn_id)
            if conn is None:
                _close_endpoint(endpoint)
                self._schedule_retry("The connection to the host is down.")
                return
            # More descriptors (one per SPICE channel) are opened on the connection's workers.
            endpoint = dataclasses.replace(endpoint, workers=conn.workers)
        self._drop_session()
        try:
            session = factory(endpoint, self._password)
        except NidoError as err:  # the protocol cannot start here (a library missing, say)
            log.info("%s\n%s", err.summary, err.details)
            _close_endpoint(endpoint)
            self._unavailable(err.summary)
            return
        session.setParent(self)
        self._explain = endpoint.explain
        session.ready.connect(lambda s=session: self._session_ready(s))
        session.closed.connect(lambda reason, s=session: self._session_closed(s, reason))
        session.passwordRequired.connect(lambda s=session: self._password_required(s))
        self.session = session
        self._handshake.start()
        self.sessionChanged.emit(session)

    def _connect_network(self, generation: int, endpoint: DisplayEndpoint) -> None:
        """A display on another computer: its TCP connect or SSH login runs on the
        network pool, not on the connection's lane (libvirt's part is done)."""
        if generation != self._generation or self._stopped or not self.vm.status.active:
            self._opening = False
            return
        Op(connected, endpoint, what="connect to the display").success(
            lambda ready: _deliver(self, "_opened", generation, ready)
        ).failure(lambda err: _deliver(self, "_open_failed", generation, err)).run_on(
            network_pool()
        )

    def _open_failed(self, generation: int, err: NidoError) -> None:
        self._opening = False
        if generation != self._generation or self._stopped:
            return
        if isinstance(err, NoDisplay) or err.kind is ErrorKind.UNSUPPORTED:
            self._unavailable(err.summary)
        elif not self.vm.status.active or err.kind is ErrorKind.NOT_FOUND:
            # The guest stopped meanwhile; its event says so in a moment.
            self._set_state(DisplayState.NOT_RUNNING, err.summary)
        else:
            self._schedule_retry(err.summary)

    def _unavailable(self, why: str) -> None:
        self._drop_session()
        self._set_state(DisplayState.UNAVAILABLE, why)

    def _session_ready(self, session: DisplaySession) -> None:
        if session is self.session:
            self._handshake.stop()
            self._attempts = 0
            LIVE.register(self.vm.key, session)
            self._refusal = ""
            self._set_state(DisplayState.CONNECTED)
            password, self._remember = self._remember, None
            if password is not None:
                self._store_password(password)

    # -- passwords -----------------------------------------------------------------------
    def _keyring_name(self) -> str | None:
        conn = self.hub.connection(self.vm.conn_id)
        if conn is None:
            return None
        return passwords.account(conn.uri or conn.spec.id, self.vm.uuid)

    def _password_required(self, session: DisplaySession) -> None:
        if session is not self.session:
            return
        # Only asked when no password was given (one typed before goes in the options).
        self._handshake.stop()
        self._recall(reopen=False)

    def _recall(self, reopen: bool) -> None:
        """Look for a remembered password (on the keyring's worker), else ask the person."""
        self._recall_reopens = reopen
        name = self._keyring_name()
        if name is None or self._keyring_refused:
            self._ask_password()
            return
        self._set_state(DisplayState.CONNECTING, "Looking for the password in the keyring…")
        generation = self._generation
        self._keyring_wait.start()
        Op(passwords.recall, name, what="read the keyring").success(
            lambda result: _deliver(self, "_recalled", generation, result)
        ).failure(
            lambda err: _deliver(self, "_recalled", generation, passwords.Recall(None, err.summary))
        ).run_on(passwords.pool())

    def _recalled(self, generation: int, result: passwords.Recall) -> None:
        self._set_keyring_unavailable(result.unavailable or "")
        waiting = self._keyring_wait.isActive()
        self._keyring_wait.stop()
        session = self.session
        if self._recall_reopens:
            gone = session is not None or not self.vm.status.active
        else:
            gone = session is None or not session.is_open
        if generation != self._generation or self._stopped or not waiting or gone:
            return  # a late answer: the person is asked already, or the session is gone
        if result.password is None:
            self._ask_password()
            return
        self._password = result.password
        self._password_from_keyring = True
        self._set_state(DisplayState.CONNECTING, "Trying the password remembered in the keyring…")
        if self._recall_reopens:
            self._attempts = 0
            self._open()  # the new session gets the password in its options
            return
        self._handshake.start()
        assert session is not None
        session.send_password(result.password)

    def _ask_password(self) -> None:
        self._keyring_wait.stop()
        if self._recall_reopens:
            if self.session is None and self.vm.status.active and not self._stopped:
                self._set_state(
                    DisplayState.PASSWORD, self._refusal or "The display asks for a password."
                )
            return
        if self.session is None or not self.session.is_open:
            return
        self._set_state(DisplayState.PASSWORD, self._refusal or "The display asks for a password.")

    def _set_keyring_unavailable(self, why: str) -> None:
        if why != self.keyring_unavailable:
            self.keyring_unavailable = why
            self.keyringChecked.emit(why)

    def _store_password(self, password: str) -> None:
        name = self._keyring_name()
        if name is None:
            return
        self._keyring_refused = False
        Op(passwords.remember, name, password, what="remember the password").failure(
            lambda err: _deliver(self, "_not_stored", 0, err)
        ).run_on(passwords.pool())

    def _not_stored(self, _generation: int, err: NidoError) -> None:
        log.warning("the display password was not remembered: %s", err.summary)
        self._set_keyring_unavailable(err.summary)

    def _password_refused(self) -> None:
        """The server refused the password: a remembered one is forgotten for good."""
        if self._password_from_keyring:
            self._refusal = (
                "The display refused the password remembered in the keyring, so Nido forgot it."
            )
            self._keyring_refused = True
            name = self._keyring_name()
            if name is not None:
                Op(passwords.forget, name, what="forget the password").failure(
                    lambda err: log.warning("could not forget the password: %s", err.summary)
                ).run_on(passwords.pool())
        elif self._password is not None:
            self._refusal = "The display refused that password. Try again."
        self._password = None
        self._password_from_keyring = False
        self._remember = None

    def _session_closed(self, session: DisplaySession, reason: str) -> None:
        LIVE.unregister(self.vm.key, session)
        if session is not self.session or not reason or self._stopped:
            return
        self._handshake.stop()
        self._keyring_wait.stop()
        if (
            session.auth_failed
            or "authentication" in reason.lower()
            or "password" in reason.lower()
        ):
            tried = self._password is not None
            self._password_refused()
            if session.protocol == SPICE and self.vm.status.active:
                # SPICE cannot ask during its handshake: a refused connection is the
                # question. A password remembered in the keyring is tried first (only when
                # the refused attempt had none); else the person's answer opens a new
                # session with it.
                self._drop_session()
                if tried:
                    self._recall_reopens = True
                    self._ask_password()
                else:
                    self._recall(reopen=True)
                return
        if self.vm.status.active:
            if self._explain is not None:
                self._explain_closing(reason)
                return
            self._schedule_retry(f"The display closed: {reason}.")
        else:
            self._evaluate()

    def _explain_closing(self, reason: str) -> None:
        """Ask the route why the session ended, then retry with the better reason. It may
        wait a moment for ssh to exit, and needs no libvirt call: on the network pool, not
        the connection's lane."""
        explain, self._explain = self._explain, None
        fallback = f"The display closed: {reason}."
        if explain is None:
            self._schedule_retry(fallback)
            return
        self._set_state(DisplayState.RECONNECTING, fallback)
        generation = self._generation
        Op(explain, what="find out why the display closed").success(
            lambda err: _deliver(self, "_explained", generation, (err, fallback))
        ).failure(lambda err: _deliver(self, "_explained", generation, (None, fallback))).run_on(
            network_pool()
        )

    def _explained(self, generation: int, result: tuple[NidoError | None, str]) -> None:
        err, fallback = result
        if generation != self._generation or self._stopped:
            return  # opened anew, or stopped, meanwhile
        if err is not None:
            log.info("display of %s: %s\n%s", self.vm.name, err.summary, err.details)
        self._schedule_retry(err.summary if err is not None else fallback)

    def _handshake_timed_out(self) -> None:
        if self.session is not None:
            session, self.session = self.session, None
            LIVE.unregister(self.vm.key, session)
            session.close()
            self.sessionChanged.emit(None)
            session.deleteLater()
        self._schedule_retry("The display did not answer.")

    def _schedule_retry(self, why: str) -> None:
        if self._attempts >= len(RETRY_DELAYS_MS):
            self._set_state(DisplayState.DISCONNECTED, why)
            return
        delay = RETRY_DELAYS_MS[self._attempts]
        self._attempts += 1
        self._set_state(DisplayState.RECONNECTING, why)
        self._retry.start(delay)

    def _drop_session(self) -> None:
        self._handshake.stop()
        self._keyring_wait.stop()
        session, self.session = self.session, None
        if session is not None:
            LIVE.unregister(self.vm.key, session)
            session.close()
            self.sessionChanged.emit(None)
            session.deleteLater()

    # -- hub signals ---------------------------------------------------------------------
    def _vm_changed(self, info: VMInfo) -> None:
        if info.key != self.vm.key:
            return
        was_active = self.vm.status.active
        self.vm = info
        if info.status.active and not was_active:
            self._attempts = 0
            self._retry.stop()
        self._evaluate()

    def _vm_removed(self, conn_id: str, uuid: str) -> None:
        if (conn_id, uuid) == self.vm.key:
            self.stop()
            self._set_state(DisplayState.NOT_RUNNING, "This VM no longer exists.")

    def _connection_changed(self, conn_id: str) -> None:
        if conn_id != self.vm.conn_id or self._stopped:
            return
        conn = self.hub.connection(conn_id)
        if conn is None or conn.state is not ConnState.CONNECTED:
            return
        if self.state in (DisplayState.DISCONNECTED, DisplayState.RECONNECTING):
            self._attempts = 0
            self._retry.stop()
            self._evaluate()


def _deliver(controller: DisplayController, method: str, generation: int, value: object) -> None:
    """Hand a worker's result to the controller, or clean up if it is gone."""
    if shiboken6.isValid(controller):
        getattr(controller, method)(generation, value)
    elif isinstance(value, DisplayEndpoint):
        _close_endpoint(value)


def _close_endpoint(endpoint: DisplayEndpoint) -> None:
    if endpoint.sock is not None:
        endpoint.sock.close()
