"""Fixtures for the New-VM core: hosts built by hand from captured domain capabilities
(libvirt 9.0 / QEMU 7.2 on Debian 12, in data/), specs for osdb's OSes, small ISOs."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest

from app.core import accel, newvm, osdb
from app.core.newvm import ConnMode, HostFacts, NetworkInfo, PortForwardMethod
from app.core.newvm.pool import StorageKind, StorageTarget
from tests.unit.core.osdb.conftest import IsoSpec, build_iso

DATA = Path(__file__).parent / "data"
GIB = 1024**3
MIB = 1024**2

TCG = accel.Accelerator("qemu", "TCG (software)", "")
KVM = accel.Accelerator("kvm", "KVM", "")


def caps(virt_type: str, machine: str) -> newvm.DomainCaps:
    return newvm.parse_domain_caps((DATA / f"domcaps-{virt_type}-{machine}.xml").read_text())


def make_host(**changes: object) -> HostFacts:
    """An embedded-like host: 8 CPUs on 4 cores, 16 GiB (12 free), TCG, 100 GiB free,
    user-mode networking with slirp port forwards, a 'default' network and a bridge."""
    virt_type = "kvm" if changes.get("accelerator") is KVM else "qemu"
    host = HostFacts(
        uri="qemu:///embed?root=/tmp/nido-test-root",
        mode=ConnMode.EMBEDDED,
        local=True,
        arch="x86_64",
        cpus=8,
        physical_cores=4,
        memory_bytes=16 * GIB,
        free_memory_bytes=12 * GIB,
        accelerator=TCG,
        domain_caps={"q35": caps(virt_type, "q35"), "pc": caps(virt_type, "pc")},
        storage=StorageTarget(
            StorageKind.DIR, "/tmp/nido-test-root/images", exists=False, free_bytes=100 * GIB
        ),
        networks=(NetworkInfo("default"), NetworkInfo("isolated", active=False)),
        bridges=("br0",),
        user_networking=True,
        port_forwarding=PortForwardMethod.SLIRP_HOSTFWD,
        existing_names=frozenset({"taken", "debian11"}),
        libvirt_version=9_000_000,
    )
    return dataclasses.replace(host, **changes)  # type: ignore[arg-type]


@pytest.fixture
def host() -> HostFacts:
    return make_host()


@pytest.fixture(scope="session")
def iso(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny bootable ISO that detection calls Debian 11."""
    d = tmp_path_factory.mktemp("newvm-iso")
    return build_iso(d / "debian11.iso", IsoSpec("Debian 11.5.0 amd64 n"))


@pytest.fixture
def make_spec(db: osdb.OSDatabase, iso: Path) -> Callable[..., newvm.NewVMSpec]:
    """A spec for an OS (short id, or None for unknown), defaults applied for `host`."""

    def make(os_id: str | None, host: HostFacts | None = None, **fields: object):
        spec = newvm.NewVMSpec(iso_path=str(iso), **fields)  # type: ignore[arg-type]
        newvm.choose_os(spec, os_id, db)
        newvm.defaults(spec, host or make_host()).apply(spec)
        return spec

    return make
