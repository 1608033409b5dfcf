"""The hub between app.core and the widgets: it owns the connections and their inventories,
turns their callbacks (which arrive on worker and libvirt-event threads) into Qt signals
on the GUI thread, and ticks the statistics sampler once a second per connection.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import shiboken6
from PySide6.QtCore import QObject, QTimer, Signal

from app.core import settings as settings_store
from app.core import stats
from app.core.connection import Connection, ConnectionSpec, State
from app.core.inventory import Inventory, VMInfo
from app.qt.jobs import Op, call_in_gui, ensure_relay

log = logging.getLogger(__name__)

STATS_INTERVAL_MS = 1000


@dataclass
class _Entry:
    conn: Connection
    inventory: Inventory
    tracker: stats.StatsTracker
    persistent: bool  # saved in settings (False for a --connect URI given once)
    sampling: bool = False
    #: VMs whose disk and network rates are wanted (their graphs are shown), with how many
    #: windows want each.
    detail: dict[str, int] = field(default_factory=dict)


class ConnectionHub(QObject):
    """All connections of this Nido, as Qt signals. Lives on the GUI thread."""

    connectionAdded = Signal(object)  # Connection
    connectionRemoved = Signal(str)  # connection id
    connectionChanged = Signal(str)  # connection id: state, reason, accelerator...
    vmsReset = Signal(str, list)  # connection id, [VMInfo]
    vmChanged = Signal(object)  # VMInfo
    vmRemoved = Signal(str, str)  # connection id, uuid
    statsUpdated = Signal(str)  # connection id

    def __init__(
        self,
        settings: settings_store.Settings,
        *,
        save_settings: bool = True,
        connection_factory: Callable[[ConnectionSpec], Connection] = Connection,
    ) -> None:
        super().__init__()
        self.settings = settings
        self._save_settings = save_settings
        self._make_connection = connection_factory
        self._closed = False
        ensure_relay()
        self._saved_modes: dict[str, str] = {}  # local_mode as last saved, per connection
        self._entries: dict[str, _Entry] = {}
        self._timer = QTimer(self)
        self._timer.setInterval(STATS_INTERVAL_MS)
        self._timer.timeout.connect(self._tick)
        self.connectionChanged.connect(self._forget_stuck_sampling)

    # -- connections -------------------------------------------------------------------
    def start(self) -> None:
        """Add every saved connection and connect those marked to autoconnect."""
        for spec in self.settings.connections:
            self._add(spec, persistent=True)
        self._timer.start()

    def connections(self) -> list[Connection]:
        return [e.conn for e in self._entries.values()]

    def connection(self, conn_id: str) -> Connection | None:
        entry = self._entries.get(conn_id)
        return entry.conn if entry else None

    def find_by_uri(self, uri: str) -> Connection | None:
        for entry in self._entries.values():
            if uri in (entry.conn.spec.uri, entry.conn.uri):
                return entry.conn
        return None

    def add_connection(self, spec: ConnectionSpec, *, persistent: bool = True) -> Connection:
        conn = self._add(spec, persistent=persistent)
        if persistent:
            self.settings.connections.append(spec)
            self.save()
        return conn

    def remove_connection(self, conn_id: str) -> None:
        entry = self._entries.pop(conn_id, None)
        if entry is None:
            return
        entry.inventory.detach()
        entry.conn.remove_listener(self)
        entry.conn.shutdown()
        if entry.persistent:
            self.settings.connections = [s for s in self.settings.connections if s.id != conn_id]
            self.save()
        self.connectionRemoved.emit(conn_id)

    def save(self) -> None:
        if self._save_settings:
            settings_store.save(self.settings)

    def shutdown(self) -> None:
        """Close every connection (Nido is quitting). Never waits for a stuck host."""
        self._closed = True
        self._timer.stop()
        for entry in self._entries.values():
            entry.inventory.detach()
            entry.conn.remove_listener(self)
            entry.conn.shutdown()
        self._entries.clear()

    def _add(self, spec: ConnectionSpec, *, persistent: bool) -> Connection:
        conn = self._make_connection(spec)
        self._saved_modes[spec.id] = spec.local_mode
        inventory = Inventory(conn, self)
        self._entries[spec.id] = _Entry(conn, inventory, stats.StatsTracker(), persistent)
        conn.add_listener(self)
        self.connectionAdded.emit(conn)
        if spec.autoconnect:
            conn.connect()
        return conn

    # -- statistics ----------------------------------------------------------------------
    def vm_stats(self, conn_id: str, uuid: str) -> stats.VMStats | None:
        entry = self._entries.get(conn_id)
        return entry.tracker.vms.get(uuid) if entry else None

    def want_detail(self, conn_id: str, uuid: str, on: bool) -> None:
        """Whether a window shows this VM's disk and network rates (asked for each tick
        only while one does; they cost the hypervisor a query to the guest)."""
        entry = self._entries.get(conn_id)
        if entry is None:
            return
        count = entry.detail.get(uuid, 0) + (1 if on else -1)
        if count > 0:
            entry.detail[uuid] = count
        else:
            entry.detail.pop(uuid, None)

    def _tick(self) -> None:
        for conn_id, entry in self._entries.items():
            virconn = entry.conn.virconn
            if virconn is None or entry.sampling:
                continue  # a slow host gets no second query stacked on the first
            entry.sampling = True
            (
                Op(stats.sample, virconn, detail=list(entry.detail), what="read statistics")
                .success(lambda records, cid=conn_id: self._sampled(cid, records))
                .failure(lambda err, cid=conn_id: self._sample_failed(cid, err))
                .owned_by(self)
                .run_on(entry.conn.background)
            )

    def _forget_stuck_sampling(self, conn_id: str) -> None:
        # A query that was waiting on a connection that has since dropped may never come
        # back; the next connection must not wait for it.
        entry = self._entries.get(conn_id)
        if entry is not None and entry.conn.state is not State.CONNECTED:
            entry.sampling = False

    def _sampled(self, conn_id: str, records: list[tuple[str, dict]]) -> None:
        entry = self._entries.get(conn_id)
        if entry is None:
            return
        entry.sampling = False
        vcpus = {vm.uuid: vm.vcpus for vm in entry.inventory.snapshot()}
        entry.tracker.ingest(time.monotonic(), records, vcpus)
        self.statsUpdated.emit(conn_id)

    def _sample_failed(self, conn_id: str, err) -> None:
        entry = self._entries.get(conn_id)
        if entry is not None:
            entry.sampling = False
        log.debug("stats for %s failed: %s", conn_id, err.summary)

    # -- listener callbacks from core (any thread) -----------------------------------------
    # They never emit from the calling thread: the hub may be deleted on the GUI thread at
    # that very moment. The long-lived relay carries each call over, and it is dropped
    # there if the hub is gone or shut down.
    def _post(self, emit: Callable[..., None], *args: object) -> None:
        def deliver() -> None:
            if not self._closed and shiboken6.isValid(self):
                emit(*args)

        call_in_gui(deliver)

    def connection_changed(self, conn: Connection) -> None:
        self._post(self._connection_changed, conn.spec.id, conn.spec.local_mode)

    def _connection_changed(self, conn_id: str, local_mode: str) -> None:
        self.connectionChanged.emit(conn_id)
        if local_mode != self._saved_modes.get(conn_id):
            # "This computer" made its first choice: remember it.
            self._saved_modes[conn_id] = local_mode
            self.save()

    def domain_event(self, conn: Connection, uuid: str, event: int, detail: int) -> None:
        pass  # the inventory re-reads the domain and reports through vm_changed

    def vms_reset(self, conn_id: str, vms: list[VMInfo]) -> None:
        self._post(self.vmsReset.emit, conn_id, vms)

    def vm_changed(self, info: VMInfo) -> None:
        self._post(self.vmChanged.emit, info)

    def vm_removed(self, conn_id: str, uuid: str) -> None:
        self._post(self.vmRemoved.emit, conn_id, uuid)
