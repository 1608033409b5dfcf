"""VM names: libvirt's rules, a free default name (from the OS, or the image's file name),
and a file name for the disk.

What libvirt 9.0's QEMU driver does with names (checked by defining domains):
- refuses '/' ("name a/b cannot contain '/'") and a newline ("invalid char in name");
- fails half-way on "." and ".." (it builds paths such as ``<libDir>/snapshot/<name>``);
- fails when ``<name>.xml.new`` is longer than a file name may be (255 bytes);
- accepts spaces, tabs, unicode, ``<``, ``&``, quotes, ``:``, ``\\``, a leading dot.
Nido also refuses control characters (a tab or newline in a name is never meant, and XML
cannot carry most of them) and leading or trailing blanks, which a person cannot see.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Collection

__all__ = [
    "MAX_NAME_BYTES",
    "name_from_file",
    "name_problem",
    "sanitize_name",
    "unique_name",
    "volume_name",
]

# 255 bytes for a file name, less the longest suffix libvirt adds to a name in its own
# files: '.xml.new' (config), '-swtpm.sock' (TPM), '_VARS.fd' (NVRAM).
MAX_NAME_BYTES = 255 - len("-swtpm.sock")
_VOLUME_CHARS = re.compile(r"[^A-Za-z0-9._+-]+")
_IMAGE_SUFFIXES = (".iso", ".img", ".raw", ".qcow2", ".qcow", ".vmdk", ".vdi")


def name_problem(name: str, taken: Collection[str] = ()) -> str:
    """Why `name` cannot be a new VM's name, in a few words; '' if it can."""
    if not name.strip():
        return "Enter a name."
    if "/" in name:
        return "A name cannot contain “/”."
    if any(unicodedata.category(c) == "Cc" for c in name):
        return "A name cannot contain control characters such as tabs or line breaks."
    if name != name.strip():
        return "A name cannot begin or end with a space."
    if name in (".", ".."):
        return "“.” and “..” cannot be names."
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        return f"The name is too long (at most {MAX_NAME_BYTES} bytes)."
    if name in taken:
        return f"There is already a VM called “{name}”."
    return ""


def sanitize_name(text: str) -> str:
    """`text` made into a name `name_problem` accepts (before uniqueness): '/' and control
    characters become spaces, runs of blanks one space, no blanks or dots at either end,
    cut to `MAX_NAME_BYTES` (less room for a '-NN' suffix) on a character boundary; '' if
    nothing is left."""
    cleaned = "".join(
        " " if c == "/" or unicodedata.category(c) in ("Cc", "Zl", "Zp") else c for c in text
    )
    name = " ".join(cleaned.split()).strip(". ")
    limit = MAX_NAME_BYTES - 4
    while len(name.encode("utf-8")) > limit:
        name = name[:-1].rstrip(". ")
    return name


def name_from_file(path: str) -> str:
    """A VM name from an install image's or a disk's file name: 'Fedora-Server-39' from
    ``/isos/Fedora-Server-39.iso``; '' when the path gives none."""
    base = os.path.basename(path.rstrip("/"))
    suffix = next((x for x in _IMAGE_SUFFIXES if base.casefold().endswith(x)), "")
    return sanitize_name(base[: len(base) - len(suffix)])


def unique_name(base: str, taken: Collection[str]) -> str:
    """`base`, or `base-2`, `base-3`... whichever is free."""
    base = base.strip() or "vm"
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def volume_name(vm_name: str, taken: Collection[str], ext: str = "qcow2") -> str:
    """A file name for the VM's disk: ASCII letters, digits and ``._+-`` only (so it is
    safe in any shell and any pool), unique among `taken`."""
    ascii_name = unicodedata.normalize("NFKD", vm_name).encode("ascii", "ignore").decode()
    stem = _VOLUME_CHARS.sub("-", ascii_name).strip(".-")[:60] or "vm"
    candidate = f"{stem}.{ext}"
    n = 2
    while candidate in taken:
        candidate = f"{stem}-{n}.{ext}"
        n += 1
    return candidate
