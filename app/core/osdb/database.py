"""libosinfo through GObject introspection: the OS catalogue, install-media detection and
per-OS defaults.

The database loads lazily, once per `OSDatabase` (about 0.3 s), on the first call that
needs it, or on `load()`. Every method blocks and is thread-safe (one lock serialises the
GI calls): the Qt layer runs them in a worker, never on the GUI thread.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from app.core.errors import ErrorKind
from app.core.osdb.media import check_image, distro_hint, family_hint
from app.core.osdb.model import (
    GENERIC_LINUX_PREFIX,
    Detection,
    Match,
    MediaError,
    MediaIdentity,
    MediaProblem,
    OSDatabaseError,
    OSDefaults,
    OSInfo,
    ReleaseStatus,
    UnknownOSError,
    family_name,
)
from app.core.osdb.rules import OSFacts, Resources, ResourceSet, derive_defaults
from app.core.osdb.search import filter_catalogue

_UNKNOWN_ID = "http://libosinfo.org/unknown"
_MAX_ANCESTRY = 12


def _date(text: str | None) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def _positive(value: int) -> int | None:
    return int(value) if value is not None and value > 0 else None


def _elements(lst: Any) -> list[Any]:
    return list(lst.get_elements()) if lst is not None else []


def data_version() -> str:
    """The newest osinfo-db data version libosinfo reads ('2022-12-03'), or ''."""
    user = os.environ.get("OSINFO_USER_DIR") or str(
        Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "osinfo"
    )
    dirs = (
        os.environ.get("OSINFO_SYSTEM_DIR") or "/usr/share/osinfo",
        os.environ.get("OSINFO_LOCAL_DIR") or "/etc/osinfo",
        user,
    )
    versions = []
    for d in dirs:
        try:
            versions.append(Path(d, "VERSION").read_text(encoding="utf-8").strip())
        except OSError:
            continue
    best = max((v for v in versions if v.isdigit() and len(v) == 8), default="")
    return f"{best[:4]}-{best[4:6]}-{best[6:]}" if best else ""


def _sort_key(info: OSInfo) -> tuple[object, ...]:
    """Grouped by name without release, newest first, pre-releases and undated last."""
    settled = info.status in (ReleaseStatus.RELEASED, ReleaseStatus.ROLLING)
    rank = 0 if settled and not info.is_unknown_release else 1
    date = info.release_date.toordinal() if info.release_date else 0
    return (family_name(info).casefold(), rank, -date, info.name.casefold())


class OSDatabase:
    """osinfo-db, loaded once; see the module docstring."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._lib: Any = None  # the Libosinfo GI module
        self._glib: Any = None
        self._db: Any = None
        self._infos: dict[str, OSInfo] = {}
        self._catalogue: tuple[OSInfo, ...] | None = None
        self._by_short_id: dict[str, str] | None = None
        self._superseded: frozenset[str] | None = None
        self.load_seconds: float | None = None
        self.version = data_version()

    # Loading -----------------------------------------------------------------------

    @property
    def loaded(self) -> bool:
        return self._db is not None

    def load(self) -> None:
        """Load libosinfo and osinfo-db now (idempotent); OSDatabaseError if missing."""
        with self._lock:
            if self._db is not None:
                return
            start = time.perf_counter()
            try:
                import gi

                gi.require_version("Libosinfo", "1.0")
                from gi.repository import GLib, Libosinfo
            except (ImportError, ValueError) as exc:
                raise OSDatabaseError(
                    "Nido's list of operating systems is not installed (libosinfo).",
                    f"{exc!r}\nInstall gir1.2-libosinfo-1.0 and osinfo-db.",
                    ErrorKind.UNSUPPORTED,
                ) from exc
            loader = Libosinfo.Loader()
            try:
                loader.process_default_path()
            except GLib.Error as exc:
                raise OSDatabaseError(
                    "Nido's list of operating systems could not be read.",
                    f"libosinfo: {exc.message}",
                    ErrorKind.INTERNAL,
                ) from exc
            db = loader.get_db()
            if db.get_os_list().get_length() == 0:
                raise OSDatabaseError(
                    "Nido's list of operating systems is empty (osinfo-db is not installed).",
                    "libosinfo loaded no OS; install the osinfo-db package.",
                    ErrorKind.UNSUPPORTED,
                )
            self._lib, self._glib, self._db = Libosinfo, GLib, db
            self.load_seconds = time.perf_counter() - start

    def _os_object(self, os_id: str) -> Any:
        self.load()
        return self._db.get_os(os_id)

    def _superseded_ids(self) -> frozenset[str]:
        """Ids of the OSes that a newer, dated, released one upgrades or derives from."""
        if self._superseded is None:
            lib, ids = self._lib, set()
            relations = (lib.ProductRelationship.UPGRADES, lib.ProductRelationship.DERIVES_FROM)
            for o in _elements(self._db.get_os_list()):
                if (
                    o.get_release_date_string()
                    and o.get_release_status().value_nick in ("released", "rolling")
                    and not o.get_id().startswith("http://libosinfo.org/")
                ):
                    for rel in relations:
                        ids.update(p.get_id() for p in _elements(o.get_related(rel)))
            self._superseded = frozenset(ids)
        return self._superseded

    def _info(self, o: Any) -> OSInfo:
        os_id = o.get_id()
        info = self._infos.get(os_id)
        if info is None:
            short_ids = tuple(dict.fromkeys(o.get_short_id_list() or ()))
            info = OSInfo(
                id=os_id,
                short_id=o.get_short_id() or (short_ids[0] if short_ids else ""),
                name=o.get_name() or os_id,
                version=o.get_version() or "",
                family=o.get_family() or "",
                distro=o.get_distro() or "",
                vendor=o.get_vendor() or "",
                codename=o.get_codename() or "",
                release_date=_date(o.get_release_date_string()),
                eol_date=_date(o.get_eol_date_string()),
                status=ReleaseStatus(o.get_release_status().value_nick),
                short_ids=short_ids,
                superseded=os_id in self._superseded_ids(),
            )
            self._infos[os_id] = info
        return info

    # The catalogue -----------------------------------------------------------------

    def catalogue(self) -> tuple[OSInfo, ...]:
        """Every OS, EOL ones included, grouped by name and newest first."""
        with self._lock:
            if self._catalogue is None:
                self.load()
                infos = [self._info(o) for o in _elements(self._db.get_os_list())]
                infos = [i for i in infos if i.id != _UNKNOWN_ID]
                self._catalogue = tuple(sorted(infos, key=_sort_key))
            return self._catalogue

    def search(
        self, text: str = "", include_eol: bool = False, today: dt.date | None = None
    ) -> list[OSInfo]:
        """`filter_catalogue` over `catalogue()` (which loads the database the first time,
        under the lock); the filtering itself takes no lock."""
        return filter_catalogue(self.catalogue(), text, include_eol, today)

    def get(self, os_id: str) -> OSInfo:
        """An OS by id ('http://debian.org/debian/11') or short id ('debian11')."""
        with self._lock:
            o = self._os_object(os_id)
            if o is None:
                if self._by_short_id is None:
                    self._by_short_id = {
                        s: i.id for i in self.catalogue() for s in (i.short_ids or (i.short_id,))
                    }
                full = self._by_short_id.get(os_id)
                o = self._db.get_os(full) if full else None
            if o is None:
                raise UnknownOSError(os_id)
            return self._info(o)

    # Detection ---------------------------------------------------------------------

    def _read_media(self, abspath: str) -> Any:
        """libosinfo's reading of the image, on a main context of this call's own.

        ``Media.create_from_location`` runs a GLib main loop on the thread's default
        context until its asynchronous reads finish; on a worker thread that is GLib's
        global default context, which the thread must own to run it. Whoever else holds
        that context (a GUI thread's event dispatcher, another library) would leave the
        call waiting for it, and every other caller waiting for this database's lock:
        a hang seen in the test suite. A fresh context pushed as this thread's default
        is owned by nobody else."""
        context = self._glib.MainContext.new()
        context.push_thread_default()
        try:
            return self._lib.Media.create_from_location(abspath, None)
        finally:
            context.pop_thread_default()

    def detect(self, path: str | os.PathLike[str]) -> Detection:
        """Identify an install image. Blocks (file I/O, and the first time the database
        load): call it from a worker. Raises MediaError for a missing, unreadable or
        non-bootable file or one that is not an ISO; an image osinfo-db does not know
        gives a Detection whose `match` says how much Nido recognised."""
        abspath, pvd_identity = check_image(path)
        with self._lock:
            self.load()
            try:
                media = self._read_media(abspath)
            except self._glib.Error as exc:
                raise self._media_error(abspath, exc) from None
            identity = MediaIdentity(
                volume_id=media.get_volume_id() or pvd_identity.volume_id,
                system_id=media.get_system_id() or pvd_identity.system_id,
                publisher_id=media.get_publisher_id() or pvd_identity.publisher_id,
                application_id=media.get_application_id() or pvd_identity.application_id,
            )
            if not self._db.identify_media(media):
                return self._unmatched(abspath, identity)
            info = self._info(media.get_os())
            others: dict[str, OSInfo] = {}
            for m in _elements(self._db.identify_medialist(media)):
                other = self._info(m.get_os())
                if other.id != info.id:
                    others.setdefault(other.id, other)
            variants = _elements(media.get_os_variants())
            match = Match.FAMILY if info.is_unknown_release else Match.EXACT
            return Detection(
                path=abspath,
                identity=identity,
                match=match,
                os=info,
                basis=info,
                variant=variants[0].get_name() if variants else "",
                arch=media.get_architecture(),
                live=bool(media.get_live()),
                installer=bool(media.get_installer()),
                languages=tuple(media.get_languages() or ()),
                alternatives=tuple(others.values()),
                message=self._matched_message(info, match, others.values()),
            )

    def _media_error(self, path: str, exc: Any) -> MediaError:
        name = Path(path).name
        details = f"{path}: libosinfo: {exc.message} ({exc.domain} {exc.code})"
        lib = self._lib
        if exc.matches(lib.MediaError.quark(), int(lib.MediaError.NOT_BOOTABLE)):
            return MediaError(
                MediaProblem.NOT_BOOTABLE,
                path,
                f"“{name}” is a data disc: a computer cannot start from it.",
                details,
            )
        if exc.domain == "osinfo-media-error":
            return MediaError(
                MediaProblem.NOT_ISO, path, f"“{name}” is not a usable ISO disc image.", details
            )
        return MediaError(
            MediaProblem.UNREADABLE,
            path,
            f"Nido cannot read “{name}”.",
            details,
            ErrorKind.INVALID_INPUT,
        )

    def _matched_message(self, info: OSInfo, match: Match, others: Iterable[OSInfo]) -> str:
        parts = []
        if match is Match.FAMILY:
            fam = family_name(info)
            parts.append(
                f"This is {fam} in a release newer than Nido's OS list ({self._list_name()}). "
                f"The settings are osinfo-db's for {fam} in general: check them."
            )
        names = [o.name for o in others]
        if names:
            parts.append(
                f"Its labels also match {', '.join(names)}; pick another OS below if it is one."
            )
        return " ".join(parts)

    def _list_name(self) -> str:
        return f"osinfo-db {self.version}" if self.version else "osinfo-db"

    def _unmatched(self, path: str, identity: MediaIdentity) -> Detection:
        distro = distro_hint(identity, self._distros())
        basis = self._newest_of(distro) if distro else None
        if basis is None and family_hint(identity) == "linux":
            basis = self._generic_linux()
        head = (
            f"Nido's OS list ({self._list_name()}) does not know this disc "
            f"(“{identity.volume_id or 'no label'}”)."
        )
        if basis is None:
            message = f"{head} Pick its OS below, or keep Nido's guesses."
            return Detection(path, identity, Match.NONE, message=message)
        looks = "Linux" if basis.id.startswith(GENERIC_LINUX_PREFIX) else family_name(basis)
        message = (
            f"{head} It looks like {looks}, possibly a newer release, so the settings are those "
            f"for {basis.name}: check them."
        )
        return Detection(path, identity, Match.LIKELY, basis=basis, message=message)

    def _distros(self) -> set[str]:
        return {i.distro for i in self.catalogue() if i.distro}

    def _newest_of(self, distro: str) -> OSInfo | None:
        """The entry standing in for an unknown release of `distro`: its `<distro>-unknown`
        catch-all if osinfo-db has one, else its newest release."""
        entries = [i for i in self.catalogue() if i.distro.casefold() == distro]
        for i in entries:
            if i.short_id == f"{distro}-unknown":
                return i
        released = [
            i
            for i in entries
            if i.status is ReleaseStatus.RELEASED and i.release_date and not i.is_unknown_release
        ]
        return max(released, key=lambda i: (i.release_date, i.name), default=None)

    def _generic_linux(self) -> OSInfo | None:
        generic = [i for i in self.catalogue() if i.id.startswith(GENERIC_LINUX_PREFIX)]
        return max(generic, key=lambda i: i.version, default=None)

    # Defaults ----------------------------------------------------------------------

    def facts(self, info: OSInfo) -> OSFacts:
        """What osinfo-db says about `info`, as plain data for `rules`."""
        with self._lock:
            o = self._os_object(info.id)
            if o is None:
                raise UnknownOSError(info.id)
            chain, ancestors = [], set()
            queue, seen = [o], {info.id}
            while queue and len(chain) < _MAX_ANCESTRY:
                current = queue.pop(0)
                chain.append(current)
                rel = self._lib.ProductRelationship.DERIVES_FROM
                for parent in _elements(current.get_related(rel)):
                    pid = parent.get_id()
                    if pid not in seen:
                        seen.add(pid)
                        ancestors.add(pid)
                        queue.append(parent)
            get_fw = getattr(o, "get_complete_firmware_list", None) or o.get_firmware_list
            return OSFacts(
                os=info,
                resources=tuple(self._resource_set(c) for c in chain),
                devices=frozenset(d.get_name() for d in _elements(o.get_all_devices(None))),
                firmware=tuple(
                    (f.get_architecture(), f.get_firmware_type(), bool(f.is_supported()))
                    for f in _elements(get_fw(None))
                ),
                ancestors=frozenset(ancestors),
            )

    def _resource_set(self, o: Any) -> ResourceSet:
        def table(lst: Any) -> dict[str, Resources]:
            return {
                r.get_architecture(): Resources(
                    ram=_positive(r.get_ram()),
                    n_cpus=_positive(r.get_n_cpus()),
                    storage=_positive(r.get_storage()),
                )
                for r in _elements(lst)
            }

        return ResourceSet(
            os_name=o.get_name() or o.get_id(),
            minimum=table(o.get_minimum_resources()),
            recommended=table(o.get_recommended_resources()),
        )

    def defaults_for(
        self, what: OSInfo | Detection | str | None, arch: str | None = None
    ) -> OSDefaults:
        """The wizard's defaults for an OS: a catalogue entry, a detection, an id or short
        id, or None (nothing known: family-level guesses). `arch` defaults to the
        detected media's architecture, else x86_64."""
        family = None
        match, message = Match.EXACT, ""
        if isinstance(what, Detection):
            basis = what.basis
            arch = arch or what.arch
            match, message = what.match, what.message
            family = family_hint(what.identity)
        elif isinstance(what, str):
            basis = self.get(what)
        else:
            basis = what
        if basis is None and match is Match.EXACT:
            match = Match.NONE
            message = "Nido does not know this OS: the settings are guesses."
        elif basis is not None and basis.is_unknown_release and not message:
            match = Match.FAMILY
            fam = family_name(basis)
            message = f"The settings are osinfo-db's for {fam} in general: check them."
        facts = self.facts(basis) if basis is not None else None
        defaults = derive_defaults(facts, arch=arch or "x86_64", family=family)
        return dataclasses.replace(defaults, match=match, message=message)
