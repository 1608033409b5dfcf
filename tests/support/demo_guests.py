"""A handful of real test guests on This computer, in different states, for screenshots and
for trying Nido by hand:

    python -m tests.support.demo_guests up      # define and start them
    python -m tests.support.demo_guests down    # force them off and remove them

The XDG directories come from the environment, so point XDG_DATA_HOME somewhere private
to keep them away from your own VMs.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import libvirt

from app.core import uris
from app.core.connection import Connection, ConnectionSpec
from app.core.xml.domain import Domain
from tests.guest import (
    READY_MARKER,
    accelerator,
    cdrom_domain_xml,
    domain_xml,
    linux_guest,
    rescue_iso,
)
from tests.guest.libvirt_env import wait_for_text
from tests.support.local import no_daemon_prober
from tests.support.waiting import wait_connected

# name, title, state
DEMO = [
    ("busybox-web", "Web server", "running"),
    ("busybox-build", "Build box", "running"),
    ("grub-rescue", "Rescue disc", "running"),
    ("busybox-saved", "Saved for later", "saved"),
    ("busybox-old", "Old experiment", "off"),
]


def up(conn: Connection) -> None:
    virconn = conn.virconn
    logs = Path(tempfile.mkdtemp(prefix="demo"))
    waits = []
    for name, title, state in DEMO:
        if name.startswith("grub"):
            xml = cdrom_domain_xml(name, rescue_iso(), accelerator())
        else:
            log = logs / f"{name}.log"
            xml = domain_xml(name, linux_guest(), accelerator(), serial_log=log)
            if state != "off":
                waits.append(log)
        model = Domain.from_xml(xml)
        model.title = title
        virconn.defineXML(model.to_xml())
        dom = virconn.lookupByName(name)
        if state in ("running", "saved"):
            dom.create()
    for log in waits:
        wait_for_text(log, READY_MARKER, 120)
    for name, _title, state in DEMO:
        if state == "saved":
            virconn.lookupByName(name).managedSave(0)


def down(conn: Connection) -> None:
    for name, _title, _state in DEMO:
        try:
            dom = conn.virconn.lookupByName(name)
        except libvirt.libvirtError:
            continue
        if dom.isActive():
            dom.destroy()
        dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE)


def main(argv: list[str]) -> int:
    conn = Connection(ConnectionSpec(kind=uris.Kind.LOCAL), local_prober=no_daemon_prober)
    conn.connect()
    if not wait_connected(conn, 120):
        print(conn.reason, file=sys.stderr)
        return 1
    {"up": up, "down": down}[argv[0]](conn)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
