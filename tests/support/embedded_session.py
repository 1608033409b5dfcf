"""One short-lived "Nido session" on This computer, run as its own process by tests that
look at what libvirt's embedded driver does between two starts of Nido.

    python -m tests.support.embedded_session start NAME SERIAL_LOG
    python -m tests.support.embedded_session list
    python -m tests.support.embedded_session remove NAME

Each prints one JSON line. The XDG directories come from the environment.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import libvirt

from app.core import uris
from app.core.connection import Connection, ConnectionSpec
from app.core.inventory import read_all
from tests.guest import READY_MARKER, accelerator, domain_xml, linux_guest
from tests.guest.libvirt_env import wait_for_text
from tests.support.local import no_daemon_prober
from tests.support.waiting import wait_connected


def main(argv: list[str]) -> int:
    conn = Connection(ConnectionSpec(kind=uris.Kind.LOCAL), local_prober=no_daemon_prober)
    conn.connect()
    if not wait_connected(conn, 120):
        print(json.dumps({"error": conn.reason}))
        return 1
    virconn = conn.virconn
    action = argv[0]
    if action == "start":
        name, serial = argv[1], argv[2]
        dom = virconn.defineXML(domain_xml(name, linux_guest(), accelerator(), serial_log=serial))
        dom.create()
        wait_for_text(Path(serial), READY_MARKER, 90)
        pid_file = Path(uris.embed_root()) / "run" / "qemu" / f"{name}.pid"
        print(json.dumps({"started": name, "pid_file": str(pid_file)}))
    elif action == "list":
        print(json.dumps({vm.name: vm.status.value for vm in read_all("x", virconn)}))
    elif action == "remove":
        dom = virconn.lookupByName(argv[1])
        if dom.isActive():
            dom.destroy()
        dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE)
        print(json.dumps({"removed": argv[1]}))
    # Leave without stopping anything, as Nido does when the person leaves guests running.
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
