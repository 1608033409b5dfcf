"""Connection URIs: the presets a person picks from, the choice behind "This computer", and
how local daemon URIs must be spelled once the embedded driver lives in this process.

Checked on libvirt 9.0: after `qemu:///embed?root=...` has been opened in a process, the
in-process QEMU driver claims every plain `qemu:///...` URI ("Missing URI parameter
'root'"), and `qemu+unix:///system` without a socket is refused too. A daemon is still
reachable with an explicit socket, `qemu+unix:///system?socket=/run/libvirt/libvirt-sock`,
and remote transports such as `qemu+ssh://` are unaffected.
"""

from __future__ import annotations

import enum
import os
import tempfile
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from app.core.embedded import prepare_root
from app.core.errors import ErrorKind, NidoError

# UNIX socket paths are limited to 107 bytes. The longest that libvirt makes below the root
# is a guest-agent channel:
# <root>/lib/qemu/channel/target/domain-<id>-<name up to 20>/org.qemu.guest_agent.0
EMBED_ROOT_MAX = 107 - len(
    "/lib/qemu/channel/target/domain-9999-12345678901234567890/org.qemu.guest_agent.0"
)


class Kind(enum.Enum):
    """The presets of the Add Connection dialog."""

    LOCAL = "local"  # "This computer": system, session or embedded, chosen at each start
    SESSION = "session"
    SYSTEM = "system"
    SSH = "ssh"
    CUSTOM = "custom"


KIND_LABELS: dict[Kind, str] = {
    Kind.LOCAL: "This computer",
    Kind.SESSION: "User session (qemu:///session)",
    Kind.SYSTEM: "System (qemu:///system)",
    Kind.SSH: "Remote host over SSH",
    Kind.CUSTOM: "Custom URI",
}


class LocalMode(enum.Enum):
    SYSTEM = "system"
    SESSION = "session"
    EMBEDDED = "embedded"


@dataclass(frozen=True)
class LocalFacts:
    """What the probe found out about this computer's libvirt daemons."""

    is_root: bool
    system_socket: str | None  # a daemon socket that answered, or None
    system_writable: bool  # the answer came on a read-write connection
    session_socket: str | None
    embed_root: str


@dataclass(frozen=True)
class LocalChoice:
    uri: str
    mode: LocalMode
    explanation: str


def preset_uri(kind: Kind, *, user: str = "", host: str = "", custom: str = "") -> str:
    """The URI a preset stands for. LOCAL has none until `choose_local` runs."""
    if kind is Kind.SESSION:
        return "qemu:///session"
    if kind is Kind.SYSTEM:
        return "qemu:///system"
    if kind is Kind.SSH:
        if not host:
            raise ValueError("a remote host needs a host name")
        who = f"{urllib.parse.quote(user)}@" if user else ""
        return f"qemu+ssh://{who}{host}/system"
    if kind is Kind.CUSTOM:
        if "://" not in custom:
            raise ValueError("a URI looks like driver[+transport]://[user@][host]/path")
        return custom.strip()
    raise ValueError("This computer has no fixed URI")


def embed_uri(root: str) -> str:
    return f"qemu:///embed?root={urllib.parse.quote(root, safe='/')}"


def is_embed_uri(uri: str) -> bool:
    parsed = urllib.parse.urlsplit(uri)
    return parsed.scheme == "qemu" and parsed.path == "/embed"


def choose_local(
    facts: LocalFacts | None, *, remembered: LocalMode | None = None, root: str = ""
) -> LocalChoice:
    """The one function that decides what "This computer" connects to.

    The first time: a system daemon the person may use read-write wins (its VMs are the
    ones virt-manager shows, and it offers bridged and NAT networks); otherwise a session
    daemon that is already running, so VMs made with GNOME Boxes or virsh appear;
    otherwise the QEMU driver runs embedded in Nido itself, with no daemon at all.

    After that, the `remembered` choice stands, so the list does not change with whether
    some daemon happens to be running when Nido starts (a session daemon quits when idle,
    for example). A remembered daemon that is down shows as disconnected until it is back.
    `facts` may be None when `remembered` is EMBEDDED; `root` is then the embedded root.
    """
    if remembered is LocalMode.SYSTEM:
        return LocalChoice("qemu:///system", LocalMode.SYSTEM, "Using the system libvirt daemon.")
    if remembered is LocalMode.SESSION:
        return LocalChoice(
            "qemu:///session", LocalMode.SESSION, "Using your libvirt session daemon."
        )
    if remembered is LocalMode.EMBEDDED:
        embed = root or (facts.embed_root if facts else "")
        return LocalChoice(
            embed_uri(embed),
            LocalMode.EMBEDDED,
            "Nido runs QEMU itself (libvirt's embedded driver), with no daemon. Guests keep "
            "running when Nido closes and are found again when it starts.",
        )
    assert facts is not None
    if facts.system_socket and facts.system_writable:
        who = "as root" if facts.is_root else "with your account's permission"
        return LocalChoice(
            "qemu:///system",
            LocalMode.SYSTEM,
            f"Using the system libvirt daemon ({who}).",
        )
    if facts.session_socket and not facts.is_root:
        return LocalChoice(
            "qemu:///session",
            LocalMode.SESSION,
            "Using your running libvirt session daemon.",
        )
    why = "No libvirt daemon is running"
    if facts.system_socket and not facts.system_writable:
        why = "The system libvirt daemon only lets this account look, not change anything"
    return LocalChoice(
        embed_uri(facts.embed_root),
        LocalMode.EMBEDDED,
        f"{why}, so Nido runs QEMU itself (libvirt's embedded driver). "
        "Guests keep running when Nido closes and are found again when it starts.",
    )


def system_socket_candidates() -> list[str]:
    return ["/run/libvirt/virtqemud-sock", "/run/libvirt/libvirt-sock"]


def session_socket_candidates(runtime_dir: str | None = None) -> list[str]:
    base = runtime_dir or os.environ.get("XDG_RUNTIME_DIR") or f"/run/user/{os.getuid()}"
    return [f"{base}/libvirt/virtqemud-sock", f"{base}/libvirt/libvirt-sock"]


def data_dir() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "nido"


def short_link_dir() -> Path:
    """Where the short link to the embedded root lives: the runtime directory, else a
    folder of Nido's own in /tmp (named apart from anything else Nido puts there)."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime:
        return Path(runtime)
    return Path(tempfile.gettempdir()) / f"nido-run-{os.getuid()}"


def embed_root(real: Path | None = None) -> str:
    """The embedded driver's root: <XDG data>/nido/embed, reached through a short symlink
    when the real path is too long for the UNIX sockets libvirt makes below it."""
    real = real or data_dir() / "embed"
    prepare_root(real)
    if len(str(real)) <= EMBED_ROOT_MAX:
        return str(real)
    short_dir = short_link_dir()
    try:
        short_dir.mkdir(mode=0o700, exist_ok=True)
    except FileExistsError as exc:  # something that is not a directory
        raise NidoError(
            f"Nido cannot make its folder {short_dir}: a file of that name is in the way.",
            f"{exc}. Remove or rename {short_dir}, or set XDG_RUNTIME_DIR.",
            ErrorKind.DENIED,
        ) from exc
    if short_dir.stat().st_uid != os.getuid():
        raise PermissionError(f"{short_dir} belongs to another user")
    link = short_dir / "nido-embed"
    if not (link.is_symlink() and os.readlink(link) == str(real)):
        link.unlink(missing_ok=True)
        link.symlink_to(real)
    return str(link)


def daemon_uri_with_socket(uri: str, find_socket: Callable[[str], str | None]) -> str:
    """Spell a local daemon URI so that it still reaches the daemon once the embedded
    driver is loaded in this process (see the module docstring).

    `find_socket("system" | "session")` returns the daemon's socket path, or None.
    Other URIs come back unchanged.
    """
    parsed = urllib.parse.urlsplit(uri)
    if parsed.netloc or parsed.path not in ("/system", "/session"):
        return uri
    driver, _, transport = parsed.scheme.partition("+")
    if transport not in ("", "unix"):
        return uri
    query = urllib.parse.parse_qs(parsed.query)
    if "socket" in query:
        return uri
    socket = find_socket(parsed.path.lstrip("/"))
    if socket is None:
        return uri
    query["socket"] = [socket]
    new_query = urllib.parse.urlencode(query, doseq=True, safe="/")
    return f"{driver}+unix://{parsed.path}?{new_query}"


def local_daemon_kind(uri: str) -> str | None:
    """'system' or 'session' for a local daemon URI without an explicit socket, else None.
    Once the embedded driver is loaded, only such a URI with a socket reaches a daemon."""
    parsed = urllib.parse.urlsplit(uri)
    transport = parsed.scheme.partition("+")[2]
    if parsed.netloc or transport not in ("", "unix") or "socket=" in parsed.query:
        return None
    if parsed.scheme.partition("+")[0] == "qemu" and parsed.path in ("/system", "/session"):
        return parsed.path.lstrip("/")
    return None


def first_existing(paths: list[str]) -> str | None:
    for p in paths:
        if os.path.exists(p):
            return p
    return None


def find_daemon_socket(which: str) -> str | None:
    if which == "system":
        return first_existing(system_socket_candidates())
    return first_existing(session_socket_candidates())


def driver_of(uri: str) -> str:
    """'qemu' for qemu+ssh://..., 'test' for test:///default."""
    return urllib.parse.urlsplit(uri).scheme.split("+", 1)[0]


def describe(uri: str) -> str:
    """A short human name for a URI: 'system on host', 'session', 'embedded'."""
    parsed = urllib.parse.urlsplit(uri)
    driver = driver_of(uri)
    host = parsed.hostname or ""
    where = f" on {host}" if host else ""
    if is_embed_uri(uri):
        return "embedded QEMU driver"
    if driver == "test":
        return f"test driver{where}"
    path = parsed.path.strip("/") or "system"
    return f"QEMU/KVM {path}{where}"


def uses_remote_driver(uri: str) -> bool:
    """True when libvirt talks to a daemon over a socket (so keepalive applies): any URI
    with a transport or a host, and plain local URIs except the in-process embedded and
    test drivers."""
    if is_embed_uri(uri):
        return False
    parsed = urllib.parse.urlsplit(uri)
    if "+" in parsed.scheme or parsed.hostname:
        return True
    return driver_of(uri) != "test"


def is_remote(uri: str) -> bool:
    parsed = urllib.parse.urlsplit(uri)
    return bool(parsed.hostname) and parsed.hostname not in ("localhost", "127.0.0.1", "::1")
