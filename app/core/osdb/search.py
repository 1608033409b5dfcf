"""Searching the OS catalogue, with no lock and no libosinfo.

The catalogue (`OSDatabase.catalogue()`) is an immutable snapshot: a tuple of frozen
`OSInfo`. Reading it the first time loads osinfo-db and holds the database's lock, so a
GUI fetches it once off its thread; filtering it afterwards is pure Python over the
snapshot, fast enough for every keystroke, and safe on any thread while detection holds
the database's lock.

    hits = filter_catalogue(snapshot, "win 11", include_eol=False)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from app.core.osdb.model import OSInfo

__all__ = ["filter_catalogue"]


def filter_catalogue(
    catalogue: Sequence[OSInfo],
    text: str = "",
    include_eol: bool = False,
    today: dt.date | None = None,
) -> list[OSInfo]:
    """The entries holding every word of `text` (in the name, version, vendor, codename
    or a short id), EOL releases hidden unless asked for. A short id typed in full comes
    first, then names that start with the text; otherwise the catalogue's order."""
    words = text.casefold().split()
    whole = " ".join(words)
    today = today or dt.date.today()
    hits = [
        i
        for i in catalogue
        if (include_eol or not i.is_eol(today)) and all(w in i.haystack() for w in words)
    ]

    def rank(i: OSInfo) -> int:
        if whole and whole in (s.casefold() for s in i.short_ids):
            return 0
        return 1 if whole and i.name.casefold().startswith(whole) else 2

    return sorted(hits, key=rank)
