"""The embedded QEMU driver's root directory: where it is, and the qemu.conf Nido writes
there the first time.

`qemu:///embed?root=DIR` runs libvirt's QEMU driver inside Nido, with no daemon. Two
defaults of that driver assume daemons or a system layout, so Nido's qemu.conf changes them:
- `stdio_handler = "file"`: QEMU's output goes to a log file under DIR instead of to
  virtlogd, which is a daemon.
- When Nido runs as root, QEMU runs as root too. Otherwise the driver would run QEMU as
  `libvirt-qemu`, which cannot reach DIR inside root's 0700 home, and would relabel
  (chown, and mark with xattrs) every image and kernel it opens.
A person's own edits to that file are kept: it is written only when missing.

:func:`open_shared` is the one way to open the driver: a process keeps one connection to
it for its whole life. libvirt 9.0 registers the QEMU driver again on every embedded open
and has room for about 16 (then "Too many drivers, cannot register QEMU"), so opening
anew on each reconnect would lock "This computer" out after a few. The driver's state is
per process anyway (one root per process).
"""

from __future__ import annotations

import grp
import os
import pwd
import threading
from pathlib import Path

import libvirt

CONF_NAME = "qemu.conf"


def qemu_conf_text(euid: int | None = None) -> str:
    euid = os.geteuid() if euid is None else euid
    lines = [
        "# Written by Nido for its embedded QEMU driver; edit freely, Nido will not overwrite it.",
        'stdio_handler = "file"',
    ]
    if euid == 0:
        user = pwd.getpwuid(euid).pw_name
        group = grp.getgrgid(os.getegid()).gr_name
        lines += [
            f'user = "{user}"',
            f'group = "{group}"',
            "dynamic_ownership = 0",
            "remember_owner = 0",
            # swtpm would run as 'tss', which cannot reach a root inside root's 0700 home:
            # TPM guests then fail to start with an empty swtpm_setup log.
            f'swtpm_user = "{user}"',
            f'swtpm_group = "{group}"',
        ]
    return "\n".join(lines) + "\n"


def prepare_root(root: Path) -> Path:
    """Make sure `root` exists and holds Nido's qemu.conf; returns the conf's path."""
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    conf = root / "etc" / CONF_NAME
    if not conf.exists():
        conf.parent.mkdir(parents=True, exist_ok=True)
        tmp = conf.with_suffix(".tmp")
        tmp.write_text(qemu_conf_text(), encoding="utf-8")
        os.replace(tmp, conf)
    else:
        _add_missing_settings(conf)
    return conf


def _add_missing_settings(conf: Path) -> None:
    """A file Nido wrote earlier gets settings added since; a person's own file is left
    alone (it does not start with Nido's header)."""
    text = conf.read_text(encoding="utf-8")
    if not text.startswith("# Written by Nido"):
        return
    have = {line.split("=", 1)[0].strip() for line in text.splitlines() if "=" in line}
    missing = [
        line
        for line in qemu_conf_text().splitlines()
        if "=" in line and line.split("=", 1)[0].strip() not in have
    ]
    if missing:
        conf.write_text(text.rstrip("\n") + "\n" + "\n".join(missing) + "\n", encoding="utf-8")


_shared_lock = threading.Lock()
_shared: dict[str, libvirt.virConnect] = {}


def open_shared(uri: str) -> libvirt.virConnect:
    """The process's connection to the embedded driver at ``uri`` (blocking: the first
    open starts the driver and may probe QEMU for seconds). Never close it: every user
    shares it, and it lives as long as the process."""
    with _shared_lock:
        conn = _shared.get(uri)
        if conn is None:
            conn = libvirt.open(uri)
            _shared[uri] = conn
        return conn


def is_shared(conn: libvirt.virConnect) -> bool:
    with _shared_lock:
        return any(c is conn for c in _shared.values())
