"""Backing chains read from qcow2 headers (made by the real qemu-img)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from app.core import images


def qemu_img(*args: str) -> None:
    subprocess.run(["qemu-img", *args], check=True, capture_output=True)


def test_chain_of_a_linked_clone(tmp_path: Path) -> None:
    base = tmp_path / "base.qcow2"
    mid = tmp_path / "sub" / "mid.qcow2"
    top = tmp_path / "top.qcow2"
    mid.parent.mkdir()
    qemu_img("create", "-q", "-f", "qcow2", str(base), "1M")
    qemu_img("create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", "../base.qcow2", str(mid))
    qemu_img("create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", str(mid), str(top))
    assert images.backing_chain(str(top)) == [str(mid), str(base)]
    assert images.backing_chain(str(base)) == []


def test_not_qcow2_or_unreadable_has_no_chain(tmp_path: Path) -> None:
    raw = tmp_path / "disk.raw"
    raw.write_bytes(b"\0" * 4096)
    assert images.backing_file(str(raw)) is None
    assert images.backing_file(str(tmp_path / "missing")) is None
    garbage = tmp_path / "bad.qcow2"
    garbage.write_bytes(b"QFI\xfb" + b"\xff" * 16)  # offset far beyond the file
    assert images.backing_file(str(garbage)) is None


def test_a_loop_ends(tmp_path: Path) -> None:
    a = tmp_path / "a.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", str(a), "1M")
    b = tmp_path / "b.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", str(a), str(b))
    # Point a back at b by rewriting its header (qemu-img refuses to make a loop).
    data = bytearray(a.read_bytes())
    name = str(b).encode()
    offset = 512
    data[8:16] = offset.to_bytes(8, "big")
    data[16:20] = len(name).to_bytes(4, "big")
    data[offset : offset + len(name)] = name
    a.write_bytes(bytes(data))
    assert images.backing_chain(str(b)) == [str(a), str(b)]
