"""The lock-free catalogue filter: on hand-made entries (no libosinfo), and on the real
snapshot while another thread holds the database's lock (as detection does)."""

from __future__ import annotations

import datetime as dt
import threading

from app.core.osdb import OSDatabase, OSInfo, filter_catalogue

TODAY = dt.date(2026, 11, 26)


def info(short_id: str, name: str, **fields: object) -> OSInfo:
    return OSInfo(f"http://x/{short_id}", short_id, name, short_ids=(short_id,), **fields)  # type: ignore[arg-type]


CATALOGUE = (
    info("debian12", "Debian 12", codename="bookworm", eol_date=dt.date(2028, 6, 30)),
    info("debian6", "Debian 6.0", codename="squeeze", eol_date=dt.date(2016, 2, 29)),
    info("win11", "Microsoft Windows 11", vendor="Microsoft Corporation"),
    info("mswin", "Other Windows", vendor="Microsoft Corporation"),
    info("win", "Windows Server", vendor="Microsoft Corporation"),
)


def ids(found: list[OSInfo]) -> list[str]:
    return [i.short_id for i in found]


def test_every_word_must_match_and_eol_is_hidden() -> None:
    assert ids(filter_catalogue(CATALOGUE, "debian", today=TODAY)) == ["debian12"]
    assert ids(filter_catalogue(CATALOGUE, "DEBIAN", True, TODAY)) == ["debian12", "debian6"]
    assert ids(filter_catalogue(CATALOGUE, "bookworm", today=TODAY)) == ["debian12"]
    assert ids(filter_catalogue(CATALOGUE, "microsoft 11", today=TODAY)) == ["win11"]
    assert filter_catalogue(CATALOGUE, "nothing like it", True, TODAY) == []


def test_a_short_id_typed_in_full_then_names_that_start_with_the_text() -> None:
    assert ids(filter_catalogue(CATALOGUE, "win", today=TODAY)) == ["win", "win11", "mswin"]
    assert ids(filter_catalogue(CATALOGUE, "windows", today=TODAY)) == ["win", "win11", "mswin"]
    assert ids(filter_catalogue(CATALOGUE, "other windows", today=TODAY)) == ["mswin"]


def test_no_text_lists_the_catalogue_in_its_order() -> None:
    assert ids(filter_catalogue(CATALOGUE, "", True, TODAY)) == ids(list(CATALOGUE))


def test_it_needs_no_lock_while_detection_holds_the_database(db: OSDatabase) -> None:
    snapshot = db.catalogue()
    held, done = threading.Event(), threading.Event()
    outcome: list[bool] = []

    def hold() -> None:
        with db._lock:  # what detect() and facts() do while libosinfo works
            held.set()
            outcome.append(done.wait(30.0))

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(30.0)
        found = filter_catalogue(snapshot, "win11", today=TODAY)
    finally:
        done.set()
        holder.join(30.0)
    assert found[0].short_id == "win11"
    assert outcome == [True]  # the lock was still held when the filter answered
    assert db.search("win11", today=TODAY) == found  # the database's search is the same
