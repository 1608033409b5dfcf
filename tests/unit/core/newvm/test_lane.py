"""Creation hands only its libvirt steps to the connection's lane: a long conversion runs
off it (a call queued meanwhile is answered), every libvirt call runs on it, and a lane
that has closed is reported in words. Also the cancel gate's race between Cancel and the
point of no return."""

from __future__ import annotations

import threading
from pathlib import Path

import libvirt
import pytest

from app.core import newvm
from app.core.errors import ErrorKind, NidoError
from app.core.newvm import CancelGate, SourceKind
from app.core.newvm import images as img
from app.core.newvm.pool import POOL_NAME, StorageKind, StorageTarget, pool_xml
from app.core.workers import WorkerPool
from tests.unit.core.newvm.conftest import GIB
from tests.unit.core.newvm.fakes import Faults, Faulty
from tests.unit.core.newvm.test_create import Recorder, _vmdk, conn, never, pool_host

__all__ = ["conn"]  # the fixture, shared with test_create

WAIT = 30.0  # generous: only reached when something is wrong


class Threads(Faults):
    """Faults that also note which thread made each libvirt call."""

    def __init__(self, *, refresh_finds_files: bool = False) -> None:
        super().__init__(refresh_finds_files=refresh_finds_files)
        self.threads: set[str] = set()

    def check(self, name: str) -> None:
        self.threads.add(threading.current_thread().name)
        super().check(name)


@pytest.fixture
def lane() -> WorkerPool:
    pool = WorkerPool("lane", size=1)
    yield pool
    pool.close()


@pytest.fixture
def pool_dir(conn, tmp_path: Path) -> Path:
    d = tmp_path / "pool"
    d.mkdir()
    conn.storagePoolDefineXML(pool_xml(POOL_NAME, str(d)), 0).create(0)
    return d


def import_spec(conn, make_spec, tmp_path: Path, pool_dir: Path):
    target = StorageTarget(StorageKind.POOL, str(pool_dir), POOL_NAME, free_bytes=100 * GIB)
    host = pool_host(conn, storage=target)
    spec = make_spec("debian11", host, name="imported", source=SourceKind.IMPORT)
    spec.image_path = str(_vmdk(tmp_path, 4))
    return spec, host


def test_a_conversion_does_not_hold_the_lane(
    conn, make_spec, tmp_path, pool_dir, lane, monkeypatch
) -> None:
    spec, host = import_spec(conn, make_spec, tmp_path, pool_dir)
    converting, release = threading.Event(), threading.Event()

    def slow_convert(src, dest, fmt, progress, cancelled, *, src_format=None) -> None:
        Path(dest).write_bytes(b"converted")
        converting.set()
        assert release.wait(WAIT), "nobody released the conversion"

    monkeypatch.setattr(img, "convert_image", slow_convert)
    faults = Threads(refresh_finds_files=True)
    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(
                newvm.create(
                    Faulty(conn, faults),
                    spec,
                    host,
                    Recorder(),
                    never,
                    call=newvm.on_pool(lambda: lane),
                )
            )
        except Exception as exc:
            outcome.append(exc)

    creator = threading.Thread(target=run, name="creator")
    creator.start()
    try:
        assert converting.wait(WAIT)
        # While qemu-img "runs", the connection's lane answers other calls.
        answer = lane.submit(lambda: conn.getHostname())
        assert answer.result(timeout=WAIT) == conn.getHostname()
        assert not outcome  # the conversion is still under way
    finally:
        release.set()
        creator.join(WAIT)
    (uuid,) = outcome
    assert isinstance(uuid, str) and conn.lookupByUUIDString(uuid).name() == "imported"
    assert faults.threads == {"lane-0"}  # every libvirt call went down the lane


def test_rollback_goes_down_the_lane_too(conn, make_spec, lane) -> None:
    host = pool_host(conn)
    faults = Threads()
    faults.fail_on.add("virDomain.create")
    with pytest.raises(NidoError) as info:
        newvm.create(
            Faulty(conn, faults), make_spec("debian11", host), host, Recorder(), never,
            call=newvm.on_pool(lambda: lane),
        )  # fmt: skip
    assert info.value.summary.endswith("everything made so far was removed.")
    assert {"virDomain.undefineFlags", "virStorageVol.delete"} <= set(faults.calls)
    assert faults.threads == {"lane-0"}
    assert {d.name() for d in conn.listAllDomains(0)} == {"other"}


def test_a_closed_lane_is_told_in_words(conn, make_spec) -> None:
    host = pool_host(conn)
    closed = WorkerPool("gone", size=1)
    closed.close()
    with pytest.raises(NidoError) as info:
        newvm.create(
            conn, make_spec("debian11", host), host, Recorder(), never,
            call=newvm.on_pool(lambda: closed, "Test"),
        )  # fmt: skip
    assert info.value.summary == (
        "Could not create the disk of “debian11”: the connection to Test has closed; "
        "everything made so far was removed."
    )
    assert info.value.kind is ErrorKind.UNREACHABLE
    assert {p.name() for p in conn.listAllStoragePools(0)} == set()


# -- the point of no return ------------------------------------------------------------


def test_cancel_before_the_commit_wins() -> None:
    gate = CancelGate()
    assert gate.cancel() and gate.cancelled()
    assert not gate.commit() and not gate.committed


def test_commit_before_the_cancel_wins() -> None:
    gate = CancelGate()
    assert gate.commit() and gate.committed
    assert not gate.cancel() and not gate.cancelled()


def test_a_cancel_that_loses_the_race_keeps_the_vm(conn, make_spec) -> None:
    host = pool_host(conn)
    gate = CancelGate()
    late: list[bool] = []

    def commit() -> bool:
        ok = gate.commit()
        late.append(gate.cancel())  # Cancel pressed just after the point of no return
        return ok

    uuid = newvm.create(
        conn, make_spec("debian11", host), host, Recorder(), gate.cancelled, commit=commit
    )
    assert late == [False]
    assert conn.lookupByUUIDString(uuid).state()[0] == libvirt.VIR_DOMAIN_RUNNING


def test_a_cancel_that_wins_the_race_removes_everything(conn, make_spec) -> None:
    host = pool_host(conn)
    gate = CancelGate()

    def commit() -> bool:
        gate.cancel()  # Cancel pressed just before the point of no return
        return gate.commit()

    with pytest.raises(NidoError) as info:
        newvm.create(
            conn, make_spec("debian11", host), host, Recorder(), gate.cancelled, commit=commit
        )
    assert info.value.kind is ErrorKind.CANCELLED
    assert {d.name() for d in conn.listAllDomains(0)} == {"other"}
    assert {p.name() for p in conn.listAllStoragePools(0)} == set()
