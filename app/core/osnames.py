"""A short OS name for the VM list, from the libosinfo id that virt-install, GNOME Boxes and
Nido record in a domain's <metadata>.

This is the quick path used while listing VMs: it never loads the OS database. The
new-VM wizard's catalogue (osdb) gives the full names.
"""

from __future__ import annotations

import urllib.parse

from app.core.xml.domain import Domain
from app.core.xml.metadata import local_name

LIBOSINFO_NS = "http://libosinfo.org/xmlns/libvirt/domain/1.0"

_VENDORS = {
    "debian": "Debian",
    "ubuntu": "Ubuntu",
    "fedora": "Fedora",
    "fedoraproject": "Fedora",
    "centos": "CentOS",
    "rhel": "RHEL",
    "opensuse": "openSUSE",
    "suse": "SUSE",
    "archlinux": "Arch Linux",
    "alpinelinux": "Alpine",
    "freebsd": "FreeBSD",
    "openbsd": "OpenBSD",
    "netbsd": "NetBSD",
    "win": "Windows",
    "windows": "Windows",
    "mageia": "Mageia",
    "gentoo": "Gentoo",
    "linuxmint": "Linux Mint",
    "rocky": "Rocky Linux",
    "almalinux": "AlmaLinux",
    "nixos": "NixOS",
    "haiku": "Haiku",
    "msdos": "MS-DOS",
    "linux": "Linux",
    "solaris": "Solaris",
}


def os_label_from_id(os_id: str) -> str:
    """'http://debian.org/debian/12' -> 'Debian 12'; '' when there is nothing to say."""
    if not os_id:
        return ""
    parsed = urllib.parse.urlsplit(os_id)
    parts = [p for p in parsed.path.split("/") if p]
    if not parts:
        return ""
    family = parts[0].lower()
    name = _VENDORS.get(family) or family.capitalize()
    version = " ".join(parts[1:])
    if family == "linux" and version:
        # libosinfo's generic Linux entries: http://libosinfo.org/linux/2022
        return f"Linux ({version})"
    return f"{name} {version}".strip()


def os_label(model: Domain) -> str:
    """The short OS name recorded in a domain's libosinfo metadata, if any."""
    meta = model.metadata(LIBOSINFO_NS, "libosinfo", "libosinfo").node
    if meta is None:
        return ""
    for child in meta.elements():
        if local_name(child) == "os":
            return os_label_from_id(child.attrs.get("id", ""))
    return ""
