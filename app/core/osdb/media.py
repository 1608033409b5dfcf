"""Checks an install image before libosinfo reads it (so a missing file, a folder, a FIFO or
a file that is not ISO 9660 give a typed error, never a hang or a GLib message), and reads
distribution hints from the labels of an image osinfo-db does not know."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from app.core.errors import ErrorKind
from app.core.osdb.model import MediaError, MediaIdentity, MediaProblem

SECTOR = 2048
PVD_OFFSET = 16 * SECTOR  # the primary volume descriptor, ISO 9660 §8.4
_PVD_FIELDS = {  # offset, length inside the descriptor
    "system_id": (8, 32),
    "volume_id": (40, 32),
    "publisher_id": (318, 128),
    "application_id": (574, 128),
}


def check_image(path: str | os.PathLike[str]) -> tuple[str, MediaIdentity]:
    """The absolute path and the PVD labels of an ISO image, or a MediaError."""
    p = Path(path).expanduser().absolute()
    text = str(p)
    name = p.name or text
    try:
        st = p.stat()
    except (FileNotFoundError, NotADirectoryError):
        raise MediaError(
            MediaProblem.MISSING, text, f"“{name}” does not exist.", kind=ErrorKind.NOT_FOUND
        ) from None
    except PermissionError as exc:
        raise _unreadable(text, name, exc) from None
    except OSError as exc:
        raise _unreadable(text, name, exc) from None
    if stat.S_ISDIR(st.st_mode):
        raise MediaError(MediaProblem.NOT_A_FILE, text, f"“{name}” is a folder, not a disc image.")
    if not (stat.S_ISREG(st.st_mode) or stat.S_ISBLK(st.st_mode)):
        # Never open a FIFO or a socket: reading it could block forever.
        raise MediaError(MediaProblem.NOT_A_FILE, text, f"“{name}” is not a disc image file.")
    try:
        with open(p, "rb") as f:
            f.seek(PVD_OFFSET)
            pvd = f.read(SECTOR)
    except OSError as exc:
        raise _unreadable(text, name, exc) from None
    if len(pvd) < SECTOR or pvd[1:6] != b"CD001" or pvd[0] != 1:
        raise MediaError(
            MediaProblem.NOT_ISO,
            text,
            f"“{name}” is not an ISO disc image.",
            f"{text}: no ISO 9660 primary volume descriptor at byte {PVD_OFFSET} "
            f"(file size {st.st_size})",
        )
    return text, identity_from_pvd(pvd)


def _unreadable(path: str, name: str, exc: OSError) -> MediaError:
    denied = isinstance(exc, PermissionError)
    why = "permission denied" if denied else (exc.strerror or str(exc)).lower()
    return MediaError(
        MediaProblem.UNREADABLE,
        path,
        f"Nido cannot read “{name}”: {why}.",
        f"{path}: {exc!r}",
        ErrorKind.DENIED if denied else ErrorKind.INVALID_INPUT,
    )


def identity_from_pvd(pvd: bytes) -> MediaIdentity:
    def text(key: str) -> str:
        start, length = _PVD_FIELDS[key]
        return pvd[start : start + length].decode("latin-1").strip(" \0")

    return MediaIdentity(**{key: text(key) for key in _PVD_FIELDS})


# Words in a label that name a distribution, where the distribution's own id is not the
# word people put on discs. Everything else comes from the database's distro names.
_ALIASES = {
    "alma": "almalinux",
    "alpine": "alpinelinux",
    "arch": "archlinux",
    "centos": "centos",
    "windows": "win",
    "microsoft": "win",
    "redhat": "rhel",
    "rhel": "rhel",
    "void": "voidlinux",
    "pop": "popos",
}
# Distro ids too short or too common to trust as a word in a label.
_MIN_DISTRO_WORD = 4


def distro_hint(identity: MediaIdentity, distros: set[str]) -> str | None:
    """The distribution the labels name, from the database's distro ids: 'Debian 12.5.0
    amd64 n' -> 'debian'; publisher 'MICROSOFT CORPORATION' -> 'win'."""
    known = {d.casefold() for d in distros}
    for label in (
        identity.volume_id,
        identity.system_id,
        identity.application_id,
        identity.publisher_id,
    ):
        for word in re.findall(r"[a-z]+", label.casefold()):
            if word in known and len(word) >= _MIN_DISTRO_WORD:
                return word
            alias = _ALIASES.get(word)
            if alias is not None and alias in known:
                return alias
    return None


def family_hint(identity: MediaIdentity) -> str | None:
    """The OS family the labels name: system ID 'LINUX', or the word 'Linux' in the volume
    or application ID ('Linux Mint 21.3 Cinnamon 64-bit') -> 'linux'."""
    families = {"linux": "linux", "freebsd": "freebsd", "netbsd": "netbsd", "openbsd": "openbsd"}
    system = families.get(identity.system_id.casefold())
    if system is not None:
        return system
    words = re.findall(r"[a-z]+", f"{identity.volume_id} {identity.application_id}".casefold())
    return "linux" if "linux" in words else None
