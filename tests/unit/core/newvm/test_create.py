"""The creation engine on libvirt's test driver (real libvirt, no QEMU): success, a
failure injected at every step, and cancel at every step. After each failure nothing
that creation made may remain."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import libvirt
import pytest

from app.core import newvm
from app.core.errors import ErrorKind, NidoError
from app.core.newvm import ImportMode, SourceKind, engine
from app.core.newvm import images as img
from app.core.newvm.pool import POOL_NAME, StorageKind, StorageTarget, pool_xml
from tests.support.testdriver import domain, node_uri
from tests.unit.core.newvm.conftest import GIB, MIB, make_host
from tests.unit.core.newvm.fakes import Faults, Faulty

POOL_PATH = "/nido-test-pool"  # the test driver's pools never touch the disk


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[libvirt.virConnect]:
    libvirt.registerErrorHandler(lambda *_a: None, None)
    c = libvirt.open(node_uri(tmp_path, [domain("other")]))
    yield c
    c.close()


def pool_host(conn: libvirt.virConnect, **changes: object) -> newvm.HostFacts:
    target = StorageTarget(
        StorageKind.POOL, POOL_PATH, POOL_NAME, exists=False, active=False, free_bytes=100 * GIB
    )
    defaults = {
        "uri": conn.getURI(),
        "mode": newvm.ConnMode.TEST,
        "storage": target,
        "existing_names": frozenset({"other"}),
    }
    return make_host(**{**defaults, **changes})


class Recorder:
    def __init__(self) -> None:
        self.steps: list[tuple[str, float]] = []

    def __call__(self, text: str, fraction: float) -> None:
        self.steps.append((text, fraction))


def never() -> bool:
    return False


def pools(conn: libvirt.virConnect) -> set[str]:
    return {p.name() for p in conn.listAllStoragePools(0)}


def domains(conn: libvirt.virConnect) -> set[str]:
    return {d.name() for d in conn.listAllDomains(0)}


def assert_nothing_left(conn: libvirt.virConnect) -> None:
    assert domains(conn) == {"other"}
    assert pools(conn) == set()


# -- success --------------------------------------------------------------------------


def test_create_in_a_new_pool(conn, make_spec) -> None:
    host = pool_host(conn)
    spec = make_spec("debian11", host, name="web <1>", disk_bytes=12 * GIB)
    progress = Recorder()
    uuid = newvm.create(conn, spec, host, progress, never)
    dom = conn.lookupByUUIDString(uuid)
    assert dom.name() == "web <1>" and dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING
    pool = conn.storagePoolLookupByName(POOL_NAME)
    assert pool.isActive() and pool.autostart()
    vol = pool.storageVolLookupByName("web-1.qcow2")
    assert vol.info()[1] == 12 * GIB
    assert f"<source file='{POOL_PATH}/web-1.qcow2'/>" in dom.XMLDesc(0)
    fractions = [f for _, f in progress.steps]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


def test_define_only(conn, make_spec) -> None:
    host = pool_host(conn)
    spec = make_spec("debian11", host, start=False)
    dom = conn.lookupByUUIDString(newvm.create(conn, spec, host, Recorder(), never))
    assert dom.state()[0] == libvirt.VIR_DOMAIN_SHUTOFF


def test_an_existing_pool_is_used_and_kept(conn, make_spec) -> None:
    pool = conn.storagePoolDefineXML(pool_xml(POOL_NAME, POOL_PATH), 0)
    pool.create(0)
    host = pool_host(conn)
    spec = make_spec("debian11", host, name="taken-vol")
    pool.createXML(newvm.pool.volume_xml("taken-vol.qcow2", GIB), 0)  # the name is used
    faults = Faults("virConnect.defineXML")
    with pytest.raises(NidoError):
        newvm.create(Faulty(conn, faults), spec, host, Recorder(), never)
    assert pools(conn) == {POOL_NAME} and pool.listVolumes() == ["taken-vol.qcow2"]
    assert "virStoragePool.createXML" in faults.calls
    uuid = newvm.create(conn, spec, host, Recorder(), never)
    assert "taken-vol-2.qcow2" in conn.lookupByUUIDString(uuid).XMLDesc(0)


def test_an_inactive_pool_is_started_and_stopped_again_on_failure(conn, make_spec) -> None:
    pool = conn.storagePoolDefineXML(pool_xml(POOL_NAME, POOL_PATH), 0)
    host = pool_host(conn)
    with pytest.raises(NidoError):
        newvm.create(
            Faulty(conn, Faults("virDomain.create")), make_spec("debian11", host), host,
            Recorder(), never,
        )  # fmt: skip
    assert not pool.isActive()
    pool.create(0)
    assert pool.listVolumes() == []


# -- failures -------------------------------------------------------------------------

STEPS = [
    ("virConnect.storagePoolLookupByName", "create the disk"),
    ("virConnect.storagePoolDefineXML", "create the disk"),
    ("virStoragePool.build", "create the disk"),
    ("virStoragePool.create", "create the disk"),
    ("virStoragePool.setAutostart", "create the disk"),
    ("virStoragePool.listVolumes", "create the disk"),
    ("virStoragePool.createXML", "create the disk"),
    ("virStorageVol.path", "create the disk"),
    ("virConnect.lookupByName", "define"),
    ("virConnect.defineXML", "define"),
    ("virDomain.create", "start"),
    ("virDomain.state", "start"),
    ("virDomain.UUIDString", "start"),
]


def test_the_steps_list_covers_every_libvirt_call(conn, make_spec) -> None:
    host = pool_host(conn)
    faults = Faults()
    newvm.create(Faulty(conn, faults), make_spec("debian11", host), host, Recorder(), never)
    assert set(faults.calls) == {name for name, _ in STEPS}


@pytest.mark.parametrize(("call", "words"), STEPS)
def test_a_failure_at_each_step_removes_everything(conn, make_spec, call, words) -> None:
    host = pool_host(conn)
    spec = make_spec("debian11", host, name="web")
    with pytest.raises(NidoError) as info:
        newvm.create(Faulty(conn, Faults(call)), spec, host, Recorder(), never)
    assert_nothing_left(conn)
    assert info.value.summary.startswith(f"Could not {words}")
    assert "“web”" in info.value.summary
    assert info.value.summary.endswith("everything made so far was removed.")
    assert f"injected failure in {call}" in info.value.details


def test_a_failed_removal_is_reported(conn, make_spec) -> None:
    host = pool_host(conn)
    faults = Faults("virDomain.create", "virStorageVol.delete")
    with pytest.raises(NidoError) as info:
        newvm.create(Faulty(conn, faults), make_spec("debian11", host), host, Recorder(), never)
    assert "could not be removed" in info.value.summary
    assert "disk volume “debian11.qcow2”" in info.value.details
    assert domains(conn) == {"other"}  # the rest went
    assert conn.storagePoolLookupByName(POOL_NAME).listVolumes() == ["debian11.qcow2"]


def test_a_pool_that_is_no_longer_empty_stays(conn, make_spec) -> None:
    host = pool_host(conn)

    class Intruder(Faults):
        def check(self, name: str) -> None:
            super().check(name)
            if name == "virConnect.defineXML":
                pool = conn.storagePoolLookupByName(POOL_NAME)
                pool.createXML(newvm.pool.volume_xml("someone-else.qcow2", GIB), 0)
                raise libvirt.libvirtError("injected")

    with pytest.raises(NidoError):
        newvm.create(Faulty(conn, Intruder()), make_spec("debian11", host), host, Recorder(), never)
    assert conn.storagePoolLookupByName(POOL_NAME).listVolumes() == ["someone-else.qcow2"]


def test_a_name_taken_meanwhile(conn, make_spec) -> None:
    host = pool_host(conn)
    spec = make_spec("debian11", host, name="late")
    conn.defineXML(domain("late", state="shutoff"))
    with pytest.raises(NidoError) as info:
        newvm.create(conn, spec, host, Recorder(), never)
    assert "already a VM called “late”" in info.value.summary
    assert pools(conn) == set() and domains(conn) == {"other", "late"}


def test_invalid_specs_make_nothing(conn, make_spec) -> None:
    host = pool_host(conn)
    spec = make_spec("debian11", host, name="a/b")
    with pytest.raises(NidoError) as info:
        newvm.create(conn, spec, host, Recorder(), never)
    assert info.value.kind is ErrorKind.INVALID_INPUT and "“/”" in info.value.summary
    assert_nothing_left(conn)


def test_an_unexpected_error_is_reported_too(conn, make_spec, monkeypatch) -> None:
    host = pool_host(conn)

    def boom(*_a: object, **_k: object) -> str:
        raise RuntimeError("bug")

    monkeypatch.setattr(engine, "build_xml", boom)
    with pytest.raises(NidoError) as info:
        newvm.create(conn, make_spec("debian11", host), host, Recorder(), never)
    assert "unexpected error" in info.value.summary and "RuntimeError: bug" in info.value.details
    assert_nothing_left(conn)


def cancel_at(n: int) -> Callable[[], bool]:
    """A cancelled() that turns true on its n-th call."""
    calls = [0]

    def cancelled() -> bool:
        calls[0] += 1
        return calls[0] >= n

    return cancelled


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_cancel_at_each_step(conn, make_spec, n) -> None:
    host = pool_host(conn)
    with pytest.raises(NidoError) as info:
        newvm.create(conn, make_spec("debian11", host), host, Recorder(), cancel_at(n))
    assert info.value.kind is ErrorKind.CANCELLED
    assert info.value.summary == (
        "Creating “debian11” was cancelled; everything made so far was removed."
    )
    assert_nothing_left(conn)


def test_no_cancel_after_the_last_check(conn, make_spec) -> None:
    host = pool_host(conn)
    assert newvm.create(conn, make_spec("debian11", host), host, Recorder(), cancel_at(5))


# -- a folder instead of a pool (the embedded driver) -----------------------------------


def dir_host(conn: libvirt.virConnect, path: Path) -> newvm.HostFacts:
    target = StorageTarget(StorageKind.DIR, str(path), exists=False, free_bytes=100 * GIB)
    return pool_host(conn, storage=target)


def test_create_in_a_new_folder(conn, make_spec, tmp_path) -> None:
    folder = tmp_path / "data" / "images"
    host = dir_host(conn, folder)
    spec = make_spec("debian11", host, name="web", disk_bytes=3 * GIB)
    newvm.create(conn, spec, host, Recorder(), never)
    info = newvm.inspect_image(str(folder / "web.qcow2"))
    assert (info.format, info.virtual_size) == ("qcow2", 3 * GIB)


@pytest.mark.parametrize("fail", ["qemu-img", "virConnect.defineXML", "virDomain.create"])
def test_a_failure_removes_the_file_and_the_folders(conn, make_spec, tmp_path, fail) -> None:
    folder = tmp_path / "data" / "images"
    host = dir_host(conn, folder)
    spec = make_spec("debian11", host, name="web")
    faults = Faults(fail)
    if fail == "qemu-img":

        def broken(path: str, size: int) -> None:
            Path(path).write_bytes(b"partial")
            raise img.QemuImgError("qemu-img could not create the disk image.")

        monkeypatch = pytest.MonkeyPatch()
        monkeypatch.setattr(img, "create_qcow2", broken)
    try:
        with pytest.raises(NidoError) as info:
            newvm.create(Faulty(conn, faults), spec, host, Recorder(), never)
    finally:
        if fail == "qemu-img":
            monkeypatch.undo()
    assert not (tmp_path / "data").exists()
    assert domains(conn) == {"other"}
    assert info.value.summary.endswith("everything made so far was removed.")


def _vmdk(tmp_path: Path, size_mib: int = 48) -> Path:
    raw = tmp_path / "src.raw"
    with open(raw, "wb") as f:
        for i in range(size_mib):
            f.write(bytes([i % 250 + 1]) * MIB)
    vmdk = tmp_path / "src.vmdk"
    subprocess.run(
        ["qemu-img", "convert", "-O", "vmdk", str(raw), str(vmdk)], check=True, capture_output=True
    )
    raw.unlink()
    return vmdk


def test_import_converts_with_progress(conn, make_spec, tmp_path) -> None:
    folder = tmp_path / "images"
    host = dir_host(conn, folder)
    spec = make_spec("debian11", host, name="old", source=SourceKind.IMPORT)
    spec.image_path = str(_vmdk(tmp_path))
    progress = Recorder()
    newvm.create(conn, spec, host, progress, never)
    assert any(text.startswith("Converting the disk image") for text, _ in progress.steps)
    assert newvm.inspect_image(str(folder / "old.qcow2")).virtual_size == 48 * MIB


def test_cancel_during_a_conversion_removes_the_partial_copy(conn, make_spec, tmp_path) -> None:
    folder = tmp_path / "images"
    host = dir_host(conn, folder)
    spec = make_spec("debian11", host, name="old", source=SourceKind.IMPORT)
    spec.image_path = str(_vmdk(tmp_path))
    converting = [False]

    def progress(text: str, _fraction: float) -> None:
        converting[0] = converting[0] or text.startswith("Converting")

    with pytest.raises(NidoError) as info:
        newvm.create(conn, spec, host, progress, lambda: converting[0])
    assert info.value.kind is ErrorKind.CANCELLED
    assert not folder.exists()


def test_import_in_place_makes_no_disk(conn, make_spec, tmp_path) -> None:
    image = tmp_path / "keep.qcow2"
    img.create_qcow2(str(image), GIB)
    host = dir_host(conn, tmp_path / "images")
    spec = make_spec("debian11", host, name="kept", source=SourceKind.IMPORT)
    spec.image_path, spec.import_mode = str(image), ImportMode.IN_PLACE
    with pytest.raises(NidoError):
        newvm.create(Faulty(conn, Faults("virDomain.create")), spec, host, Recorder(), never)
    assert image.exists()  # the person's own image is never removed
    uuid = newvm.create(conn, spec, host, Recorder(), never)
    assert str(image) in conn.lookupByUUIDString(uuid).XMLDesc(0)
    assert not (tmp_path / "images").exists()


def test_import_copy_into_a_pool(conn, make_spec, tmp_path) -> None:
    pool_dir = tmp_path / "pool"
    pool_dir.mkdir()
    conn.storagePoolDefineXML(pool_xml(POOL_NAME, str(pool_dir)), 0).create(0)
    target = StorageTarget(StorageKind.POOL, str(pool_dir), POOL_NAME, free_bytes=100 * GIB)
    host = pool_host(conn, storage=target)
    spec = make_spec("debian11", host, name="copy", source=SourceKind.IMPORT)
    spec.image_path = str(_vmdk(tmp_path, 8))
    faults = Faults("virDomain.create", refresh_finds_files=True)
    with pytest.raises(NidoError):
        newvm.create(Faulty(conn, faults), spec, host, Recorder(), never)
    assert list(pool_dir.iterdir()) == []
    uuid = newvm.create(
        Faulty(conn, Faults(refresh_finds_files=True)), spec, host, Recorder(), never
    )
    assert f"{pool_dir}/copy.qcow2" in conn.lookupByUUIDString(uuid).XMLDesc(0)
    assert newvm.inspect_image(str(pool_dir / "copy.qcow2")).format == "qcow2"
