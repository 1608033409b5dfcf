"""The ``<os>`` section: machine type, firmware, direct kernel boot and boot order."""

from __future__ import annotations

import re

from .base import XMLObject, XMLProperty
from .kinds import INT, bool_yes_no
from .layout import insert_ordered, remove_element
from .paths import XPath, compile_path, prune, read, walk, write
from .tree import Element

__all__ = ["DomainOS"]

_FEATURE_NAME = re.compile(r"[A-Za-z0-9_.-]+")


class DomainOS(XMLObject):
    """``<os firmware='efi'><type arch='x86_64' machine='q35'>hvm</type>...</os>``."""

    TAG = "os"

    firmware = XMLProperty("./@firmware")
    type = XMLProperty("./type")
    arch = XMLProperty("./type/@arch")
    machine = XMLProperty("./type/@machine")
    loader = XMLProperty("./loader")
    loader_readonly = XMLProperty("./loader/@readonly", bool_yes_no)
    loader_type = XMLProperty("./loader/@type")
    loader_secure = XMLProperty("./loader/@secure", bool_yes_no)
    nvram = XMLProperty("./nvram")
    nvram_template = XMLProperty("./nvram/@template")
    kernel = XMLProperty("./kernel")
    initrd = XMLProperty("./initrd")
    cmdline = XMLProperty("./cmdline")
    dtb = XMLProperty("./dtb")
    bootmenu = XMLProperty("./bootmenu/@enable", bool_yes_no, prune=True)
    bootmenu_timeout = XMLProperty("./bootmenu/@timeout", INT)
    smbios_mode = XMLProperty("./smbios/@mode", prune=True)
    bios_useserial = XMLProperty("./bios/@useserial", bool_yes_no, prune=True)

    @property
    def boot_devices(self) -> list[str]:
        """The BIOS boot order as ``<boot dev=.../>`` entries: 'hd', 'cdrom', 'network'..."""
        elem = self._element()
        if elem is None:
            return []
        return [b.get("dev") or "" for b in elem.elements("boot")]

    @boot_devices.setter
    def boot_devices(self, devices: list[str] | None) -> None:
        wanted = list(devices or [])
        if any(not isinstance(d, str) or not d for d in wanted):
            raise TypeError("boot devices are non-empty strings")
        if self.boot_devices == wanted:
            return
        elem = self._element(create=bool(wanted))
        if elem is None:
            return
        for old in list(elem.elements("boot")):
            remove_element(old)
        for dev in wanted:
            insert_ordered(elem, Element("boot", {"dev": dev}))
        if not wanted:
            self._cleanup()

    def firmware_feature(self, name: str) -> bool | None:
        """``<firmware><feature name=... enabled='yes'/>`` (e.g. 'secure-boot'), or None."""
        elem = self._element()
        if elem is None:
            return None
        value = read(elem, _feature_path(name))
        return None if value is None else bool_yes_no.parse(value)

    def set_firmware_feature(self, name: str, enabled: bool | None) -> None:
        """Require (True) or refuse (False) a firmware feature; None drops the wish."""
        path = _feature_path(name)
        if enabled is not None:
            elem = self._element(create=True)
            assert elem is not None
            write(elem, path, bool_yes_no.format(enabled))
            return
        elem = self._element()
        chain = None if elem is None else walk(elem, path.steps)
        if elem is None or chain is None:
            return
        remove_element(chain.pop())
        prune(chain, path.steps, force=True)
        self._cleanup()


def _feature_path(name: str) -> XPath:
    if not _FEATURE_NAME.fullmatch(name):
        raise ValueError(f"bad firmware feature name {name!r}")
    return compile_path(f"./firmware/feature[@name='{name}']/@enabled")
