"""The life-cycle actions on a VM: start, shut down, reboot, force off, pause, resume, save
and delete. Each is a blocking function for a worker thread that raises NidoError with a
sentence the person can read.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field

import libvirt

from app.core import images
from app.core.errors import from_libvirt
from app.core.uris import is_remote
from app.core.vmstate import Action
from app.core.xml.domain import Domain

log = logging.getLogger(__name__)

VERBS: dict[Action, str] = {
    Action.START: "start",
    Action.SHUTDOWN: "shut down",
    Action.REBOOT: "reboot",
    Action.FORCE_OFF: "force off",
    Action.PAUSE: "pause",
    Action.RESUME: "resume",
    Action.SAVE: "save the state of",
    Action.DELETE: "delete",
}


def _start(dom: libvirt.virDomain) -> None:
    # create() restores a managed-save image when there is one, so Start resumes a
    # saved VM where it left off.
    dom.create()


def _shutdown(dom: libvirt.virDomain) -> None:
    dom.shutdownFlags(libvirt.VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN)


def _reboot(dom: libvirt.virDomain) -> None:
    dom.reboot(libvirt.VIR_DOMAIN_REBOOT_ACPI_POWER_BTN)


def _force_off(dom: libvirt.virDomain) -> None:
    dom.destroy()


def _pause(dom: libvirt.virDomain) -> None:
    dom.suspend()


def _resume(dom: libvirt.virDomain) -> None:
    dom.resume()


def _save(dom: libvirt.virDomain) -> None:
    dom.managedSave(0)


_SIMPLE: dict[Action, Callable[[libvirt.virDomain], None]] = {
    Action.START: _start,
    Action.SHUTDOWN: _shutdown,
    Action.REBOOT: _reboot,
    Action.FORCE_OFF: _force_off,
    Action.PAUSE: _pause,
    Action.RESUME: _resume,
    Action.SAVE: _save,
}


def run_action(virconn: libvirt.virConnect, uuid: str, action: Action) -> None:
    """Carry out one of the simple life-cycle actions on the domain with `uuid`."""
    name = uuid
    try:
        dom = virconn.lookupByUUIDString(uuid)
        name = dom.name()
        _SIMPLE[action](dom)
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc, f"{VERBS[action]} “{name}”") from exc


@dataclass
class DiskImage:
    """A disk image of a VM that Delete may remove."""

    path: str
    target: str
    shared_with: list[str] = field(default_factory=list)  # other VMs that use it

    @property
    def deletable(self) -> bool:
        return not self.shared_with


def _disk_paths(dom: libvirt.virDomain) -> list[str]:
    """Every local image path a domain uses, in its saved and (when running) live
    definitions, as real paths, including the backing chains of its images."""
    flags = [libvirt.VIR_DOMAIN_XML_INACTIVE] if dom.isPersistent() else []
    if dom.isActive():
        flags.append(0)  # live: hot-plugged disks are only here
    paths: list[str] = []
    for flag in flags:
        for disk in Domain.from_xml(dom.XMLDesc(flag)).devices.disks:
            path = disk.source_path
            if path and os.path.isabs(path):
                real = os.path.realpath(path)
                paths.append(real)
                paths.extend(images.backing_chain(real))
    return paths


def deletable_disks(virconn: libvirt.virConnect, uuid: str) -> list[DiskImage]:
    """The disk images of a VM that Delete may offer, each with the other VMs that use it.

    Offered: writable image files of the VM's own disks. Never offered: CD-ROMs and
    floppies (an install ISO belongs to the person, not to the VM), read-only or
    shareable disks, block devices (a raw partition or disk is never "deleted"), network
    disks. An image another VM uses, directly or as the backing file of its own image (a
    linked clone), is listed with those VMs' names and cannot be chosen.
    """
    dom = virconn.lookupByUUIDString(uuid)
    model = Domain.from_xml(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
    found = []
    for disk in model.devices.disks:
        path = disk.source_path
        if disk.device not in (None, "disk") or disk.readonly or disk.shareable or not path:
            continue
        if (disk.type or "file") != "file" or not os.path.isabs(path):
            continue
        found.append(DiskImage(path=path, target=disk.target_dev or ""))
    if not found:
        return found
    by_real = {os.path.realpath(img.path): img for img in found}
    for other in virconn.listAllDomains(0):
        if other.UUIDString() == uuid:
            continue
        try:
            used = _disk_paths(other)
        except libvirt.libvirtError:
            continue  # vanished meanwhile
        for real in set(used):
            img = by_real.get(real)
            if img is not None:
                img.shared_with.append(other.name())
    return found


def delete_vm(virconn: libvirt.virConnect, uuid: str, disk_paths: list[str]) -> list[str]:
    """Force the VM off if needed, remove its definition with everything libvirt keeps for
    it (managed save, snapshots' metadata, NVRAM, TPM state), then delete the chosen disk
    images. Returns the images that could not be deleted, with the reason, so the person
    hears about each one; the VM itself is gone either way.
    """
    name = uuid
    try:
        # Ask again now, not only when the dialog opened: another VM may have started to
        # use an image since. Only what is still safe to delete is deleted.
        safe = {d.path for d in deletable_disks(virconn, uuid) if d.deletable}
        dom = virconn.lookupByUUIDString(uuid)
        name = dom.name()
        if dom.isActive():
            dom.destroy()
        if dom.isPersistent():
            dom.undefineFlags(_undefine_flags(dom))
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc, f"delete “{name}”") from exc
    failures = []
    for path in disk_paths:
        if path not in safe:
            failures.append(f"{path}: kept, because another VM uses it (or it is not this VM's)")
            continue
        problem = _delete_image(virconn, path)
        if problem:
            failures.append(f"{path}: {problem}")
    return failures


def _undefine_flags(dom: libvirt.virDomain) -> int:
    """The undefine flags this domain needs, and no others: drivers refuse flags they do
    not know, and an older host may not know the newer ones."""
    model = Domain.from_xml(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
    flags = 0
    if dom.hasManagedSaveImage(0):
        flags |= libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
    if dom.snapshotNum(0) > 0:
        flags |= libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
    try:
        if dom.listAllCheckpoints(0):
            flags |= libvirt.VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA
    except libvirt.libvirtError:
        pass  # the driver has no checkpoints at all
    if model.os.nvram is not None or model.os.firmware == "efi":
        flags |= libvirt.VIR_DOMAIN_UNDEFINE_NVRAM
    if any(t.backend_type == "emulator" for t in model.devices.tpms):
        flags |= libvirt.VIR_DOMAIN_UNDEFINE_TPM
    return flags


def _delete_image(virconn: libvirt.virConnect, path: str) -> str:
    """Delete one disk image through the storage API, or from the local disk when it is
    in no storage pool. Returns '' on success, else why not."""
    try:
        vol = virconn.storageVolLookupByPath(path)
    except libvirt.libvirtError:
        vol = None
    if vol is not None:
        try:
            vol.delete(0)
            return ""
        except libvirt.libvirtError as exc:
            return exc.get_error_message() or str(exc)
    if not _is_local(virconn):
        return "it is in no storage pool on the remote host, so Nido cannot reach it"
    try:
        os.remove(path)
    except FileNotFoundError:
        return ""
    except OSError as exc:
        return exc.strerror or str(exc)
    return ""


def _is_local(virconn: libvirt.virConnect) -> bool:
    return not is_remote(virconn.getURI())
