"""Live connections: opening (This computer / session / system / remote / custom), their
state as the person sees it, libvirt event registration, and reconnecting on their own.

Every method that talks to libvirt blocks and is meant to run on the connection's own
worker pool (`Connection.workers`); the Qt shell never calls them on the GUI thread.
Listeners are called from worker threads and from the libvirt event thread.
"""

from __future__ import annotations

import contextlib
import enum
import logging
import os
import threading
import time
import urllib.parse
import uuid as uuidlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import libvirt

from app.core import accel, uris
from app.core.errors import ErrorKind, NidoError, from_libvirt
from app.core.events import ensure_event_loop
from app.core.workers import WorkerPool

log = logging.getLogger(__name__)

# Backoff between reconnect attempts after a connection dropped, in seconds.
RECONNECT_DELAYS = (1.0, 2.0, 3.0, 5.0, 10.0)
KEEPALIVE_INTERVAL = 5  # seconds between keepalive probes on remote connections
KEEPALIVE_COUNT = 3  # unanswered probes before the connection counts as dead

_embedded_loaded = False
_embedded_lock = threading.Lock()


class State(enum.Enum):
    DISCONNECTED = "disconnected"
    CONNECTING = "connecting"
    CONNECTED = "connected"


@dataclass
class ConnectionSpec:
    """What is remembered about a connection across restarts."""

    kind: uris.Kind
    uri: str = ""  # empty for Kind.LOCAL, which is chosen at each start
    name: str = ""
    autoconnect: bool = True
    id: str = field(default_factory=lambda: uuidlib.uuid4().hex[:12])

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        if self.kind is uris.Kind.LOCAL:
            return uris.KIND_LABELS[uris.Kind.LOCAL]
        parsed = urllib.parse.urlsplit(self.uri)
        if parsed.hostname:
            return parsed.hostname
        return self.uri

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "kind": self.kind.value,
            "uri": self.uri,
            "name": self.name,
            "autoconnect": self.autoconnect,
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> ConnectionSpec:
        return cls(
            kind=uris.Kind(str(data["kind"])),
            uri=str(data.get("uri", "")),
            name=str(data.get("name", "")),
            autoconnect=bool(data.get("autoconnect", True)),
            id=str(data.get("id") or uuidlib.uuid4().hex[:12]),
        )


class ConnectionListener(Protocol):
    def connection_changed(self, conn: Connection) -> None: ...

    def domain_event(self, conn: Connection, uuid: str, event: int, detail: int) -> None: ...


def mark_embedded_loaded() -> None:
    global _embedded_loaded
    with _embedded_lock:
        _embedded_loaded = True


def embedded_loaded() -> bool:
    return _embedded_loaded


def _probe_socket(socket: str, readonly: bool = False) -> bool:
    uri = f"qemu+unix:///system?socket={socket}"
    try:
        c = libvirt.openReadOnly(uri) if readonly else libvirt.open(uri)
    except libvirt.libvirtError:
        return False
    c.close()
    return True


def probe_local() -> uris.LocalFacts:
    """Look at this computer's libvirt daemons (blocking; a worker thread calls it).

    Sockets are addressed explicitly so that the probe works even after the embedded
    driver has been loaded, and so that it never auto-starts a session daemon.
    """
    is_root = os.geteuid() == 0
    system_socket = None
    writable = False
    for candidate in uris.system_socket_candidates():
        if not os.path.exists(candidate):
            continue
        if _probe_socket(candidate):
            system_socket, writable = candidate, True
            break
        if os.path.exists(candidate + "-ro") and _probe_socket(candidate + "-ro", True):
            system_socket = candidate
    session_socket = None
    if not is_root:
        for candidate in uris.session_socket_candidates():
            if os.path.exists(candidate) and _probe_socket(candidate):
                session_socket = candidate
                break
    return uris.LocalFacts(
        is_root=is_root,
        system_socket=system_socket,
        system_writable=writable,
        session_socket=session_socket,
        embed_root=uris.embed_root(),
    )


class Connection:
    """One libvirt connection as Nido shows it: state, reason, mode and accelerator."""

    def __init__(
        self,
        spec: ConnectionSpec,
        *,
        local_prober: Callable[[], uris.LocalFacts] = probe_local,
    ) -> None:
        self.spec = spec
        self.workers = WorkerPool(f"conn-{spec.id}")
        self.state = State.DISCONNECTED
        self.reason = "Not connected yet."
        self.uri = spec.uri  # the URI really in use, once known
        self.mode_text = ""  # e.g. "embedded QEMU driver", shown beside the name
        self.mode_explanation = ""
        self.accelerator: accel.Accelerator | None = None
        self.hostname = ""
        self.virconn: libvirt.virConnect | None = None
        self._local_prober = local_prober
        self._listeners: list[ConnectionListener] = []
        self._callback_ids: list[int] = []
        self._lock = threading.RLock()
        self._want_open = False
        self._attempt = 0
        self._reconnect_timer: threading.Timer | None = None
        self._generation = 0

    # -- listeners -------------------------------------------------------------------
    def add_listener(self, listener: ConnectionListener) -> None:
        self._listeners.append(listener)

    def remove_listener(self, listener: ConnectionListener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def _notify(self) -> None:
        for listener in list(self._listeners):
            try:
                listener.connection_changed(self)
            except Exception:
                log.exception("connection listener failed")

    def _set_state(self, state: State, reason: str = "") -> None:
        with self._lock:
            self.state = state
            self.reason = reason
        log.info("connection %s: %s %s", self.spec.label, state.value, reason)
        self._notify()

    # -- opening and closing ---------------------------------------------------------
    def connect(self) -> None:
        """Ask for the connection to be open, now and after any drop. Non-blocking."""
        with self._lock:
            self._want_open = True
            self._attempt = 0
            self._cancel_reconnect()
            if self.state is not State.DISCONNECTED:
                return
            self.state = State.CONNECTING
        self.workers.submit(self._open_guarded)

    def disconnect(self) -> None:
        """Close the connection and stop reconnecting. Non-blocking."""
        with self._lock:
            self._want_open = False
            self._cancel_reconnect()
        self.workers.submit(self._close, "Disconnected.")

    def shutdown(self) -> None:
        """Stop everything for good (Nido is quitting or the connection was removed)."""
        with self._lock:
            self._want_open = False
            self._cancel_reconnect()
        self.workers.submit(self._close, "Disconnected.")
        self.workers.close()

    def resolve_uri(self) -> str:
        """The URI to open (blocking for 'This computer', which probes the daemons)."""
        if self.spec.kind is uris.Kind.LOCAL:
            choice = uris.choose_local(self._local_prober())
            self.mode_text = {
                uris.LocalMode.SYSTEM: "system daemon",
                uris.LocalMode.SESSION: "session daemon",
                uris.LocalMode.EMBEDDED: "embedded, no daemon",
            }[choice.mode]
            self.mode_explanation = choice.explanation
            return choice.uri
        self.mode_text = uris.describe(self.spec.uri)
        self.mode_explanation = ""
        return self.spec.uri

    def _open_guarded(self) -> None:
        try:
            self._open()
        except NidoError as err:
            self._dropped(err.summary)
        except Exception as exc:  # never let a worker die silently
            log.exception("opening %s failed", self.spec.label)
            self._dropped(f"Could not connect: {exc}")

    def _open(self) -> None:
        with self._lock:
            if not self._want_open:
                self.state = State.DISCONNECTED
                return
            self._generation += 1
            generation = self._generation
        self._set_state(State.CONNECTING, "Connecting…")
        ensure_event_loop()
        uri = self.resolve_uri()
        self.uri = uri
        open_uri = uri
        if uris.is_embed_uri(uri):
            mark_embedded_loaded()
        elif embedded_loaded():
            open_uri = uris.daemon_uri_with_socket(uri, uris.find_daemon_socket)
            which = uris.local_daemon_kind(open_uri)
            if which is not None:  # a local daemon URI whose socket does not exist
                raise NidoError(
                    f"No {which} libvirt daemon is running on this computer.",
                    f"No socket of the {which} daemon was found ({uri}). Start the daemon "
                    "(for example with systemctl), and Nido connects by itself.",
                    ErrorKind.UNREACHABLE,
                )
        open_uri = _with_ssh_defaults(open_uri)
        try:
            conn = libvirt.open(open_uri)
        except libvirt.libvirtError as exc:
            raise from_libvirt(exc, f"connect to {uris.describe(uri)}") from exc
        with self._lock:
            stale = generation != self._generation or not self._want_open
        if stale:
            conn.close()
            return
        try:
            self._setup(conn)
        except libvirt.libvirtError as exc:
            conn.close()
            raise from_libvirt(exc, f"set up the connection to {uris.describe(uri)}") from exc
        self._set_state(State.CONNECTED, "")

    def _setup(self, conn: libvirt.virConnect) -> None:
        if uris.is_remote(self.uri):
            conn.setKeepAlive(KEEPALIVE_INTERVAL, KEEPALIVE_COUNT)
        conn.registerCloseCallback(self._on_close, self._generation)
        ids = []
        for event_id in (
            libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
            libvirt.VIR_DOMAIN_EVENT_ID_METADATA_CHANGE,
            libvirt.VIR_DOMAIN_EVENT_ID_DEVICE_ADDED,
            libvirt.VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED,
        ):
            ids.append(conn.domainEventRegisterAny(None, event_id, self._on_domain_event, event_id))
        if uris.driver_of(self.uri) == "qemu":
            local = not uris.is_remote(self.uri)
            self.accelerator = accel.choose_accelerator(
                conn.getCapabilities(), local_pvm=accel.local_kvm_is_pvm() if local else None
            )
        else:
            self.accelerator = None  # other hypervisors have no KVM-or-TCG choice
        try:
            self.hostname = conn.getHostname()
        except libvirt.libvirtError:
            self.hostname = ""
        with self._lock:
            self.virconn = conn
            self._callback_ids = ids
            self._attempt = 0

    def _close(self, reason: str) -> None:
        with self._lock:
            conn, self.virconn = self.virconn, None
            ids, self._callback_ids = self._callback_ids, []
            self._generation += 1
        if conn is not None:
            for cb_id in ids:
                with contextlib.suppress(libvirt.libvirtError):
                    conn.domainEventDeregisterAny(cb_id)
            with contextlib.suppress(libvirt.libvirtError):
                conn.unregisterCloseCallback()
            with contextlib.suppress(libvirt.libvirtError):
                conn.close()
        self._set_state(State.DISCONNECTED, reason)

    # -- dropping and reconnecting ---------------------------------------------------
    def _on_close(self, _conn: libvirt.virConnect, reason: int, generation: int) -> None:
        # Runs on the libvirt event thread: record and hand on, no libvirt calls here.
        words = {
            libvirt.VIR_CONNECT_CLOSE_REASON_EOF: "The host closed the connection",
            libvirt.VIR_CONNECT_CLOSE_REASON_KEEPALIVE: "The host stopped answering",
            libvirt.VIR_CONNECT_CLOSE_REASON_ERROR: "The connection failed",
            libvirt.VIR_CONNECT_CLOSE_REASON_CLIENT: "Disconnected",
        }.get(reason, "The connection was lost")
        with self._lock:
            if generation != self._generation:
                return
            self._generation += 1
            self.virconn = None
            self._callback_ids = []
        self._dropped(f"{words}.")

    def _dropped(self, reason: str) -> None:
        with self._lock:
            want = self._want_open
            delay = RECONNECT_DELAYS[min(self._attempt, len(RECONNECT_DELAYS) - 1)]
            self._attempt += 1
        if want:
            reason = f"{reason} Retrying in {delay:.0f} s."
        self._set_state(State.DISCONNECTED, reason)
        if want:
            self._schedule_reconnect(delay)

    def _schedule_reconnect(self, delay: float) -> None:
        with self._lock:
            self._cancel_reconnect()
            timer = threading.Timer(delay, self._reconnect_now)
            timer.daemon = True
            self._reconnect_timer = timer
            timer.start()

    def _reconnect_now(self) -> None:
        with self._lock:
            self._reconnect_timer = None
            if not self._want_open or self.state is not State.DISCONNECTED:
                return
            self.state = State.CONNECTING
        with contextlib.suppress(RuntimeError):  # the pool closed while the timer waited
            self.workers.submit(self._open_guarded)

    def _cancel_reconnect(self) -> None:
        if self._reconnect_timer is not None:
            self._reconnect_timer.cancel()
            self._reconnect_timer = None

    # -- events ----------------------------------------------------------------------
    def _on_domain_event(self, _conn: libvirt.virConnect, dom: libvirt.virDomain, *args) -> None:
        # Runs on the libvirt event thread. The last argument is our opaque event id.
        event_id = args[-1]
        if event_id == libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE:
            event, detail = args[0], args[1]
        else:
            event, detail = -event_id - 1, 0  # non-lifecycle events as negative kinds
        try:
            uuid = dom.UUIDString()
        except libvirt.libvirtError:
            return
        for listener in list(self._listeners):
            try:
                listener.domain_event(self, uuid, event, detail)
            except Exception:
                log.exception("domain event listener failed")

    # -- helpers for callers on worker threads -----------------------------------------
    def require(self) -> libvirt.virConnect:
        """The open virConnect, or a NidoError that says the host is not connected."""
        conn = self.virconn
        if conn is None:
            raise NidoError(
                f"{self.spec.label} is not connected.",
                self.reason,
            )
        return conn

    def wait_connected(self, timeout: float) -> bool:
        """Block until connected (tests and the CLI use this); False on timeout."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.state is State.CONNECTED:
                return True
            time.sleep(0.02)
        return self.state is State.CONNECTED


def _with_ssh_defaults(uri: str) -> str:
    """Remote SSH URIs never prompt on a terminal that nobody sees."""
    parsed = urllib.parse.urlsplit(uri)
    if not parsed.scheme.endswith("+ssh"):
        return uri
    query = urllib.parse.parse_qs(parsed.query)
    if "no_tty" in query:
        return uri
    query["no_tty"] = ["1"]
    return urllib.parse.urlunsplit(parsed._replace(query=urllib.parse.urlencode(query, doseq=True)))
