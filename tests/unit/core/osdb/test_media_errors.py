"""Bad install images give typed errors with a sentence for the person, never a hang, a
GLib error or a traceback."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.errors import ErrorKind, NidoError
from app.core.osdb import MediaError, MediaProblem, OSDatabase


def _error(db: OSDatabase, path: Path | str) -> MediaError:
    with pytest.raises(MediaError) as info:
        db.detect(path)
    assert isinstance(info.value, NidoError)
    return info.value


def test_missing_file(db: OSDatabase, tmp_path: Path) -> None:
    err = _error(db, tmp_path / "gone.iso")
    assert err.problem is MediaProblem.MISSING
    assert err.kind is ErrorKind.NOT_FOUND
    assert err.summary == "“gone.iso” does not exist."
    assert err.path == str(tmp_path / "gone.iso")
    assert err.report().summary == err.summary


def test_missing_parent_folder(db: OSDatabase, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    assert _error(db, tmp_path / "file" / "x.iso").problem is MediaProblem.MISSING


def test_folder(db: OSDatabase, tmp_path: Path) -> None:
    err = _error(db, tmp_path)
    assert err.problem is MediaProblem.NOT_A_FILE
    assert err.kind is ErrorKind.INVALID_INPUT
    assert "is a folder" in err.summary


def test_fifo_is_refused_without_blocking(db: OSDatabase, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.iso"
    os.mkfifo(fifo)
    err = _error(db, fifo)
    assert err.problem is MediaProblem.NOT_A_FILE
    assert err.summary == "“pipe.iso” is not a disc image file."


@pytest.mark.parametrize(
    "content",
    [b"", b"hello, I am a text file\n" * 100, bytes(range(256)) * 200],
    ids=["empty", "text", "binary"],
)
def test_not_an_iso(db: OSDatabase, tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "thing.iso"
    path.write_bytes(content)
    err = _error(db, path)
    assert err.problem is MediaProblem.NOT_ISO
    assert err.kind is ErrorKind.INVALID_INPUT
    assert err.summary == "“thing.iso” is not an ISO disc image."
    assert "no ISO 9660 primary volume descriptor" in err.details


def test_truncated_iso(db: OSDatabase, isos: dict[str, Path], tmp_path: Path) -> None:
    path = tmp_path / "cut.iso"
    path.write_bytes(isos["debian11"].read_bytes()[:20000])
    assert _error(db, path).problem is MediaProblem.NOT_ISO


def test_iso_signature_with_nothing_behind_it(db: OSDatabase, tmp_path: Path) -> None:
    # Passes Nido's own check; libosinfo then refuses it.
    data = bytearray(40000)
    data[0x8000:0x8007] = b"\x01CD001\x01"
    path = tmp_path / "hollow.iso"
    path.write_bytes(bytes(data))
    err = _error(db, path)
    assert err.problem is MediaProblem.NOT_ISO
    assert err.summary == "“hollow.iso” is not a usable ISO disc image."
    assert "libosinfo: Insufficient metadata" in err.details


def test_iso_without_boot_record(db: OSDatabase, isos: dict[str, Path]) -> None:
    err = _error(db, isos["not-bootable"])
    assert err.problem is MediaProblem.NOT_BOOTABLE
    assert err.kind is ErrorKind.INVALID_INPUT
    assert err.summary == "“not-bootable.iso” is a data disc: a computer cannot start from it."
    assert "Install media is not bootable" in err.details


@contextlib.contextmanager
def _unable_to_read(path: Path) -> Iterator[None]:
    """Make `path` unreadable for this process. Root reads any file, so as root the process
    briefly takes the nobody user's identity (its saved user id stays root)."""
    path.chmod(0)
    if os.geteuid() != 0:
        yield
        return
    os.setegid(65534)
    os.seteuid(65534)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)


def test_unreadable_file(db: OSDatabase, isos: dict[str, Path], tmp_path: Path) -> None:
    path = tmp_path / "secret.iso"
    path.write_bytes(isos["debian11"].read_bytes())
    with _unable_to_read(path), pytest.raises(MediaError) as info:
        db.detect(path)
    err = info.value
    assert err.problem is MediaProblem.UNREADABLE
    assert err.kind is ErrorKind.DENIED
    assert err.summary == "Nido cannot read “secret.iso”: permission denied."
