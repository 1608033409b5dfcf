"""The OS database as Nido's process sees it: a client of the helper process
(`app.core.osdb.server`) that holds libosinfo, with the API of `OSDatabase`.

    db = osdb.database()            # the process's client; starts nothing yet
    lease = db.hold()               # while the wizard is open
    lease.detect(path)              # blocking: starts the helper the first time (~0.4 s)
    lease.release()                 # the last holder gone: the helper exits, memory freed

The helper starts on the first call that needs libosinfo and stops when the last holder
releases it (`hold()`/`release()`, counted), on `close()`, and at Nido's exit. A caller
that never holds it (a script, a test) keeps it until one of those.

Every method blocks and is thread-safe: one lock sends one request at a time (the helper
answers in order). The catalogue is fetched once per helper and kept here, so `search`
(`filter_catalogue`) needs neither the lock nor the helper once it is in. File checks
(missing, unreadable, not an ISO) run here, in Nido's own process and with its own
permissions, before anything is asked of the helper.

If the helper cannot start, or dies, the call raises OSDatabaseError; the next call starts
a new helper.
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import datetime as dt
import logging
import os
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import app
from app.core.errors import ErrorKind
from app.core.osdb import protocol
from app.core.osdb.database import data_version
from app.core.osdb.media import check_image
from app.core.osdb.model import Detection, OSDatabaseError, OSDefaults, OSInfo
from app.core.osdb.rules import OSFacts
from app.core.osdb.search import filter_catalogue

log = logging.getLogger(__name__)

SERVER = [sys.executable, "-m", "app.core.osdb.server"]
STOP_WAIT_S = 2.0  # for the helper to exit at the end of its input, before it is killed
_STDERR_TAIL = 40  # lines of the helper's stderr kept for an error's details


class OSData(Protocol):
    """What the wizard and `newvm` use: `OSDatabase`, its client, or a client's lease."""

    version: str

    def catalogue(self) -> tuple[OSInfo, ...]: ...

    def search(
        self, text: str = "", include_eol: bool = False, today: dt.date | None = None
    ) -> list[OSInfo]: ...

    def get(self, os_id: str) -> OSInfo: ...

    def detect(self, path: str | os.PathLike[str]) -> Detection: ...

    def facts(self, info: OSInfo) -> OSFacts: ...

    def defaults_for(
        self, what: OSInfo | Detection | str | None, arch: str | None = None
    ) -> OSDefaults: ...


def _server_env() -> dict[str, str]:
    """Nido's environment, with the directory holding the `app` package first on the path
    (Nido may run from a source tree that is not the current directory)."""
    env = dict(os.environ)
    root = str(Path(app.__file__).resolve().parents[1])
    path = env.get("PYTHONPATH", "")
    env["PYTHONPATH"] = f"{root}{os.pathsep}{path}" if path else root
    return env


class _Helper:
    """One run of the helper process: its pipes and the tail of what it said on stderr."""

    def __init__(self, command: Sequence[str]) -> None:
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            list(command),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=_server_env(),
        )
        self.pid = self.proc.pid
        self.answered = False  # it has answered a request: it started
        self.stderr_tail: collections.deque[str] = collections.deque(maxlen=_STDERR_TAIL)
        self._drain = threading.Thread(
            target=self._read_stderr, name=f"osdb-stderr-{self.pid}", daemon=True
        )
        self._drain.start()

    def _read_stderr(self) -> None:
        stream = self.proc.stderr
        assert stream is not None
        with stream:
            for raw in stream:
                line = raw.decode("utf-8", "replace").rstrip()
                self.stderr_tail.append(line)
                log.warning("OS database helper: %s", line)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def call(self, request: tuple[str, tuple[Any, ...], dict[str, Any]]) -> Any:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        protocol.write(self.proc.stdin, request)
        return protocol.read(self.proc.stdout)

    def end(self, wait: float = STOP_WAIT_S) -> int | None:
        """Close its input (it exits at once), reap it, kill it if it does not go. Only
        with no call in flight: the pipes are closed here."""
        if self.proc.stdin is not None:
            with contextlib.suppress(OSError):  # already gone: a broken pipe on the flush
                self.proc.stdin.close()
        try:
            self.proc.wait(wait)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self._drain.join(wait)
        return self.proc.returncode

    def kill(self) -> None:
        """Stop it now, from any thread, while a call may be reading its pipes: that call
        sees the end of its output and tidies up."""
        self.proc.kill()
        self.proc.wait()

    def death(self) -> str:
        code = self.proc.poll()
        how = (
            "is still running"
            if code is None
            else f"was killed by signal {-code}"
            if code < 0
            else f"exited with status {code}"
        )
        said = "\n".join(self.stderr_tail)
        return f"the helper (pid {self.pid}, {' '.join(self.proc.args)}) {how}" + (
            f"; it said:\n{said}" if said else ""
        )


class Lease:
    """One holder's use of a client (the wizard's): the client's API until `release()`,
    after which every call that would need the helper fails with a CANCELLED error
    instead of starting it again."""

    def __init__(self, client: OSDatabaseClient) -> None:
        self.client = client
        self.released = False
        self.version = client.version

    def release(self) -> None:
        """Let go (idempotent); the last holder's release stops the helper."""
        self.client._release(self)

    def catalogue(self) -> tuple[OSInfo, ...]:
        return self.client._catalogue_for(self)

    def search(
        self, text: str = "", include_eol: bool = False, today: dt.date | None = None
    ) -> list[OSInfo]:
        return filter_catalogue(self.catalogue(), text, include_eol, today)

    def get(self, os_id: str) -> OSInfo:
        return self.client._call("get", (os_id,), lease=self)

    def detect(self, path: str | os.PathLike[str]) -> Detection:
        return self.client._detect(path, lease=self)

    def facts(self, info: OSInfo) -> OSFacts:
        return self.client._call("facts", (info,), lease=self)

    def defaults_for(
        self, what: OSInfo | Detection | str | None, arch: str | None = None
    ) -> OSDefaults:
        return self.client._call("defaults_for", (what, arch), lease=self)


class OSDatabaseClient:
    """osinfo-db in a helper process, with `OSDatabase`'s API; see the module docstring."""

    def __init__(self, command: Sequence[str] | None = None) -> None:
        self.command = tuple(command or SERVER)
        self._lock = threading.RLock()  # one request at a time; held for a whole call
        self._state = threading.Lock()  # the holders
        self._helper: _Helper | None = None
        self._catalogue: tuple[OSInfo, ...] | None = None
        self._holders: set[Lease] = set()
        self._loaded = False
        self.version = data_version()
        self.load_seconds: float | None = None  # osinfo-db's load, in the helper
        self.start_seconds: float | None = None  # from starting the helper to its load
        self.starts = 0  # how many helpers this client started
        _clients.add(self)

    # The helper's life ----------------------------------------------------------------

    @property
    def pid(self) -> int | None:
        """The running helper's process id, or None."""
        helper = self._helper
        return helper.pid if helper is not None and helper.alive() else None

    @property
    def running(self) -> bool:
        return self.pid is not None

    @property
    def loaded(self) -> bool:
        """osinfo-db is loaded in a running helper."""
        return self._loaded and self.running

    @property
    def holders(self) -> int:
        return len(self._holders)

    def hold(self) -> Lease:
        """A lease on the helper for one user (the wizard, while it is open)."""
        lease = Lease(self)
        with self._state:
            self._holders.add(lease)
        return lease

    def _release(self, lease: Lease) -> None:
        with self._state:
            if lease.released:
                return
            lease.released = True  # before the stop: no call of this lease starts it again
            self._holders.discard(lease)
            last = not self._holders
        if last:
            self.close()

    def close(self) -> None:
        """Stop the helper now (it starts again on the next call) and forget the
        catalogue. A call in flight is not waited for: the helper is killed under it, and
        it fails."""
        if self._lock.acquire(blocking=False):
            try:
                helper, self._helper = self._helper, None
                self._catalogue, self._loaded = None, False
                if helper is not None:
                    helper.end()
            finally:
                self._lock.release()
            return
        helper = self._helper
        self._catalogue = None
        if helper is not None:
            helper.kill()  # the call in flight sees it die, ends it, and says so

    def _start(self) -> _Helper:
        if self._helper is not None:
            if self._helper.alive():
                return self._helper
            log.warning("%s", self._helper.death())
            self._helper.end()
            self._helper = None
        try:
            helper = _Helper(self.command)
        except OSError as exc:
            raise OSDatabaseError(
                "Nido could not start its list of operating systems.",
                f"{' '.join(self.command)}: {exc}",
                ErrorKind.INTERNAL,
            ) from exc
        self._helper, self._catalogue, self._loaded = helper, None, False
        self.starts += 1
        return helper

    def _call(self, method: str, args: tuple[Any, ...] = (), lease: Lease | None = None) -> Any:
        with self._lock:
            if lease is not None and lease.released:
                raise OSDatabaseError(
                    "The OS list is closed.",
                    f"{method}() after its holder released the OS database helper",
                    ErrorKind.CANCELLED,
                )
            helper = self._start()
            try:
                status, value = helper.call((method, args, {}))
            except (OSError, EOFError, ValueError, protocol.ProtocolError) as exc:
                # The helper died (or was stopped) under the call: reap it; the next
                # call starts another.
                helper.kill()
                helper.end()  # reaped, and all it said on stderr read
                details = f"{method}(): {exc!r}; {helper.death()}"
                if self._helper is helper:
                    self._helper, self._loaded = None, False
                summary = (
                    "Nido's list of operating systems stopped unexpectedly."
                    if helper.answered
                    else "Nido's list of operating systems could not be started."
                )
                raise OSDatabaseError(summary, details, ErrorKind.INTERNAL) from None
            helper.answered = True
            if lease is not None and lease.released and not self._holders:
                # Released while this call started the helper (close() could not stop
                # it then): stop it now rather than keep it for nobody.
                self._helper, self._catalogue, self._loaded = None, None, False
                helper.end()
            if status == "error":
                raise protocol.error_from(value)
            if not self._loaded and self._helper is helper:
                self._loaded = True
                self.start_seconds = time.perf_counter() - helper.started
            return value

    # The database's API -----------------------------------------------------------------

    def load(self) -> None:
        """Start the helper and load osinfo-db in it now (idempotent)."""
        self.load_seconds = self._call("load")

    def _catalogue_for(self, lease: Lease | None) -> tuple[OSInfo, ...]:
        snapshot = self._catalogue
        if snapshot is not None:
            return snapshot
        with self._lock:
            if self._catalogue is None:
                fetched = self._call("catalogue", lease=lease)
                if self._helper is not None:  # kept while the helper it came from runs
                    self._catalogue = fetched
                return fetched
            return self._catalogue

    def catalogue(self) -> tuple[OSInfo, ...]:
        """Every OS, EOL ones included, grouped by name and newest first; fetched once
        per helper."""
        return self._catalogue_for(None)

    def search(
        self, text: str = "", include_eol: bool = False, today: dt.date | None = None
    ) -> list[OSInfo]:
        """`filter_catalogue` over `catalogue()`: no lock once the catalogue is in."""
        return filter_catalogue(self.catalogue(), text, include_eol, today)

    def get(self, os_id: str) -> OSInfo:
        """An OS by id ('http://debian.org/debian/11') or short id ('debian11')."""
        return self._call("get", (os_id,))

    def _detect(self, path: str | os.PathLike[str], lease: Lease | None) -> Detection:
        abspath, _identity = check_image(path)  # here, with Nido's permissions
        return self._call("detect", (abspath,), lease=lease)

    def detect(self, path: str | os.PathLike[str]) -> Detection:
        """Identify an install image (see `OSDatabase.detect`)."""
        return self._detect(path, None)

    def facts(self, info: OSInfo) -> OSFacts:
        return self._call("facts", (info,))

    def defaults_for(
        self, what: OSInfo | Detection | str | None, arch: str | None = None
    ) -> OSDefaults:
        """The wizard's defaults for an OS (see `OSDatabase.defaults_for`)."""
        return self._call("defaults_for", (what, arch))


_clients: weakref.WeakSet[OSDatabaseClient] = weakref.WeakSet()


@atexit.register
def _stop_all() -> None:
    for client in list(_clients):
        client.close()


_shared: OSDatabaseClient | None = None
_shared_lock = threading.Lock()


def database() -> OSDatabaseClient:
    """The process's OS database client (created here; its helper starts on first use)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = OSDatabaseClient()
        return _shared
