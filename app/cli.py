"""Command-line options, in virt-manager's spirit. Parsing only; no Qt, no libvirt."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from app import __version__


@dataclass(frozen=True)
class Options:
    connect: str | None
    show_domain_console: str | None
    debug: bool
    qt_args: list[str]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="nido",
        description="Nido: run several operating systems side by side on this PC.",
    )
    p.add_argument(
        "-c",
        "--connect",
        metavar="URI",
        help="connect to this libvirt URI (for example qemu:///system or "
        "qemu+ssh://user@host/system) in addition to the saved connections",
    )
    p.add_argument(
        "--show-domain-console",
        metavar="NAME",
        help="open the window of the VM with this name (on --connect's URI if given)",
    )
    p.add_argument("--debug", action="store_true", help="log everything, also to the terminal")
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return p


def parse(argv: list[str]) -> Options:
    ns, rest = parser().parse_known_args(argv)
    return Options(
        connect=ns.connect,
        show_domain_console=ns.show_domain_console,
        debug=ns.debug,
        qt_args=rest,
    )
