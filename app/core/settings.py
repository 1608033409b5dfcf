"""What Nido remembers across restarts: the connection list and a few preferences, in a
small JSON file under the XDG config directory. Written atomically, so a crash never
leaves a half-written file behind.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from app.core import uris
from app.core.connection import ConnectionSpec

log = logging.getLogger(__name__)

#: The most custom key combinations kept for the display's Send Key menu.
MAX_CUSTOM_KEYS = 20


def config_dir() -> Path:
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "nido"


@dataclass
class Settings:
    connections: list[ConnectionSpec] = field(default_factory=list)
    # What to do with running guests on the embedded connection when Nido quits:
    # "ask", "leave" or "shutdown".
    quit_embedded_guests: str = "ask"
    thumbnails: bool = True
    # Key combinations the person added to the display's Send Key menu, as Qt's portable
    # key-sequence text ("Ctrl+Alt+F5"), oldest first.
    custom_keys: list[str] = field(default_factory=list)
    # What releases the display's keyboard grab: an id from
    # widgets.display.keys.RELEASE_SHORTCUTS (an unknown one means the default).
    grab_release: str = "ctrl+alt"
    # Where each kind of window was, and how big ("main"), as Qt's saveGeometry() in
    # base64: restored at the next start.
    window_geometry: dict[str, str] = field(default_factory=dict)
    # Whether a console asks the guest for a resolution that fills its window.
    resize_guest: bool = True
    # The folder each kind of file dialog was last used in ("screenshots", "send-files",
    # "disc-images"; see widgets.folders): the next one starts there.
    folders: dict[str, str] = field(default_factory=dict)

    @classmethod
    def defaults(cls) -> Settings:
        return cls(connections=[ConnectionSpec(kind=uris.Kind.LOCAL)])


def load(path: Path | None = None) -> Settings:
    """The saved settings, or the defaults when there are none or they cannot be read."""
    path = path or config_dir() / "settings.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
    except FileNotFoundError:
        return Settings.defaults()
    except (OSError, ValueError):
        log.warning("could not read %s; using defaults", path, exc_info=True)
        _keep_copy(path)
        return Settings.defaults()
    conns = []
    entries = data.get("connections", [])
    for entry in entries if isinstance(entries, list) else []:
        try:
            conns.append(ConnectionSpec.from_dict(entry))
        except (KeyError, ValueError, TypeError, AttributeError):
            # One damaged entry costs that entry only; the file is kept for the person.
            log.warning("skipping a damaged connection in %s: %r", path, entry)
            _keep_copy(path)
    quit_mode = data.get("quit_embedded_guests", "ask")
    if quit_mode not in ("ask", "leave", "shutdown"):
        quit_mode = "ask"
    custom_keys = data.get("custom_keys", [])
    if not isinstance(custom_keys, list):
        custom_keys = []
    grab_release = data.get("grab_release", "ctrl+alt")
    geometry = data.get("window_geometry", {})
    if not isinstance(geometry, dict):
        geometry = {}
    folders = data.get("folders", {})
    if not isinstance(folders, dict):
        folders = {}
    return Settings(
        connections=conns,
        quit_embedded_guests=quit_mode,
        thumbnails=bool(data.get("thumbnails", True)),
        resize_guest=bool(data.get("resize_guest", True)),
        custom_keys=[k for k in custom_keys if isinstance(k, str) and k][-MAX_CUSTOM_KEYS:],
        grab_release=grab_release if isinstance(grab_release, str) else "ctrl+alt",
        window_geometry=_text_map(geometry),
        folders=_text_map(folders),
    )


def _text_map(value: dict) -> dict[str, str]:
    """The text-to-text entries of a JSON object; anything else in it is dropped."""
    return {k: v for k, v in value.items() if isinstance(k, str) and isinstance(v, str)}


def _keep_copy(path: Path) -> None:
    """Keep a damaged settings file beside the new one, so nothing the person wrote is lost."""
    backup = path.with_name(path.name + ".damaged")
    try:
        backup.write_bytes(path.read_bytes())
    except OSError:
        log.warning("could not keep a copy of %s", path, exc_info=True)


def save(settings: Settings, path: Path | None = None) -> None:
    path = path or config_dir() / "settings.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "connections": [c.to_dict() for c in settings.connections],
        "quit_embedded_guests": settings.quit_embedded_guests,
        "thumbnails": settings.thumbnails,
        "resize_guest": settings.resize_guest,
        "custom_keys": list(settings.custom_keys),
        "grab_release": settings.grab_release,
        "window_geometry": dict(settings.window_geometry),
        "folders": dict(settings.folders),
    }
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".settings-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
