"""Storage plans, and qemu-img: inspecting, creating, converting with progress."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from app.core import newvm
from app.core.newvm import DiskAction, ImportMode, SourceKind
from app.core.newvm import images as img
from app.core.newvm.pool import StorageKind, StorageTarget
from tests.unit.core.newvm.conftest import GIB, MIB, make_host


def qemu_img(*args: str) -> str:
    return subprocess.run(["qemu-img", *args], check=True, capture_output=True, text=True).stdout


@pytest.fixture
def target(tmp_path: Path) -> StorageTarget:
    return StorageTarget(
        StorageKind.DIR, str(tmp_path / "images"), free_bytes=100 * GIB, volumes=frozenset()
    )


def test_install_plan(make_spec, target) -> None:
    host = make_host(storage=target)
    spec = make_spec("debian11", host, name="Web <1>")
    plan = newvm.plan_storage(spec, host)
    assert plan.action is DiskAction.CREATE and plan.format == "qcow2"
    assert plan.path == f"{target.path}/Web-1.qcow2" and plan.capacity_bytes == 20 * GIB
    assert plan.needed_bytes == 0 and not plan.makes_pool
    assert plan.describe() == [f"Create a 20 GiB disk (it grows as it fills) at {plan.path}."]


def test_install_plan_avoids_existing_files(make_spec, target) -> None:
    host = make_host(storage=StorageTarget(**{**target.__dict__, "volumes": {"web.qcow2"}}))
    assert newvm.plan_storage(make_spec("debian11", host, name="web"), host).volume == (
        "web-2.qcow2"
    )


def test_a_pool_made_on_first_use_is_in_the_plan(make_spec) -> None:
    pool = StorageTarget(StorageKind.POOL, "/var/lib/libvirt/images", "nido", exists=False)
    host = make_host(storage=pool)
    plan = newvm.plan_storage(make_spec("debian11", host), host)
    assert plan.makes_pool
    assert plan.describe()[0] == (
        "Create storage pool “nido” (/var/lib/libvirt/images, created now)."
    )


@pytest.mark.parametrize(
    ("fmt", "mode", "action", "out_format"),
    [
        ("qcow2", ImportMode.IN_PLACE, DiskAction.IN_PLACE, "qcow2"),
        ("raw", ImportMode.IN_PLACE, DiskAction.IN_PLACE, "raw"),
        ("qcow2", ImportMode.COPY, DiskAction.COPY, "qcow2"),
        ("raw", ImportMode.COPY, DiskAction.COPY, "raw"),
        ("vmdk", ImportMode.COPY, DiskAction.CONVERT, "qcow2"),
        ("vdi", ImportMode.COPY, DiskAction.CONVERT, "qcow2"),
    ],
)
def test_import_plans(make_spec, target, tmp_path, fmt, mode, action, out_format) -> None:
    src = tmp_path / f"old.{fmt}"
    qemu_img("create", "-q", "-f", fmt, str(src), "96M")
    host = make_host(storage=target)
    spec = make_spec("debian11", host, name="old", source=SourceKind.IMPORT)
    spec.image_path, spec.import_mode = str(src), mode
    plan = newvm.plan_storage(spec, host)
    assert (plan.action, plan.format, plan.capacity_bytes) == (action, out_format, 96 * MIB)
    assert plan.source_format == fmt
    if action is DiskAction.IN_PLACE:
        assert plan.path == str(src) and plan.target is None
    else:
        ext = "qcow2" if out_format == "qcow2" else "img"
        assert plan.path == f"{target.path}/old.{ext}"
    assert plan.describe()


def test_no_target_no_plan(make_spec) -> None:
    host = make_host(storage=None)
    with pytest.raises(ValueError, match="no storage target"):
        newvm.plan_storage(make_spec("debian11", host), host)


def test_inspect_image(tmp_path) -> None:
    path = tmp_path / "a.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", str(path), "1G")
    info = newvm.inspect_image(str(path))
    assert (info.format, info.virtual_size, info.looks_like_iso) == ("qcow2", GIB, False)
    assert newvm.inspect_image(str(path)) is info  # cached until the file changes
    (tmp_path / "b.txt").write_text("not an image")
    assert newvm.inspect_image(str(tmp_path / "b.txt")).format == "raw"  # qemu-img's view


def test_inspect_refuses_what_qemu_img_cannot_read(tmp_path) -> None:
    path = tmp_path / "broken.qcow2"
    path.write_bytes(b"QFI\xfb\0\0\0\x03" + b"\0" * 200)  # qcow2 v3 magic, broken header
    with pytest.raises(img.QemuImgError):
        newvm.inspect_image(str(path))


def test_create_qcow2_is_thin(tmp_path) -> None:
    path = tmp_path / "new.qcow2"
    img.create_qcow2(str(path), 50 * GIB)
    info = newvm.inspect_image(str(path))
    assert (info.format, info.virtual_size) == ("qcow2", 50 * GIB)
    assert path.stat().st_size < MIB


def test_parse_progress() -> None:
    assert img.parse_progress("    (0.00/100%)\r") == 0.0
    assert img.parse_progress("    (1.00/100%)\r    (42.50/100%)\r") == 0.425
    assert img.parse_progress("    (100.00/100%)\r\n") == 1.0
    assert img.parse_progress("nothing yet") is None


@pytest.fixture
def vmdk(tmp_path: Path) -> Path:
    """A 64 MiB VMDK with data in it, so the conversion has something to do."""
    raw = tmp_path / "data.raw"
    with open(raw, "wb") as f:
        for i in range(64):
            f.write(bytes([i + 1]) * MIB)
    path = tmp_path / "data.vmdk"
    qemu_img("convert", "-f", "raw", "-O", "vmdk", str(raw), str(path))
    raw.unlink()
    return path


def test_convert_reports_progress(vmdk, tmp_path) -> None:
    seen: list[float] = []
    dest = tmp_path / "out.qcow2"
    img.convert_image(str(vmdk), str(dest), "qcow2", seen.append, lambda: False, src_format="vmdk")
    assert seen and seen[-1] == 1.0 and seen == sorted(seen)
    assert newvm.inspect_image(str(dest)).format == "qcow2"
    qemu_img("compare", str(vmdk), str(dest))


def test_convert_can_be_cancelled(vmdk, tmp_path) -> None:
    with pytest.raises(img.Cancelled):
        img.convert_image(str(vmdk), str(tmp_path / "x.qcow2"), "qcow2", print, lambda: True)


def test_convert_failure_says_why(tmp_path) -> None:
    with pytest.raises(img.QemuImgError) as info:
        img.convert_image(
            str(tmp_path / "missing.vmdk"), str(tmp_path / "x"), "qcow2", print, lambda: False
        )
    assert "missing.vmdk" in info.value.details
