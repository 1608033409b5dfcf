"""Host facts from a real libvirt (the test driver), and the rules behind them."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import libvirt
import pytest

from app.core import newvm
from app.core.newvm import ConnMode, PortForwardMethod
from app.core.newvm.host import allowed_bridges, conn_mode, forwarding_method
from app.core.newvm.pool import (
    POOL_NAME,
    StorageKind,
    embedded_images_dir,
    find_target,
    free_bytes_at,
    pool_xml,
)
from tests.support.testdriver import domain, node_uri
from tests.unit.core.newvm.conftest import caps


@pytest.fixture
def conn(tmp_path: Path):
    libvirt.registerErrorHandler(lambda *_a: None, None)
    c = libvirt.open(node_uri(tmp_path, [domain("web"), domain("db", state="shutoff")]))
    yield c
    c.close()


def test_gather_on_the_test_driver(conn) -> None:
    host = newvm.gather_host_facts(conn)
    assert host.mode is ConnMode.TEST and host.local and host.domain_type == "test"
    assert host.existing_names == {"web", "db"}
    assert host.cpus == 16 and host.physical_cores == 8  # the test driver's fake node
    assert host.memory_bytes > 0 and 0 <= host.free_memory_bytes <= host.memory_bytes
    assert host.domain_caps == {}  # the test driver has none
    assert host.user_networking and host.port_forwarding is PortForwardMethod.SLIRP_HOSTFWD
    assert host.storage is not None and host.storage.kind is StorageKind.POOL
    assert (host.storage.pool, host.storage.exists) == (POOL_NAME, False)


def test_the_nido_pool_is_preferred(conn, tmp_path) -> None:
    other = conn.storagePoolDefineXML(pool_xml("images", "/var/lib/libvirt/images"), 0)
    other.create(0)
    target = find_target(conn, uri="", embedded=False, session=False, local=True)
    assert target is not None and target.pool == "images" and target.exists  # same folder
    nido = conn.storagePoolDefineXML(pool_xml(POOL_NAME, str(tmp_path)), 0)
    target = find_target(conn, uri="", embedded=False, session=False, local=True)
    assert target is not None and (target.pool, target.active) == (POOL_NAME, False)
    assert target.free_bytes == free_bytes_at(str(tmp_path))
    nido.create(0)
    target = find_target(conn, uri="", embedded=False, session=False, local=True)
    assert target is not None and target.active and target.free_bytes


def test_a_remote_session_without_pools_has_no_target(conn) -> None:
    assert find_target(conn, uri="", embedded=False, session=True, local=False) is None


def test_the_embedded_target_is_a_real_folder(tmp_path) -> None:
    real = tmp_path / "data" / "embed"
    real.mkdir(parents=True)
    link = tmp_path / "short"
    link.symlink_to(real)
    uri = f"qemu:///embed?root={link}"
    assert embedded_images_dir(uri) == str(real / "images")
    target = find_target(None, uri=uri, embedded=True, session=False, local=True)  # type: ignore[arg-type]
    assert target is not None and target.kind is StorageKind.DIR and not target.exists
    assert target.free_bytes == free_bytes_at(str(tmp_path))


@pytest.mark.parametrize(
    ("uri", "mode"),
    [
        ("qemu:///embed?root=/x", ConnMode.EMBEDDED),
        ("qemu:///session", ConnMode.SESSION),
        ("qemu+unix:///session?socket=/run/user/1/libvirt/libvirt-sock", ConnMode.SESSION),
        ("qemu:///system", ConnMode.SYSTEM),
        ("qemu+ssh://me@box/system", ConnMode.SYSTEM),
        ("test:///default", ConnMode.TEST),
        ("xen:///system", ConnMode.OTHER),
    ],
)
def test_conn_mode(uri, mode) -> None:
    assert conn_mode(uri) is mode


def test_allowed_bridges(tmp_path) -> None:
    (tmp_path / "more.conf").write_text("allow br1\n")
    conf = tmp_path / "bridge.conf"
    conf.write_text(f"# qemu-bridge-helper\nallow br0\ninclude {tmp_path / 'more.conf'}\n")
    assert allowed_bridges(str(conf)) == ({"br0", "br1"}, False)
    conf.write_text("allow all\n")
    assert allowed_bridges(str(conf))[1] is True
    assert allowed_bridges(str(tmp_path / "none.conf")) == (set(), False)


def test_free_bytes_of_a_path_that_does_not_exist_yet(tmp_path) -> None:
    assert free_bytes_at(str(tmp_path / "a" / "b")) == free_bytes_at(str(tmp_path))
    assert free_bytes_at(os.devnull + "/x") is not None


def test_forwarding_method() -> None:
    q35 = {"q35": caps("qemu", "q35")}
    listed = {"q35": dataclasses.replace(q35["q35"], interface_backends=frozenset({"passt"}))}
    slirp, passt, none = (
        PortForwardMethod.SLIRP_HOSTFWD,
        PortForwardMethod.PASST,
        PortForwardMethod.NONE,
    )
    assert forwarding_method(ConnMode.EMBEDDED, q35, 9_000_000, False) is slirp  # Debian 12
    assert forwarding_method(ConnMode.SESSION, q35, 9_005_000, None) is slirp
    assert forwarding_method(ConnMode.SYSTEM, q35, 9_000_000, True) is none  # no user NICs
    assert forwarding_method(ConnMode.EMBEDDED, listed, 10_008_000, True) is passt
    assert forwarding_method(ConnMode.EMBEDDED, q35, 10_002_000, True) is passt
    assert forwarding_method(ConnMode.SESSION, q35, 10_002_000, None) is passt  # remote
    assert forwarding_method(ConnMode.EMBEDDED, q35, 10_002_000, False) is none  # no passt
    assert forwarding_method(ConnMode.EMBEDDED, q35, 8_000_000, False) is none
