"""Nido's own icons (SVG in resources/icons), so the look does not depend on the desktop's
icon theme being installed."""

from __future__ import annotations

from functools import cache

from PySide6.QtGui import QIcon

import resources


@cache
def icon(name: str) -> QIcon:
    path = resources.path(f"icons/{name}.svg")
    return QIcon(str(path)) if path.exists() else QIcon()
