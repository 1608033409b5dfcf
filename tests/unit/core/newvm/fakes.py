"""Test-side wrappers of libvirt objects that fail on demand, for the rollback tests.

`Faults(fail_on="virDomain.create")` makes the first call of that method raise a
libvirtError; the wrapped connection hands out wrapped pools, volumes and domains, so a
failure can be injected at every libvirt call creation makes. `refresh_finds_files`
stands in for what a real dir pool's refresh does and the test driver's does not: it
registers the files that appeared in the pool's folder as volumes.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from typing import Any

import libvirt

from app.core.newvm.pool import volume_xml

_WRAPPED = (libvirt.virConnect, libvirt.virDomain, libvirt.virStoragePool, libvirt.virStorageVol)


class Faults:
    def __init__(self, *fail_on: str, refresh_finds_files: bool = False) -> None:
        self.fail_on = set(fail_on)
        self.calls: list[str] = []
        self.refresh_finds_files = refresh_finds_files

    def check(self, name: str) -> None:
        self.calls.append(name)
        if name in self.fail_on:
            self.fail_on.discard(name)  # once: the rollback may call it again
            libvirt.virResetLastError()  # else libvirtError takes an older error's words
            raise libvirt.libvirtError(f"injected failure in {name}")


class Faulty:
    """A libvirt object seen through `faults`."""

    def __init__(self, real: Any, faults: Faults) -> None:
        self._real = real
        self._faults = faults

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._real, name)
        if not callable(attr):
            return attr
        qualified = f"{type(self._real).__name__}.{name}"

        def call(*args: Any, **kwargs: Any) -> Any:
            self._faults.check(qualified)
            if qualified == "virStoragePool.refresh" and self._faults.refresh_finds_files:
                _register_files(self._real)
            result = attr(*args, **kwargs)
            if isinstance(result, _WRAPPED):
                return Faulty(result, self._faults)
            return result

        return call


def _register_files(pool: libvirt.virStoragePool) -> None:
    path = ET.fromstring(pool.XMLDesc(0)).findtext("./target/path") or ""
    known = set(pool.listVolumes())
    for name in sorted(set(os.listdir(path)) - known):
        pool.createXML(volume_xml(name, os.path.getsize(os.path.join(path, name))), 0)
