"""The client of the OS-database helper: the same answers as libosinfo in process, one
helper for many threads, a helper that dies or cannot start gives a clear error and the
next call starts another, and releasing the last lease stops and reaps it."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from app.core.errors import ErrorKind
from app.core.osdb import (
    MediaError,
    MediaProblem,
    OSDatabase,
    OSDatabaseClient,
    OSDatabaseError,
    UnknownOSError,
)
from tests.unit.core.osdb.conftest import SPECS

FAKE = [sys.executable, "-m", "tests.unit.core.osdb.fake_helper"]


def gone(pid: int) -> bool:
    """No such process, not even a zombie waiting to be reaped."""
    return not Path(f"/proc/{pid}").exists()


def dead(pid: int) -> bool:
    """Our child `pid` exited, every thread of it (its leader shows as a zombie in /proc
    before its other threads are gone): waitid says so without reaping it."""
    flags = os.WEXITED | os.WNOHANG | os.WNOWAIT
    return os.waitid(os.P_PID, pid, flags) is not None


def wait_for(cond, timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, cond
        time.sleep(0.01)


@pytest.fixture(scope="module")
def local() -> OSDatabase:
    """libosinfo in this process, to compare the helper's answers with."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LANGUAGE", "C")
        database = OSDatabase()
        database.load()
    return database


@pytest.fixture
def client() -> Iterator[OSDatabaseClient]:
    """A client of its own (not the session's), closed after the test."""
    c = OSDatabaseClient()
    yield c
    c.close()


def test_answers_equal_libosinfo_in_process(
    db: OSDatabaseClient, local: OSDatabase, isos: dict[str, Path]
) -> None:
    assert db.catalogue() == local.catalogue()
    for name in SPECS:
        if name == "not-bootable":
            continue
        det = db.detect(isos[name])
        assert det == local.detect(isos[name]), name
        assert db.defaults_for(det) == local.defaults_for(det), name
        if det.basis is not None:
            remote, here = db.facts(det.basis), local.facts(det.basis)
            assert (remote.os, remote.devices, remote.firmware, remote.ancestors) == (
                here.os,
                here.devices,
                here.firmware,
                here.ancestors,
            )
    assert db.get("debianbullseye") == local.get("debianbullseye")
    assert db.defaults_for("win11", "x86_64") == local.defaults_for("win11", "x86_64")
    assert db.defaults_for(None) == local.defaults_for(None)


def test_errors_cross_as_themselves(db: OSDatabaseClient, isos: dict[str, Path]) -> None:
    with pytest.raises(UnknownOSError) as unknown:
        db.get("nothing11")
    assert unknown.value.os_id == "nothing11" and unknown.value.kind is ErrorKind.NOT_FOUND
    with pytest.raises(MediaError) as media:
        db.detect(isos["not-bootable"])  # refused by libosinfo, in the helper
    assert media.value.problem is MediaProblem.NOT_BOOTABLE
    assert media.value.path == str(isos["not-bootable"])
    assert (
        media.value.summary == "“not-bootable.iso” is a data disc: a computer cannot start from it."
    )
    assert db.running  # an error is an answer, not a death


def test_files_are_checked_here_without_the_helper(
    client: OSDatabaseClient, tmp_path: Path
) -> None:
    with pytest.raises(MediaError) as info:
        client.detect(tmp_path / "gone.iso")
    assert info.value.problem is MediaProblem.MISSING
    assert not client.running and client.starts == 0


def test_many_threads_start_one_helper(client: OSDatabaseClient, isos: dict[str, Path]) -> None:
    names = ["debian11", "win11", "fedora39", "unknown"] * 4
    with ThreadPoolExecutor(max_workers=8) as pool:
        found = list(pool.map(lambda n: client.detect(isos[n]).match.value, names))
    assert found[:4] == ["exact", "exact", "family", "none"] and found[4:8] == found[:4]
    assert client.starts == 1 and client.loaded


def test_the_catalogue_is_fetched_once_and_searched_here(client: OSDatabaseClient) -> None:
    first = client.catalogue()
    assert client.catalogue() is first
    pid = client.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: dead(pid))
    assert client.search("win11")[0].short_id == "win11"  # no helper needed
    assert client.starts == 1


def test_a_killed_idle_helper_is_replaced_on_the_next_call(client: OSDatabaseClient) -> None:
    client.load()
    first = client.pid
    assert first is not None
    os.kill(first, signal.SIGKILL)
    wait_for(lambda: dead(first))
    assert client.get("debian11").name == "Debian 11"
    assert client.pid not in (None, first) and client.starts == 2
    assert gone(first)  # the dead one was reaped


def test_a_helper_dying_during_a_call_fails_it_clearly_then_restarts() -> None:
    client = OSDatabaseClient([*FAKE, "die-on-second"])
    try:
        client.load()  # the fake answers the first request
        first = client.pid
        assert first is not None
        with pytest.raises(OSDatabaseError) as info:
            client.get("debian11")
        assert info.value.summary == "Nido's list of operating systems stopped unexpectedly."
        assert "killed by signal 9" in info.value.details
        assert info.value.kind is ErrorKind.INTERNAL
        assert not client.running and gone(first)
        client.load()  # a new helper
        assert client.starts == 2 and client.pid not in (None, first)
    finally:
        client.close()


@pytest.mark.parametrize(
    ("command", "says"),
    [
        ([sys.executable, "-c", "import sys; sys.exit(3)"], "exited with status 3"),
        ([sys.executable, "-c", "raise SystemExit('no libosinfo here')"], "no libosinfo here"),
        (["/nonexistent/python3"], "No such file"),
    ],
)
def test_a_helper_that_cannot_start_says_so(command: list[str], says: str) -> None:
    client = OSDatabaseClient(command)
    with pytest.raises(OSDatabaseError) as info:
        client.catalogue()
    assert info.value.summary.startswith("Nido could") or info.value.summary == (
        "Nido's list of operating systems could not be started."
    )
    assert says in info.value.details
    assert not client.running
    client.close()


def test_releasing_the_last_lease_stops_and_reaps_the_helper(
    client: OSDatabaseClient, isos: dict[str, Path]
) -> None:
    wizard, other = client.hold(), client.hold()
    assert wizard.detect(isos["debian11"]).os is not None
    pid = client.pid
    assert pid is not None and client.holders == 2
    other.release()
    other.release()  # twice: still one release
    assert client.running and client.holders == 1
    wizard.release()
    assert not client.running and client.holders == 0
    assert gone(pid)  # exited and reaped: no zombie
    with pytest.raises(OSDatabaseError) as info:
        wizard.detect(isos["debian11"])  # a late call of a released lease
    assert info.value.kind is ErrorKind.CANCELLED
    assert not client.running and client.starts == 1


def test_closing_during_a_call_kills_the_helper_under_it() -> None:
    client = OSDatabaseClient([*FAKE, "slow"])
    errors: list[OSDatabaseError] = []

    def call() -> None:
        try:
            client.get("debian11")
        except OSDatabaseError as exc:
            errors.append(exc)

    caller = threading.Thread(target=call)
    caller.start()
    wait_for(lambda: client.pid is not None)
    pid = client.pid
    assert pid is not None
    client.close()  # does not wait for the call
    caller.join(10.0)
    assert not caller.is_alive() and len(errors) == 1
    assert errors[0].kind is ErrorKind.INTERNAL and "killed by signal 9" in errors[0].details
    assert not client.running and gone(pid)
