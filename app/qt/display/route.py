"""How to reach a guest's display server on another computer: the decision, no I/O.

libvirt can hand over a display's socket only on a local connection. For a remote host
Nido reads where the guest's VNC or SPICE server listens (its live ``<graphics>``, through
the XML model) and picks one of:

- **TCP** straight to the server, when it listens on an address this computer can reach
  (a wildcard listen means the host's own name) and the connection is not over SSH;
- **an SSH tunnel** (``ssh -W listen:port host``) for ``qemu+ssh://`` connections, so the
  display travels the way libvirt itself does, to whatever address the server listens on
  over there, loopback included;
- **refusal** with the reason and what to change: a server on a UNIX socket or on no
  address at all, SPICE with TLS only, a loopback listen behind a TCP or TLS connection.

The module is pure Python (no Qt, no libvirt) so that every branch is a unit test.
"""

from __future__ import annotations

import ipaddress
import urllib.parse
from dataclasses import dataclass, field

from app.core.errors import ErrorKind, NidoError
from app.core.xml import Graphics

#: Transports that reach the host through OpenSSH-compatible SSH.
SSH_TRANSPORTS = frozenset({"ssh", "libssh", "libssh2"})
#: Names that mean "this very computer" in a URI.
LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "127.0.0.1", "::1"})
#: QEMU's default VNC/SPICE listen address when the XML names none (qemu.conf vnc_listen).
DEFAULT_LISTEN = "127.0.0.1"
#: An SSH connection that does not come up by then fails (ssh's ConnectTimeout, seconds):
#: sooner than the opener stops waiting (tunnel.CONNECT_TIMEOUT_S), so ssh says why.
SSH_CONNECT_TIMEOUT_S = 8

TCP = "tcp"
SSH = "ssh"


class NoDisplay(NidoError):
    """The guest has no display Nido can show (none at all, or an unknown kind)."""

    def __init__(self, summary: str, details: str = "") -> None:
        super().__init__(summary, details, ErrorKind.UNSUPPORTED)


class RemoteDisplayRefused(NoDisplay):
    """The display exists but cannot be reached from this computer, and why."""


@dataclass(frozen=True)
class SshTarget:
    """Who and where ``ssh`` logs in, from the libvirt URI."""

    host: str
    user: str | None = None
    port: int | None = None
    #: ``keyfile=``: an identity file (``ssh -i``).
    keyfile: str | None = None
    #: ``no_verify=1``: do not check the host key (as libvirt's own ssh transport).
    no_verify: bool = False
    #: ``command=``: the ssh program to run (libvirt's parameter of the same name).
    command: str = "ssh"


@dataclass(frozen=True)
class Route:
    """How to reach one display server: TCP to ``host``:``port``, or an SSH tunnel to
    ``host``:``port`` as seen from ``ssh.host``."""

    kind: str
    host: str
    port: int
    ssh: SshTarget | None = None
    #: The ssh command line (for SSH routes).
    argv: tuple[str, ...] = field(default=())


def _is_loopback(address: str) -> bool:
    if address in LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def _is_wildcard(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_unspecified
    except ValueError:
        return False


def ssh_target(uri: str) -> SshTarget:
    """The SSH login of a ``qemu+ssh://[user@]host[:port]/...`` URI and the query
    parameters of libvirt's ssh transport that Nido honours."""
    parsed = urllib.parse.urlsplit(uri)
    if not parsed.hostname:
        raise ValueError(f"{uri} names no host")
    query = dict(urllib.parse.parse_qsl(parsed.query))
    return SshTarget(
        host=parsed.hostname,
        user=urllib.parse.unquote(parsed.username) if parsed.username else None,
        port=parsed.port,
        keyfile=query.get("keyfile") or None,
        no_verify=query.get("no_verify", "0") not in ("", "0"),
        command=query.get("command") or "ssh",
    )


def ssh_argv(target: SshTarget, host: str, port: int) -> tuple[str, ...]:
    """``ssh -W host:port`` through ``target``: no terminal, no prompts (BatchMode, as a
    window cannot answer them), no escape character, the login and key libvirt uses."""
    forward = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    argv = [target.command, "-T", "-e", "none", "-o", "BatchMode=yes"]
    argv += ["-o", f"ConnectTimeout={SSH_CONNECT_TIMEOUT_S}"]
    if target.no_verify:
        argv += ["-o", "StrictHostKeyChecking=no"]
    if target.keyfile:
        argv += ["-i", target.keyfile]
    if target.port is not None:
        argv += ["-p", str(target.port)]
    if target.user:
        argv += ["-l", target.user]
    argv += ["-W", forward, "--", target.host]
    return tuple(argv)


def plan_route(uri: str, graphics: Graphics) -> Route:
    """How to reach ``graphics`` (a device of the running guest's live XML) on the host
    of the libvirt connection ``uri``. Raises :class:`RemoteDisplayRefused`."""
    parsed = urllib.parse.urlsplit(uri)
    transport = parsed.scheme.partition("+")[2]
    kind = (graphics.type or "").upper()
    where = f"on {parsed.hostname}" if parsed.hostname else "on that host"
    listen_type = graphics.listen_type
    if listen_type == "socket" or graphics.listen_socket:
        raise RemoteDisplayRefused(
            f"This VM's {kind} display listens only on a file socket {where}, which Nido "
            "cannot reach from another computer. Give the display a listen address "
            "(127.0.0.1 is enough over SSH) in the VM's settings.",
            f"<graphics type='{graphics.type}'> <listen type='socket'"
            f" socket='{graphics.listen_socket or ''}'/> on {uri}",
        )
    if listen_type == "none":
        raise RemoteDisplayRefused(
            f"This VM's {kind} display listens on no network address, so Nido cannot show "
            f"it from another computer. Give the display a listen address (127.0.0.1 is "
            "enough over SSH) in the VM's settings.",
            f"<graphics type='{graphics.type}'> <listen type='none'/> on {uri}",
        )
    port = graphics.port
    if port is None or port <= 0:
        if graphics.type == "spice" and graphics.tls_port:
            raise RemoteDisplayRefused(
                "This VM's SPICE display accepts only TLS connections, which Nido does not "
                "support yet. Give it a plain port in the VM's settings.",
                f"tlsPort={graphics.tls_port}, no port, on {uri}",
            )
        if graphics.autoport:
            # libvirt picks the port when QEMU starts: not running (yet, or any more).
            raise NidoError(
                f"This VM's {kind} display has no port yet; is the VM running?",
                f"<graphics type='{graphics.type}' autoport='yes' port='{port}'> on {uri}",
                ErrorKind.INVALID_STATE,
            )
        raise RemoteDisplayRefused(
            f"This VM's {kind} display has no network port {where}.",
            f"<graphics type='{graphics.type}' port='{port}'> in the live XML on {uri}",
        )
    listen = graphics.listen_host or DEFAULT_LISTEN
    if transport in SSH_TRANSPORTS:
        target = ssh_target(uri)
        # Seen from the far side, a wildcard listen answers on its loopback too.
        if _is_wildcard(listen):
            listen = "::1" if ":" in listen else "127.0.0.1"
        return Route(SSH, listen, port, target, ssh_argv(target, listen, port))
    host = parsed.hostname
    if not host:
        raise RemoteDisplayRefused(
            "Nido cannot tell which computer this VM's display is on.", f"no host in {uri}"
        )
    if _is_wildcard(listen):
        return Route(TCP, host, port)
    if _is_loopback(listen) and not _is_loopback(host):
        raise RemoteDisplayRefused(
            f"This VM's {kind} display listens only to the computer it runs on ({listen}), "
            f"so it cannot be reached over this {transport.upper() or 'TLS'} connection. "
            "Connect to the host over SSH, or give the display a listen address reachable "
            "from here.",
            f"<listen address='{listen}'/>, port {port}, on {uri}",
        )
    return Route(TCP, listen, port)
