"""Plain data of the OS catalogue: catalogue entries, detections, per-field defaults with
their provenance, and the typed errors of media detection. No libosinfo here."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, fields
from typing import Generic, TypeVar

from app.core.errors import ErrorKind, NidoError

T = TypeVar("T")

GIB = 1024**3
GENERIC_LINUX_PREFIX = "http://libosinfo.org/linux/"  # osinfo-db's 'Generic Linux 2022' etc.
MIB = 1024**2

# An OS with no EOL date counts as end-of-life this long after its release (virt-manager's
# rule), but only once osinfo-db knows a newer release of it: the newest release of a line
# in an old osinfo-db (Windows 11 in 2022-11 data) must not vanish from the list.
EOL_AFTER = dt.timedelta(days=5 * 365)


class ReleaseStatus(enum.Enum):
    RELEASED = "released"
    PRERELEASE = "prerelease"
    SNAPSHOT = "snapshot"
    ROLLING = "rolling"


@dataclass(frozen=True)
class OSInfo:
    """One operating system of the catalogue, as osinfo-db describes it."""

    id: str  # 'http://debian.org/debian/11'
    short_id: str  # 'debian11'
    name: str  # 'Debian 11' (localized by libosinfo when the locale has a name)
    version: str = ""
    family: str = ""  # 'linux', 'winnt', 'freebsd', ...
    distro: str = ""  # 'debian', 'win', 'fedora', ...
    vendor: str = ""
    codename: str = ""
    release_date: dt.date | None = None
    eol_date: dt.date | None = None
    status: ReleaseStatus = ReleaseStatus.RELEASED
    short_ids: tuple[str, ...] = ()  # every alias: ('debian11', 'debianbullseye')
    superseded: bool = False  # a newer dated release upgrades or derives from this one

    @property
    def is_unknown_release(self) -> bool:
        """A catch-all entry for releases newer than the database (`fedora-unknown`)."""
        return self.short_id == "unknown" or self.short_id.endswith("-unknown")

    def is_eol(self, today: dt.date | None = None) -> bool:
        """End of life: past its EOL date; or, with none recorded, superseded by a newer
        release and released over five years ago. Rolling distributions never are."""
        today = today or dt.date.today()
        if self.eol_date is not None:
            return today > self.eol_date
        if self.status is ReleaseStatus.ROLLING or not self.superseded:
            return False
        if self.release_date is not None:
            return today > self.release_date + EOL_AFTER
        return False

    def haystack(self) -> str:
        """What `search` looks in, folded."""
        parts = (self.name, self.version, self.vendor, self.distro, self.codename, *self.short_ids)
        return " ".join(p for p in parts if p).casefold()


class Match(enum.Enum):
    """How sure the detection is about which OS an image holds."""

    EXACT = "exact"  # osinfo-db knows this very release
    FAMILY = "family"  # osinfo-db matched only the distribution: a newer release
    LIKELY = "likely"  # no osinfo-db match; the labels name a distribution Nido knows
    NONE = "none"  # nothing recognised


@dataclass(frozen=True)
class MediaIdentity:
    """The labels of an ISO's primary volume descriptor, which osinfo-db matches on."""

    volume_id: str = ""
    system_id: str = ""
    publisher_id: str = ""
    application_id: str = ""


@dataclass(frozen=True)
class Detection:
    """What an install image is.

    `os` is osinfo-db's match (None unless EXACT or FAMILY). `basis` is the entry whose
    defaults fit best: `os` itself, or for LIKELY the newest release of the distribution
    the labels name; None when nothing was recognised. `message` is a sentence for the
    person, empty for an exact match.
    """

    path: str
    identity: MediaIdentity
    match: Match
    os: OSInfo | None = None
    basis: OSInfo | None = None
    variant: str = ""  # 'Fedora Server'
    arch: str | None = None  # the media's architecture: 'x86_64', 'i686', ...
    live: bool | None = None  # a live image (runs without installing)
    installer: bool | None = None  # carries an installer
    languages: tuple[str, ...] = ()
    alternatives: tuple[OSInfo, ...] = ()  # other releases these labels also match
    message: str = ""

    @property
    def recognised(self) -> bool:
        return self.match is not Match.NONE

    @property
    def label(self) -> str:
        """What to show as 'Detected: …'."""
        if self.match is Match.EXACT and self.os is not None:
            return _with_variant(self.os.name, self.variant)
        if self.match is Match.FAMILY:
            return f"{family_name(self.os)} (a release newer than the OS list)"
        if self.match is Match.LIKELY and self.basis is not None:
            generic = self.basis.id.startswith(GENERIC_LINUX_PREFIX)
            return (
                f"Probably {'Linux' if generic else family_name(self.basis)} (not in the OS list)"
            )
        return "Unknown operating system"


def _with_variant(name: str, variant: str) -> str:
    """'Microsoft Windows 10 Enterprise' rather than 'Microsoft Windows 10 (Microsoft …)'."""
    if not variant or variant.casefold() == name.casefold():
        return name
    if variant.split()[0].casefold() == name.split()[0].casefold():
        return variant
    return f"{name} ({variant})"


def family_name(os: OSInfo | None) -> str:
    """The name without its release: 'Fedora', 'Microsoft Windows', 'openSUSE Leap'."""
    if os is None:
        return "Unknown"
    words = os.name.split()
    while len(words) > 1 and (
        any(c.isdigit() for c in words[-1]) or words[-1].casefold() in ("lts", "unknown")
    ):
        words.pop()
    return " ".join(words)


class Source(enum.Enum):
    """Where a default value comes from."""

    OSINFO = "osinfo"  # this OS's entry in osinfo-db (with what libosinfo inherits)
    RULE = "rule"  # a documented Nido rule for what osinfo-db does not record
    DERIVED = "derived"  # computed from other osinfo-db data: a guess
    GUESSED = "guessed"  # osinfo-db says nothing: Nido's default for the OS family


@dataclass(frozen=True)
class Value(Generic[T]):
    """A default with its provenance; `why` says it in words for a tooltip."""

    value: T
    source: Source
    why: str = ""

    @property
    def guessed(self) -> bool:
        return self.source in (Source.DERIVED, Source.GUESSED)


class Firmware(enum.Enum):
    BIOS = "bios"
    UEFI = "efi"


@dataclass(frozen=True)
class OSDefaults:
    """The wizard's starting values for one OS. Sizes are bytes.

    `machine` is the libvirt machine type ('q35' or 'pc'); `disk_bus` is 'virtio', 'sata'
    or 'ide'; `nic_model` is libvirt's <model type> ('virtio', 'e1000e', 'e1000', ...);
    `tpm` means an emulated TPM 2.0 (swtpm). `match` and `message` say how sure Nido is of
    the OS itself: the UI shows `message` when it is not empty, and marks every field
    whose value is `guessed`.
    """

    os: OSInfo | None
    arch: str
    ram: Value[int]
    min_ram: Value[int]
    vcpus: Value[int]
    min_vcpus: Value[int]
    disk: Value[int]
    min_disk: Value[int]
    machine: Value[str]
    disk_bus: Value[str]
    nic_model: Value[str]
    firmware: Value[Firmware]
    secure_boot: Value[bool]
    tpm: Value[bool]
    uefi_supported: bool | None = None  # None: osinfo-db does not say
    bios_supported: bool | None = None
    match: Match = Match.EXACT
    message: str = ""

    def values(self) -> dict[str, Value[object]]:
        return {f.name: v for f in fields(self) if isinstance(v := getattr(self, f.name), Value)}

    @property
    def guessed_fields(self) -> tuple[str, ...]:
        return tuple(name for name, v in self.values().items() if v.guessed)

    @property
    def guessed(self) -> bool:
        return bool(self.guessed_fields)

    @property
    def virtio_disk(self) -> bool:
        return self.disk_bus.value == "virtio"

    @property
    def virtio_net(self) -> bool:
        return self.nic_model.value == "virtio"

    @property
    def uefi(self) -> bool:
        return self.firmware.value is Firmware.UEFI

    @property
    def ram_mib(self) -> int:
        return -(-self.ram.value // MIB)

    @property
    def min_ram_mib(self) -> int:
        return -(-self.min_ram.value // MIB)

    @property
    def disk_gib(self) -> int:
        return -(-self.disk.value // GIB)

    @property
    def min_disk_gib(self) -> int:
        return -(-self.min_disk.value // GIB)


class MediaProblem(enum.Enum):
    MISSING = "missing"
    UNREADABLE = "unreadable"
    NOT_A_FILE = "not_a_file"
    NOT_ISO = "not_iso"
    NOT_BOOTABLE = "not_bootable"


class MediaError(NidoError):
    """An install image Nido cannot use; `summary` fits under the file field."""

    def __init__(
        self,
        problem: MediaProblem,
        path: str,
        summary: str,
        details: str = "",
        kind: ErrorKind = ErrorKind.INVALID_INPUT,
    ) -> None:
        super().__init__(summary, details or f"{path}: {summary}", kind)
        self.problem = problem
        self.path = path


class OSDatabaseError(NidoError):
    """libosinfo or its data is missing or broken."""


class UnknownOSError(NidoError):
    """An OS id or short id that the database does not hold."""

    def __init__(self, os_id: str) -> None:
        super().__init__(
            f"The OS list has no operating system “{os_id}”.",
            f"libosinfo has no OS with id or short id {os_id!r}",
            ErrorKind.NOT_FOUND,
        )
        self.os_id = os_id
