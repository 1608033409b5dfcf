"""The choice behind "This computer", the presets, and URI spelling with the embedded
driver loaded."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from app.core import uris
from app.core.errors import NidoError
from app.core.uris import Kind, LocalFacts, LocalMode


def facts(**kw) -> LocalFacts:
    base = dict(
        is_root=False,
        system_socket=None,
        system_writable=False,
        session_socket=None,
        embed_root="/home/u/.local/share/nido/embed",
    )
    base.update(kw)
    return LocalFacts(**base)


def test_no_daemon_means_embedded_driver_in_the_data_dir() -> None:
    choice = uris.choose_local(facts())
    assert choice.mode is LocalMode.EMBEDDED
    assert choice.uri == "qemu:///embed?root=/home/u/.local/share/nido/embed"
    assert "No libvirt daemon" in choice.explanation


def test_writable_system_daemon_wins_over_session() -> None:
    choice = uris.choose_local(
        facts(
            system_socket="/run/libvirt/libvirt-sock",
            system_writable=True,
            session_socket="/run/user/1000/libvirt/libvirt-sock",
        )
    )
    assert (choice.uri, choice.mode) == ("qemu:///system", LocalMode.SYSTEM)


def test_read_only_system_daemon_falls_to_running_session() -> None:
    choice = uris.choose_local(
        facts(
            system_socket="/run/libvirt/libvirt-sock",
            system_writable=False,
            session_socket="/run/user/1000/libvirt/virtqemud-sock",
        )
    )
    assert (choice.uri, choice.mode) == ("qemu:///session", LocalMode.SESSION)


def test_read_only_system_daemon_and_no_session_explains_why_embedded() -> None:
    choice = uris.choose_local(facts(system_socket="/run/libvirt/libvirt-sock"))
    assert choice.mode is LocalMode.EMBEDDED
    assert "only lets this account look" in choice.explanation


def test_root_never_uses_a_session_daemon() -> None:
    choice = uris.choose_local(
        facts(is_root=True, session_socket="/run/user/0/libvirt/libvirt-sock")
    )
    assert choice.mode is LocalMode.EMBEDDED


def test_presets() -> None:
    assert uris.preset_uri(Kind.SESSION) == "qemu:///session"
    assert uris.preset_uri(Kind.SYSTEM) == "qemu:///system"
    assert uris.preset_uri(Kind.SSH, user="ana", host="box.lan") == "qemu+ssh://ana@box.lan/system"
    assert uris.preset_uri(Kind.SSH, host="box.lan") == "qemu+ssh://box.lan/system"
    assert uris.preset_uri(Kind.CUSTOM, custom=" test:///default ") == "test:///default"
    with pytest.raises(ValueError):
        uris.preset_uri(Kind.SSH, user="ana")
    with pytest.raises(ValueError):
        uris.preset_uri(Kind.CUSTOM, custom="not a uri")
    with pytest.raises(ValueError):
        uris.preset_uri(Kind.LOCAL)


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("qemu:///system", "qemu+unix:///system?socket=/run/libvirt/libvirt-sock"),
        ("qemu+unix:///system", "qemu+unix:///system?socket=/run/libvirt/libvirt-sock"),
        ("qemu:///session", "qemu+unix:///session?socket=/run/user/7/libvirt/virtqemud-sock"),
        ("qemu:///system?socket=/x", "qemu:///system?socket=/x"),
        ("qemu+ssh://h/system", "qemu+ssh://h/system"),
        ("qemu:///embed?root=/r", "qemu:///embed?root=/r"),
        ("test:///default", "test:///default"),
    ],
)
def test_daemon_uri_with_socket(uri: str, expected: str) -> None:
    sockets = {
        "system": "/run/libvirt/libvirt-sock",
        "session": "/run/user/7/libvirt/virtqemud-sock",
    }
    assert uris.daemon_uri_with_socket(uri, sockets.get) == expected


def test_daemon_uri_without_a_socket_is_left_alone() -> None:
    assert uris.daemon_uri_with_socket("qemu:///system", lambda _w: None) == "qemu:///system"


def test_embed_root_is_short_enough_for_unix_sockets(tmp_path: Path, own_runtime_dir) -> None:
    real = tmp_path / ("very-long-directory-name-" * 3) / "nido" / "embed"
    root = uris.embed_root(real)
    assert len(root) <= uris.EMBED_ROOT_MAX
    assert os.path.realpath(root) == str(real)
    # Calling again reuses the same link.
    assert uris.embed_root(real) == root
    assert (real / "etc" / "qemu.conf").exists()  # Nido's driver settings are in place


def test_without_a_runtime_dir_the_link_lives_in_a_tmp_folder_of_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("XDG_RUNTIME_DIR")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    (tmp_path / f"nido-{os.getuid()}").touch()  # what an older Nido or another tool left
    real = tmp_path / ("very-long-directory-name-" * 3) / "embed"
    root = uris.embed_root(real)
    assert Path(root).parent == tmp_path / f"nido-run-{os.getuid()}"
    assert os.path.realpath(root) == str(real)


def test_a_file_in_the_way_of_the_link_folder_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("XDG_RUNTIME_DIR")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    (tmp_path / f"nido-run-{os.getuid()}").touch()
    with pytest.raises(NidoError, match="a file of that name is in the way"):
        uris.embed_root(tmp_path / ("very-long-directory-name-" * 3) / "embed")


def test_embed_root_uses_the_real_path_when_short(own_runtime_dir) -> None:
    real = own_runtime_dir / "e"  # a short /tmp/nr... path
    assert len(str(real)) <= uris.EMBED_ROOT_MAX
    assert uris.embed_root(real) == str(real)
    assert real.is_dir()


def test_default_embed_root_lives_under_xdg_data(own_runtime_dir) -> None:
    root = uris.embed_root()
    assert os.path.realpath(root) == os.path.realpath(
        os.path.join(os.environ["XDG_DATA_HOME"], "nido", "embed")
    )


def test_local_daemon_kind() -> None:
    assert uris.local_daemon_kind("qemu:///system") == "system"
    assert uris.local_daemon_kind("qemu+unix:///session") == "session"
    assert uris.local_daemon_kind("qemu+unix:///system?socket=/x") is None
    assert uris.local_daemon_kind("qemu+ssh://h/system") is None
    assert uris.local_daemon_kind("qemu:///embed?root=/r") is None
    assert uris.local_daemon_kind("test:///default") is None


def test_driver_of() -> None:
    assert uris.driver_of("qemu+ssh://a@b/system") == "qemu"
    assert uris.driver_of("test:///default") == "test"


def test_describe_and_is_remote() -> None:
    assert uris.describe("qemu:///embed?root=/x") == "embedded QEMU driver"
    assert uris.describe("qemu+ssh://ana@box/system") == "QEMU/KVM system on box"
    assert uris.describe("qemu:///session") == "QEMU/KVM session"
    assert uris.is_remote("qemu+ssh://ana@box/system")
    assert not uris.is_remote("qemu:///system")
    assert not uris.is_remote("qemu+tcp://localhost/system")


def test_a_remembered_choice_stands_whatever_runs_now() -> None:
    no_daemon = facts()
    assert uris.choose_local(no_daemon, remembered=LocalMode.SESSION).uri == "qemu:///session"
    assert uris.choose_local(no_daemon, remembered=LocalMode.SYSTEM).uri == "qemu:///system"
    busy = facts(system_socket="/run/libvirt/libvirt-sock", system_writable=True)
    choice = uris.choose_local(busy, remembered=LocalMode.EMBEDDED)
    assert choice.mode is LocalMode.EMBEDDED and choice.uri.endswith("nido/embed")
    assert uris.choose_local(None, remembered=LocalMode.EMBEDDED, root="/r").uri == (
        "qemu:///embed?root=/r"
    )


def test_uses_remote_driver() -> None:
    assert uris.uses_remote_driver("qemu:///system")
    assert uris.uses_remote_driver("qemu+ssh://h/system")
    assert not uris.uses_remote_driver("qemu:///embed?root=/r")
    assert not uris.uses_remote_driver("test:///default")
    assert uris.uses_remote_driver("test+unix:///default?socket=/run/x")
