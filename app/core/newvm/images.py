"""Disk images through qemu-img: inspect one, create a thin qcow2, copy or convert with
progress. Blocking; the creation engine runs them on its worker.

``qemu-img convert -p`` writes its progress as ``(12.34/100%)`` runs separated by carriage
returns, also when its output is a pipe; `parse_progress` reads them. A cancelled
conversion is stopped (SIGTERM, then SIGKILL) and its partial output is the caller's to
remove.
"""

from __future__ import annotations

import json
import os
import re
import select
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass

from app.core.errors import ErrorKind, NidoError

__all__ = [
    "CONVERTED_FORMATS",
    "IMPORT_FORMATS",
    "Cancelled",
    "ImageInfo",
    "QemuImgError",
    "convert_image",
    "create_qcow2",
    "inspect_image",
    "parse_progress",
]

IMPORT_FORMATS = ("qcow2", "raw", "vmdk", "vdi")
CONVERTED_FORMATS = ("vmdk", "vdi")  # never used in place: converted to qcow2
_PROGRESS = re.compile(r"\((\d+(?:\.\d+)?)/100%\)")
_INSPECT_TIMEOUT = 30.0


class QemuImgError(NidoError):
    """qemu-img failed or is missing."""


class Cancelled(NidoError):
    """The person cancelled; `create()` turns it into its own message."""

    def __init__(self) -> None:
        super().__init__("Cancelled.", kind=ErrorKind.CANCELLED)


@dataclass(frozen=True)
class ImageInfo:
    path: str
    format: str
    virtual_size: int
    actual_size: int
    backing_file: str = ""
    looks_like_iso: bool = False


def qemu_img() -> str:
    path = shutil.which("qemu-img")
    if path is None:
        raise QemuImgError(
            "qemu-img is not installed.",
            "qemu-img was not found on PATH (Debian package qemu-utils).",
            ErrorKind.UNSUPPORTED,
        )
    return path


def _looks_like_iso(path: str) -> bool:
    try:
        with open(path, "rb") as f:
            f.seek(16 * 2048 + 1)
            return f.read(5) == b"CD001"
    except OSError:
        return False


_cache: dict[tuple[str, int, int], ImageInfo] = {}


def inspect_image(path: str) -> ImageInfo:
    """Format and sizes of a disk image (``qemu-img info``; ~20 ms, cached by mtime)."""
    st = os.stat(path)
    key = (os.path.abspath(path), st.st_mtime_ns, st.st_size)
    if key in _cache:
        return _cache[key]
    proc = subprocess.run(
        [qemu_img(), "info", "--output=json", "-U", path],
        capture_output=True,
        text=True,
        timeout=_INSPECT_TIMEOUT,
    )
    if proc.returncode != 0:
        raise QemuImgError(
            "The file is not a disk image qemu-img can read.",
            proc.stderr.strip(),
            ErrorKind.INVALID_INPUT,
        )
    data = json.loads(proc.stdout)
    info = ImageInfo(
        path=os.path.abspath(path),
        format=str(data.get("format", "")),
        virtual_size=int(data.get("virtual-size", 0)),
        actual_size=int(data.get("actual-size", 0)),
        backing_file=str(data.get("full-backing-filename") or data.get("backing-filename") or ""),
        looks_like_iso=_looks_like_iso(path),
    )
    _cache[key] = info
    return info


def create_qcow2(path: str, size_bytes: int) -> None:
    """A thin qcow2 of `size_bytes` (for connections without a storage driver)."""
    proc = subprocess.run(
        [qemu_img(), "create", "-q", "-f", "qcow2", path, str(size_bytes)],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise QemuImgError("qemu-img could not create the disk image.", proc.stderr.strip())


def parse_progress(chunk: str) -> float | None:
    """The last percentage in a run of ``qemu-img -p`` output, as 0..1; None if none."""
    found = _PROGRESS.findall(chunk)
    return float(found[-1]) / 100.0 if found else None


def convert_image(
    src: str,
    dest: str,
    out_format: str,
    progress: Callable[[float], None],
    cancelled: Callable[[], bool],
    *,
    src_format: str | None = None,
) -> None:
    """``qemu-img convert -p`` with progress (0..1) and cancellation.

    Raises Cancelled when `cancelled()` turned true, QemuImgError when qemu-img failed;
    either way `dest` may exist partially and the caller removes it.
    """
    cmd = [qemu_img(), "convert", "-p"]
    if src_format:
        cmd += ["-f", src_format]
    cmd += ["-O", out_format, src, dest]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    tail = ""
    try:
        while True:
            if cancelled():
                _stop(proc)
                raise Cancelled()
            ready, _, _ = select.select([proc.stdout], [], [], 0.1)
            if ready:
                data = os.read(proc.stdout.fileno(), 4096)
                if not data:
                    break
                tail = (tail + data.decode(errors="replace"))[-200:]
                fraction = parse_progress(tail)
                if fraction is not None:
                    progress(fraction)
        err = proc.stderr.read().decode(errors="replace").strip()
        if proc.wait() != 0:
            raise QemuImgError("qemu-img could not convert the disk image.", err)
    finally:
        if proc.poll() is None:
            _stop(proc)
        proc.stdout.close()
        proc.stderr.close()


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    deadline = time.monotonic() + 5.0
    while proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    if proc.poll() is None:
        proc.kill()
        proc.wait()
