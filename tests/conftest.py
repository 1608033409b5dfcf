"""Shared test set-up: Qt runs offscreen, and tests get their own XDG directories so
nothing touches the real user's settings, VMs or logs.

Config and state directories are fresh for each test. The data and runtime directories are
one per test session: libvirt's embedded QEMU driver can be opened with only one root per
process (a second root fails with "already open with path ..."), and "This computer" puts
its root under the data directory, reached through a short link in the runtime directory.

Display passwords go to an in-memory desktop keyring where a test asks for
``memory_keyring`` (``use_keyring`` sets any other backend for one test).
"""

from __future__ import annotations

import gc
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest

from app.core import finalizers, osdb
from tests.widgets.display.keyrings import MemoryKeyring

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# Cycles are collected on the main thread only, as in the app (see app/qt/collector.py):
# between tests, and from a GUI-thread timer once Qt runs.
gc.disable()
finalizers.install()  # and libvirt objects are freed off it (app/core/finalizers.py)

_SESSION_DATA = Path(tempfile.mkdtemp(prefix="nido-data-", dir="/tmp"))
_SESSION_RUNTIME = Path(tempfile.mkdtemp(prefix="nr", dir="/tmp"))
os.environ["XDG_DATA_HOME"] = str(_SESSION_DATA)
os.environ["XDG_RUNTIME_DIR"] = str(_SESSION_RUNTIME)


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(_SESSION_DATA, ignore_errors=True)
    shutil.rmtree(_SESSION_RUNTIME, ignore_errors=True)


@pytest.fixture(autouse=True)
def private_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Fresh config and state directories for each test."""
    for name in ("XDG_CONFIG_HOME", "XDG_STATE_HOME"):
        d = tmp_path / name.lower()
        d.mkdir()
        monkeypatch.setenv(name, str(d))
    monkeypatch.setenv("XDG_DATA_HOME", str(_SESSION_DATA))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(_SESSION_RUNTIME))
    return tmp_path


@pytest.fixture
def own_runtime_dir(monkeypatch: pytest.MonkeyPatch) -> Path:
    """A runtime directory of the test's own, for tests that make links in it."""
    runtime = Path(tempfile.mkdtemp(prefix="nr", dir="/tmp"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    yield runtime
    shutil.rmtree(runtime, ignore_errors=True)


@pytest.fixture(autouse=True)
def gui_thread_garbage_collection() -> None:
    """Collect cyclic garbage on the main thread after each test; once a QApplication
    exists, the app's own GUI-thread collector takes over during tests too."""
    yield
    from PySide6.QtWidgets import QApplication

    from app.qt import collector

    if QApplication.instance() is not None:
        collector.install()
    collector.collect_due()


@pytest.fixture(scope="session")
def db() -> Iterator[osdb.OSDatabaseClient]:
    """The shared OS database, loaded with osinfo-db's untranslated names (libosinfo picks
    names by the locale at load time, and tests compare names). One helper process serves
    the whole session: the fixture holds it."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LANGUAGE", "C")
        database = osdb.database()
        lease = database.hold()
        database.load()
    yield database
    lease.release()


@pytest.fixture
def use_keyring():
    """keyring.set_keyring, with the process's own backend put back afterwards."""
    previous = keyring.get_keyring()
    yield keyring.set_keyring
    keyring.set_keyring(previous)


@pytest.fixture
def memory_keyring(use_keyring) -> MemoryKeyring:
    backend = MemoryKeyring()
    use_keyring(backend)
    return backend
