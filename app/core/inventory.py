"""The VMs of one connection, kept current by libvirt events (never by polling the list).

When the connection comes up the inventory reads every domain once; after that each
domain event schedules a re-read of just that domain on the connection's workers, with
bursts of events coalesced. Listeners receive immutable VMInfo snapshots.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from dataclasses import dataclass
from typing import Protocol

import libvirt

from app.core.connection import Connection, State
from app.core.osnames import os_label
from app.core.vmstate import Status, status_from_libvirt
from app.core.workers import WorkerPool
from app.core.xml.domain import Domain

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class VMInfo:
    """What the VM list shows about one domain."""

    conn_id: str
    uuid: str
    name: str
    title: str
    status: Status
    os_name: str
    vcpus: int
    memory_kib: int
    persistent: bool

    @property
    def key(self) -> tuple[str, str]:
        return (self.conn_id, self.uuid)

    @property
    def display_name(self) -> str:
        return self.title or self.name


class InventoryListener(Protocol):
    def vms_reset(self, conn_id: str, vms: list[VMInfo]) -> None: ...

    def vm_changed(self, info: VMInfo) -> None: ...

    def vm_removed(self, conn_id: str, uuid: str) -> None: ...


def read_vm(conn_id: str, dom: libvirt.virDomain, state: tuple[int, int] | None = None) -> VMInfo:
    """Read one domain (blocking). `state` may come from a bulk stats call."""
    model = Domain.from_xml(dom.XMLDesc(0))
    st, reason = state if state is not None else dom.state()
    managed = st == libvirt.VIR_DOMAIN_SHUTOFF and bool(dom.hasManagedSaveImage(0))
    persistent = bool(dom.isPersistent())
    running = st != libvirt.VIR_DOMAIN_SHUTOFF
    return VMInfo(
        conn_id=conn_id,
        uuid=model.uuid or dom.UUIDString(),
        name=model.name or dom.name(),
        title=_saved_title(dom, model) if persistent and running else model.title or "",
        status=status_from_libvirt(st, reason, managed),
        os_name=os_label(model),
        vcpus=model.vcpu_current or model.vcpu or 1,
        memory_kib=model.memory or 0,
        persistent=persistent,
    )


def _saved_title(dom: libvirt.virDomain, live: Domain) -> str:
    """A running VM's title as saved in its definition: that is what a person renames,
    while the live XML keeps the title it started with until it restarts."""
    try:
        return dom.metadata(
            libvirt.VIR_DOMAIN_METADATA_TITLE, None, libvirt.VIR_DOMAIN_AFFECT_CONFIG
        )
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN_METADATA:
            return ""  # no title saved
        return live.title or ""  # a driver that cannot say: the live one will do


def read_all(conn_id: str, virconn: libvirt.virConnect) -> list[VMInfo]:
    """Read every domain of a connection: one bulk state query plus one XML read each."""
    vms = []
    states: dict[str, tuple[int, int]] = {}
    try:
        records = virconn.getAllDomainStats(libvirt.VIR_DOMAIN_STATS_STATE, 0)
        for dom, stats in records:
            states[dom.UUIDString()] = (stats["state.state"], stats["state.reason"])
    except libvirt.libvirtError:
        log.debug("bulk state query unsupported; asking each domain", exc_info=True)
    for dom in virconn.listAllDomains(0):
        try:
            vms.append(read_vm(conn_id, dom, states.get(dom.UUIDString())))
        except libvirt.libvirtError as exc:
            if exc.get_error_code() != libvirt.VIR_ERR_NO_DOMAIN:
                raise  # a domain that vanished meanwhile is simply not listed
    return vms


class Inventory:
    """Keeps a connection's VM list current and tells one listener about changes."""

    def __init__(self, conn: Connection, listener: InventoryListener) -> None:
        self.conn = conn
        self.listener = listener
        self._lock = threading.Lock()
        self._pending: set[str] = set()
        self._flush_scheduled = False
        self._known: dict[str, VMInfo] = {}
        # One thread, so a full reload and the per-domain refreshes that follow events
        # run in the order they were asked for and a stale read never wins.
        self._serial = WorkerPool(f"inv-{conn.spec.id}", size=1)
        conn.add_listener(self)

    def detach(self) -> None:
        self.conn.remove_listener(self)
        self._serial.close()

    def snapshot(self) -> list[VMInfo]:
        with self._lock:
            return list(self._known.values())

    # ConnectionListener ---------------------------------------------------------------
    def connection_changed(self, conn: Connection) -> None:
        # Both go through the serial queue, so a load that finishes late can never list
        # VMs under a connection that has gone meanwhile.
        if conn.state is State.CONNECTED:
            self._submit(self._load_all)
        elif conn.state is State.DISCONNECTED:
            self._submit(self._clear)

    def domain_event(self, conn: Connection, uuid: str, event: int, detail: int) -> None:
        with self._lock:
            self._pending.add(uuid)
            if self._flush_scheduled:
                return
            self._flush_scheduled = True
        self._submit(self._flush)

    # Work on the connection's threads ---------------------------------------------------
    def _submit(self, fn) -> None:
        with contextlib.suppress(RuntimeError):  # the connection is shutting down
            self._serial.submit(self._guard, fn)

    @staticmethod
    def _guard(fn) -> None:
        try:
            fn()
        except libvirt.libvirtError:
            # The connection dropped mid-read; its close callback reports that.
            log.debug("inventory read failed", exc_info=True)
        except Exception:
            log.exception("inventory read failed")

    def _clear(self) -> None:
        if self.conn.virconn is not None:
            return  # connected again already; the load queued behind this one decides
        with self._lock:
            had = bool(self._known)
            self._known.clear()
            self._pending.clear()
        if had:
            self.listener.vms_reset(self.conn.spec.id, [])

    def _load_all(self) -> None:
        virconn = self.conn.virconn
        if virconn is None:
            return
        vms = read_all(self.conn.spec.id, virconn)
        if self.conn.virconn is not virconn:
            return  # the connection dropped or was replaced while we read
        with self._lock:
            self._known = {vm.uuid: vm for vm in vms}
        self.listener.vms_reset(self.conn.spec.id, vms)

    def _flush(self) -> None:
        with self._lock:
            uuids, self._pending = self._pending, set()
            self._flush_scheduled = False
        virconn = self.conn.virconn
        if virconn is None:
            return
        for uuid in uuids:
            try:
                self._refresh(virconn, uuid)
            except libvirt.libvirtError:
                # One domain failing to read must not lose the others' updates.
                log.debug("could not re-read domain %s", uuid, exc_info=True)

    def _refresh(self, virconn: libvirt.virConnect, uuid: str) -> None:
        try:
            dom = virconn.lookupByUUIDString(uuid)
            info = read_vm(self.conn.spec.id, dom)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() != libvirt.VIR_ERR_NO_DOMAIN:
                raise
            with self._lock:
                known = self._known.pop(uuid, None)
            if known is not None:
                self.listener.vm_removed(self.conn.spec.id, uuid)
            return
        with self._lock:
            if self._known.get(uuid) == info:
                return
            self._known[uuid] = info
        self.listener.vm_changed(info)
