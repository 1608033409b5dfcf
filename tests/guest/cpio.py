"""A tiny writer for the ``newc`` cpio format that Linux unpacks as an initramfs.

Writing the archive in Python needs no root (device nodes are just header fields), no
host ``cpio`` tool, and gives byte-identical output for identical input: every timestamp
is zero and entries keep the order they were added in.
"""

from __future__ import annotations

import gzip
import stat
from dataclasses import dataclass, field
from pathlib import Path

_MAGIC = b"070701"
_TRAILER = "TRAILER!!!"


@dataclass
class _Entry:
    name: str
    mode: int
    data: bytes = b""
    rdev: tuple[int, int] = (0, 0)


@dataclass
class Archive:
    """An initramfs under construction. Parent directories must be added before children."""

    entries: list[_Entry] = field(default_factory=list)

    def directory(self, name: str, mode: int = 0o755) -> None:
        self.entries.append(_Entry(name.strip("/"), stat.S_IFDIR | mode))

    def file(self, name: str, data: bytes, mode: int = 0o644) -> None:
        self.entries.append(_Entry(name.strip("/"), stat.S_IFREG | mode, data))

    def symlink(self, name: str, target: str) -> None:
        self.entries.append(_Entry(name.strip("/"), stat.S_IFLNK | 0o777, target.encode()))

    def char_device(self, name: str, major: int, minor: int, mode: int = 0o600) -> None:
        self.entries.append(_Entry(name.strip("/"), stat.S_IFCHR | mode, rdev=(major, minor)))

    def to_bytes(self) -> bytes:
        out = bytearray()
        for ino, entry in enumerate([*self.entries, _Entry(_TRAILER, 0)], start=1):
            name = entry.name.encode() + b"\0"
            fields = (
                ino,
                entry.mode,
                0,  # uid
                0,  # gid
                2 if stat.S_ISDIR(entry.mode) else 1,  # nlink
                0,  # mtime
                len(entry.data),
                0,  # dev major
                0,  # dev minor
                entry.rdev[0],
                entry.rdev[1],
                len(name),
                0,  # check
            )
            out += _MAGIC + b"".join(b"%08X" % f for f in fields) + name
            out += b"\0" * (-len(out) % 4)
            out += entry.data
            out += b"\0" * (-len(out) % 4)
        out += b"\0" * (-len(out) % 512)
        return bytes(out)

    def write_gzip(self, path: Path) -> None:
        """Write the archive gzip-compressed (the kernel's default initramfs codec)."""
        path.write_bytes(gzip.compress(self.to_bytes(), compresslevel=9, mtime=0))
