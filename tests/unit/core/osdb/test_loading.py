"""The database loads lazily, once, and serves callers on any thread."""

from __future__ import annotations

import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from app.core.osdb import Match, OSDatabase, data_version

ROOT = Path(__file__).resolve().parents[4]


def test_import_loads_neither_gi_nor_qt() -> None:
    code = (
        "import sys\n"
        "import app.core.osdb as osdb\n"
        "db = osdb.database()\n"
        "assert not db.loaded\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('gi', 'PySide6')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_first_calls_from_many_threads_load_once(isos: dict[str, Path]) -> None:
    db = OSDatabase()
    assert not db.loaded and db.load_seconds is None
    names = ["debian11", "win11", "fedora39", "unknown", "winxp", "opensuse15.4"] * 4
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda n: db.detect(isos[n]), names))
    assert db.loaded and db.load_seconds is not None
    loaded_in = db.load_seconds
    db.load()  # already loaded: nothing happens
    assert db.load_seconds == loaded_in
    by_name: dict[str, object] = {}
    for name, det in zip(names, results, strict=True):
        assert by_name.setdefault(name, det) == det
    assert results[0].os is not None and results[0].os.short_id == "debian11"
    assert results[3].match is Match.NONE


def test_data_version_names_the_osinfo_db_release() -> None:
    version = data_version()
    assert version[:4].isdigit() and version[4] == "-" and len(version) == 10


def test_detection_does_not_wait_for_glibs_default_context(isos: dict[str, Path]) -> None:
    """libosinfo runs a main loop to read the image; on GLib's global default context it
    waited for whoever owned that context (a hang of the whole suite, found in a run)."""
    from gi.repository import GLib

    db = OSDatabase()
    db.load()
    results: list[object] = []
    worker = threading.Thread(target=lambda: results.append(db.detect(isos["debian11"])))
    worker.daemon = True  # if it hangs, it must not keep the test process alive
    default = GLib.MainContext.default()
    assert default.acquire()  # this thread owns the global default context meanwhile
    try:
        worker.start()
        worker.join(60)
    finally:
        default.release()
    assert not worker.is_alive(), "detection waited for GLib's default main context"
    assert results[0].os is not None and results[0].os.short_id == "debian11"
