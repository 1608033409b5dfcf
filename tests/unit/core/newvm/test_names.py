"""VM names follow libvirt's rules; disk file names are safe anywhere."""

from __future__ import annotations

import pytest

from app.core.newvm.names import (
    MAX_NAME_BYTES,
    name_from_file,
    name_problem,
    sanitize_name,
    unique_name,
    volume_name,
)


@pytest.mark.parametrize(
    "name",
    ["web", "My VM", "ünïcødé 日本", "a <b> & 'c' \"d\"", "a:b", ".hidden", "x" * MAX_NAME_BYTES],
)
def test_valid_names(name: str) -> None:
    assert name_problem(name, {"other"}) == ""


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("", "Enter a name"),
        ("   ", "Enter a name"),
        ("a/b", "“/”"),
        ("a\nb", "control characters"),
        ("a\tb", "control characters"),
        (" lead", "begin or end"),
        ("trail ", "begin or end"),
        (".", "cannot be names"),
        ("..", "cannot be names"),
        ("x" * (MAX_NAME_BYTES + 1), "too long"),
        ("é" * (MAX_NAME_BYTES // 2 + 1), "too long"),  # bytes, not characters
        ("taken", "already a VM"),
    ],
)
def test_invalid_names(name: str, words: str) -> None:
    assert words in name_problem(name, {"taken"})


def test_unique_name() -> None:
    assert unique_name("debian11", set()) == "debian11"
    assert unique_name("debian11", {"debian11", "debian11-2"}) == "debian11-3"
    assert unique_name("  ", set()) == "vm"


def test_volume_names_are_plain_and_unique() -> None:
    assert volume_name("My VM", set()) == "My-VM.qcow2"
    assert volume_name("ünï <&> 'q'", set()) == "uni-q.qcow2"
    assert volume_name("日本", set()) == "vm.qcow2"
    assert volume_name("../../etc", set()) == "etc.qcow2"
    assert volume_name("web", {"web.qcow2", "web-2.qcow2"}) == "web-3.qcow2"
    assert volume_name("web", set(), "img") == "web.img"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Fedora-Server-39", "Fedora-Server-39"),
        ("  two   words\t", "two words"),
        ("a/b\nc\x00d", "a b c d"),  # libvirt refuses '/'; Nido refuses control characters
        ("...", ""),
        ("..x..", "x"),
        ("日本語 disc", "日本語 disc"),
        ("", ""),
    ],
)
def test_sanitize_name(text: str, expected: str) -> None:
    assert sanitize_name(text) == expected
    assert expected == "" or name_problem(expected) == ""


def test_a_sanitized_long_name_leaves_room_for_a_suffix() -> None:
    name = sanitize_name("ü" * MAX_NAME_BYTES)
    assert len(name.encode()) <= MAX_NAME_BYTES - 4 and set(name) == {"ü"}
    assert name_problem(unique_name(name, {name, *(f"{name}-{n}" for n in range(2, 99))})) == ""


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/isos/debian-12.5.0-amd64-netinst.iso", "debian-12.5.0-amd64-netinst"),
        ("/isos/Ubuntu 22.04.3", "Ubuntu 22.04.3"),  # '.3' is no extension
        ("/vms/Old Server.VMDK", "Old Server"),
        ("/vms/disk.qcow2", "disk"),
        ("/vms/.iso", ""),
        ("", ""),
    ],
)
def test_name_from_file(path: str, expected: str) -> None:
    assert name_from_file(path) == expected
