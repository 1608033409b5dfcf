"""Facts about disk image files that Nido needs without running qemu-img: the backing
chain of a qcow2 image, read from its header (enough to know which images other images
depend on, so that Delete never removes the base of someone else's linked clone)."""

from __future__ import annotations

import os
import struct

QCOW2_MAGIC = b"QFI\xfb"
MAX_CHAIN = 64  # a loop or a pathological chain stops here


def backing_file(path: str) -> str | None:
    """The absolute path of a qcow2 image's backing file, or None (not qcow2, no backing
    file, or unreadable)."""
    try:
        with open(path, "rb") as f:
            header = f.read(20)
            if len(header) < 20 or header[:4] != QCOW2_MAGIC:
                return None
            offset, size = struct.unpack(">QI", header[8:20])
            if offset == 0 or size == 0 or size > 4096:
                return None
            f.seek(offset)
            raw = f.read(size)
            if len(raw) != size:
                return None  # the header points past the end of the file
            name = raw.decode("utf-8", "replace")
    except OSError:
        return None
    if "://" in name or name.startswith("json:"):
        return None  # a network backing store: not a local file
    return os.path.normpath(os.path.join(os.path.dirname(path), name))


def backing_chain(path: str) -> list[str]:
    """Every image below `path` in its backing chain, nearest first, as real paths."""
    chain: list[str] = []
    current = backing_file(path)
    while current is not None and len(chain) < MAX_CHAIN:
        real = os.path.realpath(current)
        if real in chain:
            break
        chain.append(real)
        current = backing_file(current)
    return chain
