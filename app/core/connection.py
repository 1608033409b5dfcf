"""Live connections: opening (This computer / session / system / remote / custom), their
state as the person sees it, libvirt event registration, and reconnecting on their own.

Every method that talks to libvirt blocks and is meant to run on the connection's own
worker pools (`Connection.workers` for opening, closing and actions, `.background` for
statistics and thumbnails); the Qt shell never calls them on the GUI thread.
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

from app.core import accel, domain_events, embedded, uris
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
    # For Kind.LOCAL: how "This computer" was reached the first time ("system", "session"
    # or "embedded"). Kept, so the VM list does not change with whether some daemon
    # happens to be running when Nido starts.
    local_mode: str = ""

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
            "local_mode": self.local_mode,
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> ConnectionSpec:
        return cls(
            kind=uris.Kind(str(data["kind"])),
            uri=str(data.get("uri", "")),
            name=str(data.get("name", "")),
            autoconnect=bool(data.get("autoconnect", True)),
            id=str(data.get("id") or uuidlib.uuid4().hex[:12]),
            local_mode=str(data.get("local_mode", "")),
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


def _probe_socket(socket: str, readonly: bool = False, path: str = "system") -> bool:
    """Does a libvirt daemon answer on this socket? (A session daemon refuses the path
    '/system', so the path must match the daemon.)"""
    uri = f"qemu+unix:///{path}?socket={socket}"
    try:
        c = libvirt.openReadOnly(uri) if readonly else libvirt.open(uri)
    except libvirt.libvirtError:
        return False
    c.close()
    return True


def probe_local(euid: int | None = None, runtime_dir: str | None = None) -> uris.LocalFacts:
    """Look at this computer's libvirt daemons (blocking; a worker thread calls it).

    Sockets are addressed explicitly so that the probe works even after the embedded
    driver has been loaded, and so that it never auto-starts a session daemon.
    """
    is_root = (os.geteuid() if euid is None else euid) == 0
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
        for candidate in uris.session_socket_candidates(runtime_dir):
            if os.path.exists(candidate) and _probe_socket(candidate, path="session"):
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
    """One libvirt connection as Nido shows it: state, reason, mode and accelerator.

    Every request (connect, disconnect, a drop noticed by libvirt, a reconnect) starts a
    new generation. Work finishing for an older generation is discarded, so a slow attempt
    that returns after the person pressed Disconnect (or after a newer attempt succeeded)
    can neither resurrect nor clobber the connection.
    """

    def __init__(
        self,
        spec: ConnectionSpec,
        *,
        local_prober: Callable[[], uris.LocalFacts] = probe_local,
    ) -> None:
        self.spec = spec
        # Opening, closing and the person's actions.
        self._single_lane = False
        self.workers, self.background = self._new_pools()
        self.state = State.DISCONNECTED
        self.reason = "Not connected yet."
        self.details = ""  # libvirt's own words for the last failure, for tooltips and the log
        # State changes made, and how many of them listeners were told about: a change is
        # told once, however many threads race to tell it.
        self._changes = 0
        self._told = 0
        self.uri = spec.uri  # the URI really in use, once known
        self.mode_text = ""  # e.g. "embedded, no daemon", shown beside the name
        self.mode_explanation = ""
        self.accelerator: accel.Accelerator | None = None
        self.virconn: libvirt.virConnect | None = None
        self._local_prober = local_prober
        self._listeners: list[ConnectionListener] = []
        self._events: domain_events.Subscription | None = None
        self._lock = threading.RLock()
        self._want_open = False
        self._failures = 0
        self._reconnect_timer: threading.Timer | None = None
        self._generation = 0
        self._closed_for_good = False
        self._watchdog: threading.Thread | None = None

    @property
    def wants_open(self) -> bool:
        """Connected, connecting, or waiting to retry: the person asked for it to be open."""
        return self._want_open

    # -- listeners -------------------------------------------------------------------
    def add_listener(self, listener: ConnectionListener) -> None:
        self._listeners.append(listener)

    def remove_listener(self, listener: ConnectionListener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def _notify(self) -> None:
        with self._lock:
            if self._told == self._changes:
                return  # another thread already told this state
            self._told = self._changes
        for listener in list(self._listeners):
            try:
                listener.connection_changed(self)
            except Exception:
                log.exception("connection listener failed")

    def _publish(self, generation: int, state: State, reason: str, details: str = "") -> bool:
        """Set the state if `generation` is still current; tell listeners. False if stale."""
        with self._lock:
            if generation != self._generation:
                return False
            self.state, self.reason, self.details = state, reason, details
            self._changes += 1
        log.info("connection %s: %s %s", self.spec.label, state.value, reason)
        if details:
            log.warning("connection %s: %s", self.spec.label, details)
        self._notify()
        return True

    def _announce(self, generation: int) -> None:
        """Tell listeners about a state already set, if nothing newer happened since (a
        quick attempt may have published its result already; _notify tells it once)."""
        with self._lock:
            if generation != self._generation:
                return
        log.info("connection %s: %s %s", self.spec.label, self.state.value, self.reason)
        self._notify()

    # -- what the person asks for ------------------------------------------------------
    def connect(self) -> None:
        """Ask for the connection to be open, now and after any drop. Non-blocking."""
        with self._lock:
            if self._want_open and self.state is not State.DISCONNECTED:
                return  # already connected or on its way
            self._want_open = True
            self._failures = 0
            self._cancel_reconnect()
            generation = self._start_attempt()
            if self._watchdog is None:
                self._watchdog = threading.Thread(
                    target=self._watch, name=f"watch-{self.spec.id}", daemon=True
                )
                self._watchdog.start()
        self._announce(generation)

    def disconnect(self) -> None:
        """Close the connection and stop reconnecting. Non-blocking."""
        self._stop("Disconnected.")

    def shutdown(self) -> None:
        """Stop everything for good (Nido is quitting or the connection was removed)."""
        self._stop("Disconnected.")
        with self._lock:
            self._closed_for_good = True
        self.workers.close()
        self.background.close()

    def _stop(self, reason: str) -> None:
        with self._lock:
            self._want_open = False
            self._cancel_reconnect()
            self._generation += 1
            generation = self._generation
            dead = self._detach()
            if self._single_lane:
                self._renew_pools()  # the one lane may be stuck in an open that never ends
        if dead is not None:
            with contextlib.suppress(RuntimeError):
                self.workers.submit(_dispose, *dead)
        self._publish(generation, State.DISCONNECTED, reason)

    def _start_attempt(self) -> int:
        """New generation, and an open attempt for it on a worker. Call with the lock held."""
        self._generation += 1
        generation = self._generation
        # The state is set before the attempt can run: a quick attempt may publish
        # "connected" before the caller gets to announce "connecting".
        self.state, self.reason, self.details = State.CONNECTING, "Connecting…", ""
        self._changes += 1
        self.workers.submit(self._attempt, generation)
        return generation

    def _detach(
        self,
    ) -> tuple[libvirt.virConnect, domain_events.Subscription | None] | None:
        """Take the open virConnect and its event subscription out of service. Lock held."""
        conn, self.virconn = self.virconn, None
        events, self._events = self._events, None
        return (conn, events) if conn is not None else None

    # -- opening -----------------------------------------------------------------------
    def resolve_uri(self) -> str:
        """The URI to open (blocking for 'This computer', which may probe the daemons)."""
        if self.spec.kind is uris.Kind.LOCAL:
            remembered = uris.LocalMode(self.spec.local_mode) if self.spec.local_mode else None
            if remembered is uris.LocalMode.EMBEDDED:  # no probing: a hung daemon can't stall it
                choice = uris.choose_local(None, remembered=remembered, root=uris.embed_root())
            else:
                choice = uris.choose_local(self._local_prober(), remembered=remembered)
            self.spec.local_mode = choice.mode.value
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

    def _attempt(self, generation: int) -> None:
        try:
            self._open(generation)
        except NidoError as err:
            self._failed(generation, err.summary, err.details)
        except Exception as exc:  # never let a worker die silently
            log.exception("opening %s failed", self.spec.label)
            self._failed(generation, "Could not connect: an unexpected error happened.", str(exc))

    def _open(self, generation: int) -> None:
        ensure_event_loop()
        uri = self.resolve_uri()
        self.uri = uri
        with self._lock:
            single = uris.uses_remote_driver(uri)
            if single != self._single_lane and generation == self._generation:
                self._single_lane = single
                self._renew_pools()  # this attempt finishes on the old pool's thread
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
            if uris.is_embed_uri(open_uri):
                conn = embedded.open_shared(open_uri)
            else:
                conn = libvirt.open(open_uri)
        except libvirt.libvirtError as exc:
            raise from_libvirt(exc, f"connect to {uris.describe(uri)}") from exc
        try:
            events, accelerator = self._setup(conn, generation)
        except libvirt.libvirtError as exc:
            _dispose(conn, None)
            raise from_libvirt(exc, f"set up the connection to {uris.describe(uri)}") from exc
        with self._lock:
            current = generation == self._generation
            if current:
                replaced = self._detach()
                self.virconn, self._events = conn, events
                self.accelerator = accelerator
                self._failures = 0
        if not current:  # Disconnect, or a newer attempt, came while this one ran
            _dispose(conn, events)
            return
        if replaced is not None:
            _dispose(*replaced)
        self._publish(generation, State.CONNECTED, "")

    def _setup(
        self, conn: libvirt.virConnect, generation: int
    ) -> tuple[domain_events.Subscription, accel.Accelerator | None]:
        if uris.uses_remote_driver(self.uri):
            # Notices a host (or local daemon) that stopped answering, within ~20 s.
            with contextlib.suppress(libvirt.libvirtError):
                conn.setKeepAlive(KEEPALIVE_INTERVAL, KEEPALIVE_COUNT)
        if not uris.is_embed_uri(self.uri):  # shared and in process: it cannot be lost
            conn.registerCloseCallback(self._on_close, generation)
        # Through the fan-out: the embedded connection is shared, and libvirt takes only
        # one registration per event on a connection.
        events = domain_events.subscribe(conn, self._on_domain_event)
        if uris.driver_of(self.uri) != "qemu":
            return events, None  # other hypervisors have no KVM-or-TCG choice
        local = not uris.is_remote(self.uri)
        try:
            capabilities = conn.getCapabilities()
        except libvirt.libvirtError:
            domain_events.unsubscribe(events)
            raise
        return events, accel.choose_accelerator(
            capabilities, local_pvm=accel.local_kvm_is_pvm() if local else None
        )

    # -- dropping and reconnecting ---------------------------------------------------
    def _on_close(self, conn: libvirt.virConnect, reason: int, generation: int) -> None:
        # Runs on the libvirt event thread: record and hand on, no libvirt calls here.
        words = {
            libvirt.VIR_CONNECT_CLOSE_REASON_EOF: "The host closed the connection",
            libvirt.VIR_CONNECT_CLOSE_REASON_KEEPALIVE: "The host stopped answering",
            libvirt.VIR_CONNECT_CLOSE_REASON_ERROR: "The connection failed",
            libvirt.VIR_CONNECT_CLOSE_REASON_CLIENT: "Disconnected",
        }.get(reason, "The connection was lost")
        self._lost(generation, f"{words}.")

    def _lost(self, generation: int, reason: str) -> None:
        """The open connection died (libvirt told us, or the watchdog found it dead)."""
        with self._lock:
            if generation != self._generation:
                return
            dead = self._detach()
            # Calls that were waiting on the dead connection may never return (libvirt
            # 9.0 leaves all but one of several waiting calls hanging after a keepalive
            # timeout). Fresh pools, so the next connection is not starved by them.
            self._renew_pools()
        if dead is not None:  # deregister and free it off this thread
            with contextlib.suppress(RuntimeError):
                self.workers.submit(_dispose, *dead)
        self._failed(generation, reason, "")

    def _new_pools(self) -> tuple[WorkerPool, WorkerPool]:
        """`workers` for opening, closing and the person's actions; `background` for
        statistics and thumbnails, so a slow screenshot never holds up Start.

        Over libvirt's RPC client (any daemon, local or remote) every call goes down one
        lane instead: libvirt 9.0 mishandles several calls waiting on a connection that
        keepalive declares dead (all but one hang for ever, and it can crash), while a
        single waiting call fails cleanly and the close callback fires."""
        if self._single_lane:
            lane = WorkerPool(f"conn-{self.spec.id}", size=1)
            return lane, lane
        return (
            WorkerPool(f"conn-{self.spec.id}"),
            WorkerPool(f"bg-{self.spec.id}", size=2),
        )

    def _renew_pools(self) -> None:
        """Fresh pools; the old ones' idle threads end, and any stuck in a call on a dead
        connection are daemons that die with Nido. Call with the lock held."""
        old = (self.workers, self.background)
        self.workers, self.background = self._new_pools()
        for pool in old:
            pool.close()

    def _watch(self) -> None:
        """Every few seconds, ask libvirt (locally, no round trip) whether the open
        connection is still alive: its close callback is not always called."""
        while True:
            time.sleep(KEEPALIVE_INTERVAL)
            with self._lock:
                if self._closed_for_good:
                    return
                conn, generation = self.virconn, self._generation
            if conn is None:
                continue
            try:
                alive = conn.isAlive()
            except libvirt.libvirtError:
                alive = 0
            if not alive:
                self._lost(generation, "The host stopped answering.")

    def _failed(self, generation: int, reason: str, details: str) -> None:
        with self._lock:
            if generation != self._generation:
                return  # someone asked for something newer meanwhile
            want = self._want_open
            delay = RECONNECT_DELAYS[min(self._failures, len(RECONNECT_DELAYS) - 1)]
            self._failures += 1
            if want:
                self._schedule_reconnect(delay, generation)
        if want:
            reason = f"{reason} Retrying in {delay:.0f} s."
        self._publish(generation, State.DISCONNECTED, reason, details)

    def _schedule_reconnect(self, delay: float, generation: int) -> None:
        self._cancel_reconnect()
        timer = threading.Timer(delay, self._reconnect_now, (generation,))
        timer.daemon = True
        self._reconnect_timer = timer
        timer.start()

    def _reconnect_now(self, generation: int) -> None:
        with self._lock:
            if generation != self._generation or not self._want_open:
                return
            self._reconnect_timer = None
            try:
                generation = self._start_attempt()
            except RuntimeError:  # the pool closed while the timer waited
                return
        self._announce(generation)

    def _cancel_reconnect(self) -> None:
        if self._reconnect_timer is not None:
            self._reconnect_timer.cancel()
            self._reconnect_timer = None

    # -- events ----------------------------------------------------------------------
    def _on_domain_event(self, uuid: str, event: int, detail: int) -> None:
        # Runs on the libvirt event thread (see domain_events for the event kinds).
        for listener in list(self._listeners):
            try:
                listener.domain_event(self, uuid, event, detail)
            except Exception:
                log.exception("domain event listener failed")


def _dispose(conn: libvirt.virConnect, events: domain_events.Subscription | None) -> None:
    """Take a connection out of service (blocking; on a worker).

    libvirt holds the Python object through its event and close-callback registrations;
    deregistering them lets the object go, and libvirt-python closes the connection when
    the last reference does. It is deliberately not closed here: another thread may be
    inside a call on it (a statistics query, a screenshot), and libvirt frees a closed
    connection under such a call (seen as segfaults). Threads in a call hold a reference,
    so the close waits for them."""
    if events is not None:
        domain_events.unsubscribe(events)
    if embedded.is_shared(conn):
        return  # no close callback on it, and it stays open for the next user
    with contextlib.suppress(libvirt.libvirtError):
        conn.unregisterCloseCallback()


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
