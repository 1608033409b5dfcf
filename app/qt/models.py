"""The VM list as a Qt item model: one group row per connection, its VMs below, kept current
by the hub's signals (which follow libvirt events) and never by polling.

A proxy (`VMFilterModel`) filters by the text a person types, matching name, title, OS and
state, and keeps a connection's group visible while any of its VMs matches.
"""

from __future__ import annotations

import enum
import itertools
from dataclasses import dataclass, field

from PySide6.QtCore import (
    QAbstractItemModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QImage

from app.core.connection import Connection
from app.core.inventory import VMInfo
from app.qt.bridge import ConnectionHub

Index = QModelIndex | QPersistentModelIndex


class Role(enum.IntEnum):
    KIND = Qt.ItemDataRole.UserRole + 1  # "connection" or "vm"
    VM = Qt.ItemDataRole.UserRole + 2  # VMInfo
    CONNECTION = Qt.ItemDataRole.UserRole + 3  # Connection (group rows)
    THUMBNAIL = Qt.ItemDataRole.UserRole + 4  # QImage or None
    CPU_HISTORY = Qt.ItemDataRole.UserRole + 5  # sequence of floats, NaN = unknown
    FILTER_TEXT = Qt.ItemDataRole.UserRole + 6
    KEY = Qt.ItemDataRole.UserRole + 7  # (conn_id, uuid) for VMs, (conn_id, "") for groups


# Roles that change all the time while VMs run; nothing a person acts on depends on them.
LIVE_ROLES = frozenset({Role.CPU_HISTORY, Role.THUMBNAIL})


def only_live_roles(roles: list[int]) -> bool:
    """True for a dataChanged that only refreshed sparklines or thumbnails."""
    return bool(roles) and all(r in LIVE_ROLES for r in roles)


def _sort_key(vm: VMInfo) -> tuple[str, str]:
    return (vm.display_name.casefold(), vm.uuid)


@dataclass
class _Group:
    gid: int
    conn: Connection
    vms: list[VMInfo] = field(default_factory=list)

    def row_of(self, uuid: str) -> int:
        for i, vm in enumerate(self.vms):
            if vm.uuid == uuid:
                return i
        return -1

    def insertion_row(self, vm: VMInfo) -> int:
        key = _sort_key(vm)
        lo, hi = 0, len(self.vms)
        while lo < hi:
            mid = (lo + hi) // 2
            if _sort_key(self.vms[mid]) < key:
                lo = mid + 1
            else:
                hi = mid
        return lo


class VMTreeModel(QAbstractItemModel):
    """Connections and their VMs. Group rows carry internalId 0; a VM row carries its
    group's id, which never changes while the group exists."""

    def __init__(self, hub: ConnectionHub, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.hub = hub
        self._groups: list[_Group] = []
        self._gids = itertools.count(1)
        self._thumbs: dict[tuple[str, str], QImage] = {}
        hub.connectionAdded.connect(self._on_connection_added)
        hub.connectionRemoved.connect(self._on_connection_removed)
        hub.connectionChanged.connect(self._on_connection_changed)
        hub.vmsReset.connect(self._on_vms_reset)
        hub.vmChanged.connect(self._on_vm_changed)
        hub.vmRemoved.connect(self._on_vm_removed)
        hub.statsUpdated.connect(self._on_stats)
        for conn in hub.connections():
            self._on_connection_added(conn)

    # -- lookups -------------------------------------------------------------------------
    def _group_pos(self, conn_id: str) -> int:
        for i, g in enumerate(self._groups):
            if g.conn.spec.id == conn_id:
                return i
        return -1

    def _group_by_gid(self, gid: int) -> tuple[int, _Group | None]:
        for i, g in enumerate(self._groups):
            if g.gid == gid:
                return i, g
        return -1, None

    def group_index(self, conn_id: str) -> QModelIndex:
        pos = self._group_pos(conn_id)
        return self.index(pos, 0) if pos >= 0 else QModelIndex()

    def vm_index(self, conn_id: str, uuid: str) -> QModelIndex:
        pos = self._group_pos(conn_id)
        if pos < 0:
            return QModelIndex()
        row = self._groups[pos].row_of(uuid)
        return self.index(row, 0, self.index(pos, 0)) if row >= 0 else QModelIndex()

    def vm(self, conn_id: str, uuid: str) -> VMInfo | None:
        index = self.vm_index(conn_id, uuid)
        return index.data(Role.VM) if index.isValid() else None

    def find_vm_by_name(self, name: str) -> VMInfo | None:
        for group in self._groups:
            for vm in group.vms:
                if vm.name == name:
                    return vm
        return None

    def all_vms(self) -> list[VMInfo]:
        return [vm for g in self._groups for vm in g.vms]

    def set_thumbnail(self, conn_id: str, uuid: str, image: QImage | None) -> None:
        key = (conn_id, uuid)
        if image is None:
            if self._thumbs.pop(key, None) is None:
                return
        else:
            self._thumbs[key] = image
        index = self.vm_index(conn_id, uuid)
        if index.isValid():
            self.dataChanged.emit(index, index, [Role.THUMBNAIL])

    # -- QAbstractItemModel --------------------------------------------------------------
    def index(self, row: int, column: int, parent: Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        if column != 0 or row < 0:
            return QModelIndex()
        if not parent.isValid():
            if row < len(self._groups):
                return self.createIndex(row, 0, 0)
            return QModelIndex()
        if parent.internalId() != 0:
            return QModelIndex()
        group = self._groups[parent.row()] if parent.row() < len(self._groups) else None
        if group is None or row >= len(group.vms):
            return QModelIndex()
        return self.createIndex(row, 0, group.gid)

    def parent(self, index: Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        if not index.isValid() or index.internalId() == 0:
            return QModelIndex()
        pos, _ = self._group_by_gid(index.internalId())
        return self.createIndex(pos, 0, 0) if pos >= 0 else QModelIndex()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        if not parent.isValid():
            return len(self._groups)
        if parent.internalId() != 0 or parent.row() >= len(self._groups):
            return 0
        return len(self._groups[parent.row()].vms)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 1

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        if index.internalId() == 0:
            return self._group_data(self._groups[index.row()], role)
        _, group = self._group_by_gid(index.internalId())
        if group is None or index.row() >= len(group.vms):
            return None
        return self._vm_data(group, group.vms[index.row()], role)

    def _group_data(self, group: _Group, role: int) -> object:
        conn = group.conn
        if role == Qt.ItemDataRole.DisplayRole:
            return conn.spec.label
        if role == Role.KIND:
            return "connection"
        if role == Role.CONNECTION:
            return conn
        if role == Role.KEY:
            return (conn.spec.id, "")
        if role == Role.FILTER_TEXT:
            return ""  # groups show when a VM of theirs matches, not by their own name
        if role == Qt.ItemDataRole.ToolTipRole:
            lines = [conn.uri or conn.spec.uri or conn.spec.label]
            if conn.mode_explanation:
                lines.append(conn.mode_explanation)
            if conn.accelerator:
                lines.append(conn.accelerator.explanation)
            if conn.reason:
                lines.append(conn.reason)
            if conn.details:
                lines.append(conn.details)
            return "\n".join(lines)
        return None

    def _vm_data(self, group: _Group, vm: VMInfo, role: int) -> object:
        if role == Qt.ItemDataRole.DisplayRole:
            return vm.display_name
        if role == Role.KIND:
            return "vm"
        if role == Role.VM:
            return vm
        if role == Role.KEY:
            return vm.key
        if role == Role.CONNECTION:
            return group.conn
        if role == Role.THUMBNAIL:
            return self._thumbs.get(vm.key)
        if role == Role.CPU_HISTORY:
            st = self.hub.vm_stats(vm.conn_id, vm.uuid)
            return list(st.cpu_percent) if st is not None and vm.status.active else None
        if role == Role.FILTER_TEXT:
            return f"{vm.name} {vm.title} {vm.os_name} {vm.status.value}"
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{vm.name}\n{vm.os_name or 'Unknown OS'}\n{vm.status.value}"
        return None

    # -- hub signals ---------------------------------------------------------------------
    def _on_connection_added(self, conn: Connection) -> None:
        if self._group_pos(conn.spec.id) >= 0:
            return
        row = len(self._groups)
        self.beginInsertRows(QModelIndex(), row, row)
        self._groups.append(_Group(next(self._gids), conn))
        self.endInsertRows()

    def _on_connection_removed(self, conn_id: str) -> None:
        pos = self._group_pos(conn_id)
        if pos < 0:
            return
        self.beginRemoveRows(QModelIndex(), pos, pos)
        group = self._groups.pop(pos)
        self.endRemoveRows()
        for vm in group.vms:
            self._thumbs.pop(vm.key, None)

    def _on_connection_changed(self, conn_id: str) -> None:
        index = self.group_index(conn_id)
        if index.isValid():
            self.dataChanged.emit(index, index)

    def _on_vms_reset(self, conn_id: str, vms: list[VMInfo]) -> None:
        pos = self._group_pos(conn_id)
        if pos < 0:
            return
        group = self._groups[pos]
        parent = self.index(pos, 0)
        if group.vms:
            self.beginRemoveRows(parent, 0, len(group.vms) - 1)
            old = group.vms
            group.vms = []
            self.endRemoveRows()
            for vm in old:
                self._thumbs.pop(vm.key, None)
        if vms:
            self.beginInsertRows(parent, 0, len(vms) - 1)
            group.vms = sorted(vms, key=_sort_key)
            self.endInsertRows()

    def _on_vm_changed(self, info: VMInfo) -> None:
        pos = self._group_pos(info.conn_id)
        if pos < 0:
            return
        group = self._groups[pos]
        parent = self.index(pos, 0)
        row = group.row_of(info.uuid)
        if row >= 0:
            old = group.vms[row]
            if _sort_key(old) == _sort_key(info):
                group.vms[row] = info
                index = self.index(row, 0, parent)
                self.dataChanged.emit(index, index)
                if not info.status.active:
                    self.set_thumbnail(info.conn_id, info.uuid, None)
                return
            # Renamed: remove and re-insert at its new place.
            self.beginRemoveRows(parent, row, row)
            del group.vms[row]
            self.endRemoveRows()
        new_row = group.insertion_row(info)
        self.beginInsertRows(parent, new_row, new_row)
        group.vms.insert(new_row, info)
        self.endInsertRows()

    def _on_vm_removed(self, conn_id: str, uuid: str) -> None:
        pos = self._group_pos(conn_id)
        if pos < 0:
            return
        group = self._groups[pos]
        row = group.row_of(uuid)
        if row < 0:
            return
        self.beginRemoveRows(self.index(pos, 0), row, row)
        del group.vms[row]
        self.endRemoveRows()
        self._thumbs.pop((conn_id, uuid), None)

    def _on_stats(self, conn_id: str) -> None:
        pos = self._group_pos(conn_id)
        if pos < 0:
            return
        rows = [r for r, vm in enumerate(self._groups[pos].vms) if vm.status.active]
        if rows:  # one signal per tick, not one per VM
            parent = self.index(pos, 0)
            first, last = self.index(rows[0], 0, parent), self.index(rows[-1], 0, parent)
            self.dataChanged.emit(first, last, [Role.CPU_HISTORY])


class VMFilterModel(QSortFilterProxyModel):
    """Filters VMs by the typed text; a group stays while any of its VMs matches, and
    every group shows while the filter is empty (so an empty connection is visible)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setRecursiveFilteringEnabled(True)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setFilterRole(Role.FILTER_TEXT)

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        pattern = self.filterRegularExpression().pattern()
        if not pattern:
            return True
        return super().filterAcceptsRow(source_row, source_parent)
