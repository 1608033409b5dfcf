"""Logging: a rotating file under the XDG state directory always, the terminal with --debug.

Every failure the person sees in a dialog is also written here with its details.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
from pathlib import Path


def log_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(base) / "nido"


def setup(debug: bool) -> Path:
    """Configure the root logger; returns the log file's path."""
    path = log_dir() / "nido.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s")
    file_handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=2 * 1024 * 1024, backupCount=3, encoding="utf-8"
    )
    file_handler.setFormatter(fmt)
    root.addHandler(file_handler)
    if debug:
        stream = logging.StreamHandler()
        stream.setFormatter(fmt)
        root.addHandler(stream)
    return path


def route_libvirt_log() -> Path:
    """Send libvirt's own log (warnings and worse) to a file beside Nido's, instead of the
    terminal. libvirt reads this when it initialises, so call it before importing it."""
    path = log_dir() / "libvirt.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("LIBVIRT_LOG_OUTPUTS", f"3:file:{path}")
    return path
