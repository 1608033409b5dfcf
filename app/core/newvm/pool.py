"""Where a connection keeps the disks Nido makes: its storage target.

- Daemon connections (system, session, remote): a libvirt storage pool. Nido uses the pool
  called ``nido``; failing that, a pool that already points at the usual images directory
  (virt-manager's ``default``), since libvirt refuses a second pool on the same
  directory; failing that, it plans a ``nido`` dir pool there, created on first use.
  The usual directory is ``/var/lib/libvirt/images`` for system and
  ``$XDG_DATA_HOME/libvirt/images`` for a local session.
- The embedded driver (``qemu:///embed``) has no storage driver on libvirt 9.0: every
  storage-pool call fails with VIR_ERR_NO_SUPPORT, and ``storage:///embed`` answers "Driver
  does not support embedded mode". Nido therefore keeps the embedded driver's disks in
  ``<root>/images`` (the real path, not the short symlink the root may be reached through,
  which lives in the runtime directory and goes at reboot) and makes them with qemu-img.
"""

from __future__ import annotations

import enum
import os
import urllib.parse
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import libvirt

__all__ = [
    "POOL_NAME",
    "SYSTEM_IMAGES_DIR",
    "StorageKind",
    "StorageTarget",
    "embedded_images_dir",
    "find_target",
    "free_bytes_at",
    "pool_xml",
    "session_images_dir",
    "volume_xml",
]

POOL_NAME = "nido"
SYSTEM_IMAGES_DIR = "/var/lib/libvirt/images"


class StorageKind(enum.Enum):
    POOL = "pool"  # a libvirt storage pool
    DIR = "dir"  # a directory Nido manages itself (embedded driver: no storage driver)


@dataclass(frozen=True)
class StorageTarget:
    """The place new disks go. `exists` is False for a pool or directory that `create()`
    makes first; `free_bytes` is None where it cannot be known (a remote host's pool that
    does not exist yet)."""

    kind: StorageKind
    path: str
    pool: str = ""
    exists: bool = True
    active: bool = True
    free_bytes: int | None = None
    volumes: frozenset[str] = field(default_factory=frozenset)

    @property
    def label(self) -> str:
        """In words, for the summary page."""
        if self.kind is StorageKind.POOL:
            state = "" if self.exists else ", created now"
            return f"storage pool “{self.pool}” ({self.path}{state})"
        return f"folder {self.path}"


def free_bytes_at(path: str) -> int | None:
    """Free space for an unprivileged writer at path, or at its nearest existing parent."""
    p = Path(path)
    for candidate in (p, *p.parents):
        try:
            st = os.statvfs(candidate)
        except OSError:
            continue
        return st.f_bavail * st.f_frsize
    return None


def session_images_dir() -> str:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return str(Path(base) / "libvirt" / "images")


def embedded_images_dir(uri: str) -> str:
    """``<root>/images`` for ``qemu:///embed?root=ROOT``, through any symlink."""
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(uri).query)
    root = query.get("root", [""])[0]
    if not root:
        raise ValueError(f"no root in embedded URI {uri!r}")
    return str(Path(os.path.realpath(root)) / "images")


def _dir_volumes(path: str) -> frozenset[str]:
    try:
        return frozenset(os.listdir(path))
    except OSError:
        return frozenset()


def _dir_target(path: str) -> StorageTarget:
    exists = os.path.isdir(path)
    return StorageTarget(
        StorageKind.DIR,
        path,
        exists=exists,
        free_bytes=free_bytes_at(path),
        volumes=_dir_volumes(path) if exists else frozenset(),
    )


def _pool_path(pool: libvirt.virStoragePool) -> str:
    root = ET.fromstring(pool.XMLDesc(0))
    return (root.findtext("./target/path") or "").strip()


def _pool_target(pool: libvirt.virStoragePool, local: bool) -> StorageTarget:
    path = _pool_path(pool)
    active = bool(pool.isActive())
    if active:
        pool.refresh(0)
        free: int | None = int(pool.info()[3])
        volumes = frozenset(pool.listVolumes())
    else:
        free = free_bytes_at(path) if local else None
        volumes = _dir_volumes(path) if local else frozenset()
    return StorageTarget(
        StorageKind.POOL,
        path,
        pool=pool.name(),
        exists=True,
        active=active,
        free_bytes=free,
        volumes=volumes,
    )


def find_target(
    conn: libvirt.virConnect, *, uri: str, embedded: bool, session: bool, local: bool
) -> StorageTarget | None:
    """The connection's storage target (blocking). None: no way to make disks here."""
    if embedded:
        return _dir_target(embedded_images_dir(uri))
    try:
        pools = conn.listAllStoragePools(0)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() != libvirt.VIR_ERR_NO_SUPPORT:
            raise
        return None
    usual = session_images_dir() if session else SYSTEM_IMAGES_DIR
    by_name = {p.name(): p for p in pools}
    if POOL_NAME in by_name:
        return _pool_target(by_name[POOL_NAME], local)
    for pool in pools:
        try:
            if os.path.normpath(_pool_path(pool)) == os.path.normpath(usual):
                return _pool_target(pool, local)
        except (libvirt.libvirtError, ET.ParseError):
            continue
    if session and not local:
        return None  # a remote session's home directory is unknown: no place to create
    return StorageTarget(
        StorageKind.POOL,
        usual,
        pool=POOL_NAME,
        exists=False,
        active=False,
        free_bytes=free_bytes_at(usual) if local else None,
    )


def pool_xml(name: str, path: str) -> str:
    """A dir pool's definition (libvirt's storage XML; the domain model does not cover it)."""
    pool = ET.Element("pool", {"type": "dir"})
    ET.SubElement(pool, "name").text = name
    ET.SubElement(ET.SubElement(pool, "target"), "path").text = path
    return ET.tostring(pool, encoding="unicode")


def volume_xml(name: str, capacity_bytes: int, fmt: str = "qcow2") -> str:
    """A thin volume: nothing allocated up front."""
    vol = ET.Element("volume")
    ET.SubElement(vol, "name").text = name
    ET.SubElement(vol, "capacity", {"unit": "bytes"}).text = str(capacity_bytes)
    ET.SubElement(vol, "allocation", {"unit": "bytes"}).text = "0"
    ET.SubElement(ET.SubElement(vol, "target"), "format", {"type": fmt})
    return ET.tostring(vol, encoding="unicode")
