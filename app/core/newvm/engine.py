"""Creating the VM: storage, disk, definition, first start. Blocking; runs on a worker.

The engine runs on a thread of the caller's choosing and hands each libvirt step to
`call` (lane.py): over a daemon connection that is its one call lane, which must never
wait minutes for ``qemu-img convert``. Validation, qemu-img and file work run where
`create()` runs; only libvirt calls go down the lane.

Every step that makes something records how to undo it in a ledger. On any failure, and
on cancel, the ledger is unwound in reverse: the domain is destroyed and undefined with
its NVRAM and TPM state, the disk volume or file goes, and a pool or directory made just
now goes too if nothing else is in it. Then a NidoError says what failed and whether
everything could be removed.

    uuid = create(virconn, spec, host, progress=lambda text, f: ..., cancelled=lambda: False,
                  call=lane.on_pool(lambda: conn.workers), commit=gate.commit)

Cancel is honoured until the VM is defined; `commit()` is asked right after the last
check (see gate.py), and past it the VM is started and kept.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging
import os
import time
from collections.abc import Callable

import libvirt

from app.core.errors import ErrorKind, NidoError, from_exception
from app.core.newvm import images
from app.core.newvm.checks import errors, validate
from app.core.newvm.host import HostFacts
from app.core.newvm.images import Cancelled
from app.core.newvm.lane import Call, direct
from app.core.newvm.names import volume_name
from app.core.newvm.pool import StorageKind, StorageTarget, pool_xml, volume_xml
from app.core.newvm.spec import NewVMSpec
from app.core.newvm.storage import DiskAction, StoragePlan, plan_storage
from app.core.newvm.xmlbuild import build_xml
from app.core.xml import Domain

__all__ = ["Call", "Progress", "create"]

log = logging.getLogger(__name__)

Progress = Callable[[str, float], None]
_BASIC_UNDEFINE = (
    libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
)
# Most thorough first; a driver that refuses flags it does not know gets fewer.
UNDEFINE_FLAGS = (
    _BASIC_UNDEFINE
    | libvirt.VIR_DOMAIN_UNDEFINE_NVRAM
    | getattr(libvirt, "VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA", 0)
    | getattr(libvirt, "VIR_DOMAIN_UNDEFINE_TPM", 0),  # libvirt >= 8.9
    _BASIC_UNDEFINE | libvirt.VIR_DOMAIN_UNDEFINE_NVRAM,
    0,
)
_FLAG_REFUSALS = (libvirt.VIR_ERR_INVALID_ARG, libvirt.VIR_ERR_NO_SUPPORT)
RUNNING_TIMEOUT = 10.0  # seconds for a started domain to report 'running'


class _Ledger:
    """What creation made so far, and how to take each thing away again."""

    def __init__(self) -> None:
        self._undo: list[tuple[str, Callable[[], None]]] = []

    def add(self, what: str, undo: Callable[[], None]) -> None:
        self._undo.append((what, undo))

    def rollback(self) -> list[str]:
        """Undo everything, newest first; returns what could not be undone, with why."""
        failed = []
        while self._undo:
            what, undo = self._undo.pop()
            try:
                undo()
            except Exception as exc:  # keep going: remove as much as possible
                log.warning("could not remove %s", what, exc_info=True)
                failed.append(f"{what}: {exc}")
        return failed


def _check(cancelled: Callable[[], bool]) -> None:
    if cancelled():
        raise Cancelled()


# -- storage --------------------------------------------------------------------------


def _is_missing(exc: libvirt.libvirtError, code: int) -> bool:
    return exc.get_error_code() == code


def _lookup_pool(conn: libvirt.virConnect, name: str) -> libvirt.virStoragePool | None:
    try:
        return conn.storagePoolLookupByName(name)
    except libvirt.libvirtError as exc:
        if _is_missing(exc, libvirt.VIR_ERR_NO_STORAGE_POOL):
            return None
        raise


def _remove_pool_if_empty(pool: libvirt.virStoragePool, made_dir: bool) -> None:
    if pool.isActive():
        pool.refresh(0)
        if pool.listVolumes():
            return  # something else arrived in the meantime: leave the pool alone
        pool.destroy()
    if made_dir:
        with contextlib.suppress(libvirt.libvirtError):
            pool.delete(0)  # removes the (empty) directory
    pool.undefine()


def _ensure_pool(
    conn: libvirt.virConnect, target: StorageTarget, host: HostFacts, ledger: _Ledger, call: Call
) -> libvirt.virStoragePool:
    """Runs on the lane (quick libvirt calls); its undo steps go down the lane again."""
    pool = _lookup_pool(conn, target.pool)
    if pool is None:
        had_dir = host.local and os.path.isdir(target.path)
        pool = conn.storagePoolDefineXML(pool_xml(target.pool, target.path), 0)
        made = pool
        ledger.add(
            f"storage pool “{target.pool}”",
            lambda: call(_remove_pool_if_empty, made, not had_dir),
        )
        pool.build(0)
        pool.create(0)
        pool.setAutostart(1)
        return pool
    if not pool.isActive():
        pool.create(0)
        started = pool
        ledger.add(f"running storage pool “{target.pool}”", lambda: call(started.destroy))
    pool.refresh(0)
    return pool


def _ensure_dir(path: str, ledger: _Ledger) -> None:
    missing = []
    p = os.path.abspath(path)
    while not os.path.isdir(p):
        missing.append(p)
        p = os.path.dirname(p)
    for d in reversed(missing):
        os.mkdir(d, 0o755)
        ledger.add(f"folder {d}", functools.partial(_rmdir_if_empty, d))


def _rmdir_if_empty(path: str) -> None:
    if not os.listdir(path):
        os.rmdir(path)


def _unlink(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def _fresh_plan(plan: StoragePlan, taken: set[str]) -> StoragePlan:
    """The plan with a volume name that is still free now."""
    if plan.target is None or plan.volume not in taken:
        return plan
    ext = plan.volume.rsplit(".", 1)[-1]
    vol = volume_name(plan.volume.rsplit(".", 1)[0], taken, ext)
    return dataclasses.replace(plan, volume=vol, path=os.path.join(plan.target.path, vol))


def _convert(
    plan: StoragePlan, progress: Progress, cancelled: Callable[[], bool], ledger: _Ledger
) -> None:
    ledger.add(f"disk image {plan.path}", lambda: _unlink(plan.path))
    verb = "Converting" if plan.action is DiskAction.CONVERT else "Copying"
    images.convert_image(
        plan.source_path,
        plan.path,
        plan.format,
        lambda f: progress(f"{verb} the disk image… {f:.0%}", 0.10 + 0.75 * f),
        cancelled,
        src_format=plan.source_format,
    )


def _make_disk(
    conn: libvirt.virConnect,
    plan: StoragePlan,
    host: HostFacts,
    progress: Progress,
    cancelled: Callable[[], bool],
    ledger: _Ledger,
    call: Call,
) -> StoragePlan:
    """Make the pool or folder and the disk; returns the plan with the disk's real path.
    Folders, qemu-img and copies run here; pool and volume calls go through `call`."""
    target = plan.target
    if plan.action is DiskAction.IN_PLACE or target is None:
        return plan
    progress("Preparing storage…", 0.02)
    if target.kind is StorageKind.DIR:
        _ensure_dir(target.path, ledger)
        plan = _fresh_plan(plan, set(os.listdir(target.path)))
        _check(cancelled)
        if plan.action is DiskAction.CREATE:
            progress("Creating the disk…", 0.10)
            ledger.add(f"disk image {plan.path}", lambda: _unlink(plan.path))
            images.create_qcow2(plan.path, plan.capacity_bytes)
        else:
            _convert(plan, progress, cancelled, ledger)
        return plan
    pool = call(_ensure_pool, conn, target, host, ledger, call)
    plan = _fresh_plan(plan, set(call(pool.listVolumes)))
    _check(cancelled)
    if plan.action is DiskAction.CREATE:
        progress("Creating the disk…", 0.10)
        xml = volume_xml(plan.volume, plan.capacity_bytes, plan.format)
        vol = call(pool.createXML, xml, 0)
        ledger.add(f"disk volume “{plan.volume}”", lambda: call(vol.delete, 0))
        return dataclasses.replace(plan, path=call(vol.path))
    _convert(plan, progress, cancelled, ledger)  # minutes, maybe: never on the lane
    vol = call(_find_volume, pool, plan.volume)
    ledger.add(f"disk volume “{plan.volume}”", lambda: call(vol.delete, 0))
    return dataclasses.replace(plan, path=call(vol.path))


def _find_volume(pool: libvirt.virStoragePool, name: str) -> libvirt.virStorageVol:
    """The volume a copy made in the pool's folder (the pool learns of it on refresh)."""
    pool.refresh(0)
    return pool.storageVolLookupByName(name)


# -- the domain -----------------------------------------------------------------------


def _name_free(conn: libvirt.virConnect, name: str) -> None:
    try:
        conn.lookupByName(name)
    except libvirt.libvirtError as exc:
        if _is_missing(exc, libvirt.VIR_ERR_NO_DOMAIN):
            return
        raise
    raise NidoError(f"There is already a VM called “{name}”.", kind=ErrorKind.INVALID_INPUT)


def _nvram_path(dom: libvirt.virDomain) -> str:
    with contextlib.suppress(libvirt.libvirtError, ValueError):
        return Domain.from_xml(dom.XMLDesc(0)).os.nvram or ""
    return ""


def _undefine(dom: libvirt.virDomain, host: HostFacts) -> None:
    """Undefine with the NVRAM and the TPM state (libvirt removes both files)."""
    nvram = _nvram_path(dom)
    for flags in UNDEFINE_FLAGS:
        try:
            dom.undefineFlags(flags)
            break
        except libvirt.libvirtError as exc:
            if _is_missing(exc, libvirt.VIR_ERR_NO_DOMAIN):
                break
            if exc.get_error_code() not in _FLAG_REFUSALS or flags == 0:
                raise
    if nvram and host.local and os.path.exists(nvram):
        os.unlink(nvram)  # libvirt removes it; this covers a driver that did not


def _destroy(dom: libvirt.virDomain) -> None:
    with contextlib.suppress(libvirt.libvirtError):
        if not dom.isActive():
            return
    try:
        dom.destroy()
    except libvirt.libvirtError as exc:
        if not _is_missing(exc, libvirt.VIR_ERR_OPERATION_INVALID):
            raise


def _wait_running(dom: libvirt.virDomain, call: Call) -> None:
    """Poll the state through the lane, one call at a time, sleeping off it."""
    deadline = time.monotonic() + RUNNING_TIMEOUT
    while True:
        state = call(dom.state)[0]
        if state == libvirt.VIR_DOMAIN_RUNNING:
            return
        if state in (libvirt.VIR_DOMAIN_SHUTOFF, libvirt.VIR_DOMAIN_CRASHED):
            raise NidoError("The VM stopped right after it started.", kind=ErrorKind.INTERNAL)
        if time.monotonic() > deadline:
            raise NidoError("The VM did not start running in time.", kind=ErrorKind.TIMEOUT)
        time.sleep(0.05)


# -- the whole --------------------------------------------------------------------------


def _failure(name: str, action: str, exc: Exception, leftovers: list[str]) -> NidoError:
    """One sentence: what failed and why, and whether anything was left behind."""
    if isinstance(exc, Cancelled):
        summary, details, kind = f"Creating “{name}” was cancelled", "", ErrorKind.CANCELLED
    elif isinstance(exc, NidoError):
        reason = exc.summary.rstrip(".")
        summary = f"Could not {action}: {reason[:1].lower()}{reason[1:]}"
        details, kind = exc.details, exc.kind
    else:
        err = from_exception(exc, action)
        summary, details, kind = err.summary.rstrip("."), err.details, err.kind
    if leftovers:
        summary += "; some of what was made could not be removed."
        report = "Left behind:\n" + "\n".join(f"- {x}" for x in leftovers)
    else:
        summary += "; everything made so far was removed."
        report = "Everything made so far was removed."
    return NidoError(summary, "\n\n".join(x for x in (details, report) if x), kind)


def _commit(cancelled: Callable[[], bool], commit: Callable[[], bool] | None) -> None:
    """The last check: past it, cancel is no longer honoured."""
    if commit is None:
        _check(cancelled)
    elif not commit():
        raise Cancelled()


def create(
    virconn: libvirt.virConnect,
    spec: NewVMSpec,
    host: HostFacts,
    progress: Progress,
    cancelled: Callable[[], bool],
    *,
    call: Call = direct,
    commit: Callable[[], bool] | None = None,
) -> str:
    """Make the VM `spec` describes on `virconn` and start it (unless ``spec.start`` is
    False); returns its UUID. Blocking. On failure or cancel nothing remains, and a
    NidoError says why.

    `call` runs each libvirt step (default: right here); everything else runs on the
    calling thread. `commit` (default: one more look at `cancelled`) is asked once the VM
    is defined: True means go on and start it, which can no longer be cancelled."""
    problems = errors(validate(spec, host))
    if problems:
        first = problems[0]
        raise NidoError(
            f"Cannot create “{spec.name}”: {first.message}",
            "\n".join(f"{p.field}: {p.message}" for p in problems),
            ErrorKind.INVALID_INPUT,
        )
    ledger = _Ledger()
    action = f"create the disk of “{spec.name}”"
    try:
        _check(cancelled)
        plan = plan_storage(spec, host)
        plan = _make_disk(virconn, plan, host, progress, cancelled, ledger, call)
        _check(cancelled)
        action = f"define “{spec.name}”"
        progress("Defining the VM…", 0.88)
        xml = build_xml(spec, host, plan)
        call(_name_free, virconn, spec.name)
        dom = call(virconn.defineXML, xml)
        ledger.add(f"VM definition “{spec.name}”", lambda: call(_undefine, dom, host))
        _commit(cancelled, commit)
        if spec.start:
            action = f"start “{spec.name}”"
            progress("Starting the VM…", 0.92)
            ledger.add(f"running VM “{spec.name}”", lambda: call(_destroy, dom))
            call(dom.create)
            _wait_running(dom, call)
        uuid = call(dom.UUIDString)
    except BaseException as exc:
        leftovers = ledger.rollback()
        if not isinstance(exc, Exception):
            raise
        raise _failure(spec.name, action, exc, leftovers) from exc
    progress("Done.", 1.0)
    return uuid
