"""What the New-VM wizard learns about the host as it opens: libvirt's facts, and whether
Nido can show SPICE displays here (which decides the new VM's display)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from app.core import newvm
from app.core.newvm import HostFacts
from app.qt.display import spice_gi

if TYPE_CHECKING:
    import libvirt

    from app.core.accel import Accelerator


def host_facts(virconn: libvirt.virConnect, accelerator: Accelerator | None) -> HostFacts:
    """What the host offers, and whether Nido can show SPICE displays here, which decides
    the new VM's display (blocking: libvirt calls, and GObject introspection loads)."""
    host = newvm.gather_host_facts(virconn, accelerator=accelerator)
    return dataclasses.replace(host, spice_display=spice_gi.available())
