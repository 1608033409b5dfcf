"""The storage plan: which disk the guest gets, where, and how it is made.

- Install from an ISO: a new thin qcow2 of the chosen size in the connection's storage
  target (a libvirt pool, or a directory for the embedded driver).
- Import qcow2 or raw in place: the file as it is; nothing is made.
- Import and copy: ``qemu-img convert`` into the target, qcow2 and raw keeping their
  format, vmdk and vdi becoming qcow2.
`plan_storage` needs ``qemu-img info`` for imports (cached; see images.py).
"""

from __future__ import annotations

import enum
import os
from dataclasses import dataclass

from app.core.newvm.host import HostFacts
from app.core.newvm.images import CONVERTED_FORMATS, inspect_image
from app.core.newvm.names import volume_name
from app.core.newvm.pool import StorageTarget
from app.core.newvm.spec import ImportMode, NewVMSpec, SourceKind

__all__ = ["DiskAction", "StoragePlan", "plan_storage"]


class DiskAction(enum.Enum):
    CREATE = "create"  # a new, empty thin qcow2
    IN_PLACE = "in_place"  # an existing image, used where it is
    COPY = "copy"  # an existing image copied in its own format
    CONVERT = "convert"  # an existing vmdk/vdi converted to qcow2


@dataclass(frozen=True)
class StoragePlan:
    action: DiskAction
    path: str  # the disk the guest gets
    format: str  # its format: 'qcow2' or 'raw'
    capacity_bytes: int
    target: StorageTarget | None = None  # None when nothing is made
    volume: str = ""  # file/volume name inside the target
    source_path: str = ""  # the image imported from
    source_format: str = ""
    needed_bytes: int = 0  # space taken at once (thin disks take none)

    @property
    def makes_pool(self) -> bool:
        return self.target is not None and not self.target.exists

    def describe(self) -> list[str]:
        """The plan in plain words, for the summary page."""
        gib = self.capacity_bytes / 1024**3
        size = f"{gib:.1f} GiB".replace(".0 GiB", " GiB")
        lines = []
        if self.makes_pool and self.target is not None:
            lines.append(f"Create {self.target.label}.")
        if self.action is DiskAction.CREATE:
            lines.append(f"Create a {size} disk (it grows as it fills) at {self.path}.")
        elif self.action is DiskAction.IN_PLACE:
            lines.append(f"Use the {self.format} image {self.path} where it is ({size}).")
        elif self.action is DiskAction.COPY:
            lines.append(f"Copy {self.source_path} to {self.path} ({size}).")
        else:
            fmt = self.source_format.upper()
            lines.append(f"Convert the {fmt} image {self.source_path} to qcow2 at {self.path}.")
        return lines


def plan_storage(spec: NewVMSpec, host: HostFacts) -> StoragePlan:
    """How the guest's disk comes about. Call after `validate()` found no errors; raises
    ValueError where the spec cannot be planned (no storage target, unreadable image)."""
    if spec.source is SourceKind.IMPORT and spec.import_mode is ImportMode.IN_PLACE:
        info = inspect_image(spec.image_path)
        return StoragePlan(
            DiskAction.IN_PLACE,
            info.path,
            info.format,
            info.virtual_size,
            source_path=info.path,
            source_format=info.format,
        )
    target = host.storage
    if target is None:
        raise ValueError("this connection has no storage target")
    if spec.source is SourceKind.ISO:
        vol = volume_name(spec.name, target.volumes)
        return StoragePlan(
            DiskAction.CREATE,
            os.path.join(target.path, vol),
            "qcow2",
            spec.disk_bytes,
            target,
            vol,
        )
    info = inspect_image(spec.image_path)
    convert = info.format in CONVERTED_FORMATS
    fmt = "qcow2" if convert else info.format
    vol = volume_name(spec.name, target.volumes, "qcow2" if fmt == "qcow2" else "img")
    return StoragePlan(
        DiskAction.CONVERT if convert else DiskAction.COPY,
        os.path.join(target.path, vol),
        fmt,
        info.virtual_size,
        target,
        vol,
        source_path=info.path,
        source_format=info.format,
        needed_bytes=info.actual_size,
    )
