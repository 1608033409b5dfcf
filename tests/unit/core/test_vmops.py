"""Which disk images Delete may offer: never discs, shared images, raw devices or network
disks."""

from __future__ import annotations

from pathlib import Path

import libvirt

from app.core import vmops
from tests.support.testdriver import domain, node_uri


def test_only_own_image_files_are_offered(tmp_path: Path) -> None:
    devices = (
        f"<disk type='file' device='disk'><source file='{tmp_path}/a.qcow2'/>"
        "<target dev='vda'/></disk>"
        "<disk type='block' device='disk'><source dev='/dev/sdz'/><target dev='vdb'/></disk>"
        "<disk type='network' device='disk'><source protocol='rbd' name='pool/img'/>"
        "<target dev='vdc'/></disk>"
        f"<disk type='file' device='cdrom'><source file='{tmp_path}/i.iso'/><target dev='sda'/>"
        "<readonly/></disk>"
        f"<disk type='file' device='disk'><source file='{tmp_path}/s.raw'/><target dev='vdd'/>"
        "<shareable/></disk>"
    )
    vm = domain("vm").replace("<devices>", "<devices>" + devices)
    conn = libvirt.open(node_uri(tmp_path, [vm]))
    uuid = conn.lookupByName("vm").UUIDString()
    offered = vmops.deletable_disks(conn, uuid)
    assert [(d.path, d.target) for d in offered] == [(f"{tmp_path}/a.qcow2", "vda")]
    conn.close()


def test_delete_removes_the_definition_and_chosen_files(tmp_path: Path) -> None:
    image = tmp_path / "a.qcow2"
    image.write_bytes(b"x")
    conn = libvirt.open(node_uri(tmp_path, [domain("vm", state="shutoff", disk=str(image))]))
    uuid = conn.lookupByName("vm").UUIDString()
    assert vmops.delete_vm(conn, uuid, [str(image)]) == []
    assert not image.exists()
    assert [d.name() for d in conn.listAllDomains()] == []
    conn.close()


def test_an_image_that_cannot_be_deleted_is_reported_and_the_vm_still_goes(tmp_path) -> None:
    image = tmp_path / "a.qcow2"
    image.mkdir()  # not removable as a file, not even by root
    conn = libvirt.open(node_uri(tmp_path, [domain("vm", state="shutoff", disk=str(image))]))
    uuid = conn.lookupByName("vm").UUIDString()
    failures = vmops.delete_vm(conn, uuid, [str(image)])
    assert len(failures) == 1 and failures[0].startswith(f"{image}: ")
    assert conn.listAllDomains() == []
    conn.close()


def test_the_base_of_another_vms_linked_clone_is_protected(tmp_path: Path) -> None:
    import subprocess

    base = tmp_path / "base.qcow2"
    clone = tmp_path / "clone.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(base), "1M"], check=True)
    subprocess.run(
        ["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", str(base), str(clone)],
        check=True,
    )
    link = tmp_path / "same-base.qcow2"
    link.symlink_to(base)  # another name for the same file
    conn = libvirt.open(
        node_uri(
            tmp_path,
            [
                domain("original", state="shutoff", disk=str(link)),
                domain("clone", state="shutoff", disk=str(clone)),
            ],
        )
    )
    uuid = conn.lookupByName("original").UUIDString()
    (offered,) = vmops.deletable_disks(conn, uuid)
    assert offered.shared_with == ["clone"] and not offered.deletable
    # Even if asked directly, delete_vm keeps it.
    failures = vmops.delete_vm(conn, uuid, [str(link)])
    assert base.exists() and len(failures) == 1 and "kept" in failures[0]
    conn.close()
