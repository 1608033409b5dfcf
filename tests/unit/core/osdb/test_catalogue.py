"""The searchable OS list: every OS of osinfo-db, newest first per product line, EOL
releases hidden unless asked for."""

from __future__ import annotations

import datetime as dt

import pytest

from app.core.errors import ErrorKind
from app.core.osdb import (
    GIB,
    Match,
    OSDatabase,
    OSInfo,
    ReleaseStatus,
    UnknownOSError,
    family_name,
)

# The day this was written: the database is from 2022-11, four years older.
TODAY = dt.date(2026, 11, 26)


def _short_ids(infos: list[OSInfo] | tuple[OSInfo, ...]) -> list[str]:
    return [i.short_id for i in infos]


def test_catalogue_holds_every_os_once(db: OSDatabase) -> None:
    cat = db.catalogue()
    assert len(cat) > 700
    ids = [i.id for i in cat]
    assert len(ids) == len(set(ids))
    assert "http://libosinfo.org/unknown" not in ids  # 'Unknown' is no choice
    assert all(i.name and i.short_id for i in cat)
    assert db.catalogue() is cat  # built once


def test_catalogue_is_grouped_newest_first(db: OSDatabase) -> None:
    debian = [i for i in db.catalogue() if i.distro == "debian"]
    assert _short_ids(debian[:3]) == ["debian11", "debian10", "debian9"]
    assert debian[-1].short_id == "debiantesting"  # undated: after the releases
    dated = [i.release_date for i in debian if i.release_date]
    assert dated == sorted(dated, reverse=True)
    # Each product line is contiguous.
    groups = [family_name(i) for i in db.catalogue()]
    seen: list[str] = []
    for g in groups:
        if not seen or seen[-1] != g:
            assert g not in seen, g
            seen.append(g)


def test_search_hides_eol_releases_by_default(db: OSDatabase) -> None:
    debian = _short_ids(db.search("debian", today=dt.date(2023, 1, 1)))
    assert debian[:2] == ["debian11", "debian10"]
    assert "debian6" not in debian  # EOL 2016
    everything = _short_ids(db.search("debian", include_eol=True, today=dt.date(2023, 1, 1)))
    assert "debian6" in everything and set(debian) < set(everything)


def test_newest_release_of_an_old_database_stays_listed(db: OSDatabase) -> None:
    # Windows 11 has no EOL date and is more than five years old in TODAY's terms, but
    # osinfo-db 2022-11 knows nothing newer, so it must not count as EOL.
    assert db.get("win11").is_eol(TODAY) is False
    assert _short_ids(db.search("windows 11", today=TODAY)) == ["win11"]
    assert db.get("winxp").is_eol(TODAY)
    assert "winxp" not in _short_ids(db.search("windows", today=TODAY))


def test_search_ranks_short_ids_then_name_prefixes(db: OSDatabase) -> None:
    assert db.search("win11", today=TODAY)[0].short_id == "win11"
    assert db.search("WIN11", today=TODAY)[0].short_id == "win11"
    ubuntu = db.search("Ubuntu 22.04", today=TODAY)
    assert ubuntu[0].short_id == "ubuntu22.04"
    assert _short_ids(db.search("bullseye", today=dt.date(2023, 1, 1))) == ["debian11"]
    assert db.search("no such operating system") == []


def test_search_without_text_lists_the_current_catalogue(db: OSDatabase) -> None:
    current = db.search("", today=TODAY)
    assert 0 < len(current) < len(db.catalogue())
    assert not any(i.is_eol(TODAY) for i in current)
    assert len(db.search("", include_eol=True)) == len(db.catalogue())


def test_get_by_id_short_id_and_alias(db: OSDatabase) -> None:
    by_id = db.get("http://debian.org/debian/11")
    assert db.get("debian11") == by_id
    assert db.get("debianbullseye") == by_id
    assert by_id.short_ids == ("debian11", "debianbullseye")
    assert by_id.status is ReleaseStatus.RELEASED


def test_get_unknown_os(db: OSDatabase) -> None:
    with pytest.raises(UnknownOSError) as info:
        db.get("plan9")
    assert info.value.kind is ErrorKind.NOT_FOUND
    assert "plan9" in info.value.summary
    with pytest.raises(UnknownOSError):
        db.defaults_for("plan9")


def test_release_metadata(db: OSDatabase) -> None:
    win10 = db.get("win10")
    assert win10.eol_date == dt.date(2029, 1, 9)
    assert win10.superseded  # by Windows 11
    assert db.get("archlinux").status is ReleaseStatus.ROLLING
    unknown = db.get("fedora-unknown")
    assert unknown.is_unknown_release and unknown.status is ReleaseStatus.PRERELEASE
    assert family_name(unknown) == "Fedora"
    assert family_name(db.get("ubuntu22.04")) == "Ubuntu"
    assert family_name(db.get("win11")) == "Microsoft Windows"


def test_defaults_for_a_catalogue_choice(db: OSDatabase) -> None:
    d = db.defaults_for(db.get("ubuntu22.04"))
    assert d.match is Match.EXACT and d.message == ""
    assert d.ram.value == 4 * GIB
    by_short_id = db.defaults_for("ubuntu22.04")
    assert by_short_id == d


def test_defaults_for_a_catch_all_entry_says_so(db: OSDatabase) -> None:
    d = db.defaults_for("fedora-unknown")
    assert d.match is Match.FAMILY
    assert d.message == "The settings are osinfo-db's for Fedora in general: check them."


def test_defaults_for_nothing(db: OSDatabase) -> None:
    d = db.defaults_for(None)
    assert d.match is Match.NONE and d.os is None
    assert d.message == "Nido does not know this OS: the settings are guesses."
    assert d.guessed and set(d.guessed_fields) == set(d.values())


@pytest.mark.parametrize(
    ("eol", "released", "status", "superseded", "expected"),
    [
        (dt.date(2026, 1, 1), None, ReleaseStatus.RELEASED, False, True),
        (dt.date(2027, 1, 1), dt.date(2000, 1, 1), ReleaseStatus.RELEASED, True, False),
        (None, dt.date(2020, 1, 1), ReleaseStatus.RELEASED, True, True),
        (None, dt.date(2020, 1, 1), ReleaseStatus.RELEASED, False, False),
        (None, dt.date(2023, 1, 1), ReleaseStatus.RELEASED, True, False),
        (None, dt.date(2000, 1, 1), ReleaseStatus.ROLLING, True, False),
        (None, None, ReleaseStatus.RELEASED, True, False),
    ],
)
def test_eol_rule(
    eol: dt.date | None,
    released: dt.date | None,
    status: ReleaseStatus,
    superseded: bool,
    expected: bool,
) -> None:
    info = OSInfo(
        id="http://example.org/os/1",
        short_id="os1",
        name="OS 1",
        release_date=released,
        eol_date=eol,
        status=status,
        superseded=superseded,
    )
    assert info.is_eol(TODAY) is expected
