"""Where Nido's file dialogs start: the folder the person last used for the same purpose
(kept in the settings across restarts), else the desktop's standard folder for it
(Pictures for screenshots, Downloads for disc images), else the home folder.

Never a folder that does not exist: Qt's dialogs then open in the working directory, or
take the folder's path for a file name.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path

from PySide6.QtCore import QStandardPaths

from app.core.settings import Settings

_Location = QStandardPaths.StandardLocation


class Purpose(StrEnum):
    """What a file dialog is for; each remembers its own folder."""

    SCREENSHOTS = "screenshots"
    SEND_FILES = "send-files"
    DISC_IMAGES = "disc-images"  # install discs, and discs shared over USB
    DISK_IMAGES = "disk-images"  # disks imported into a new VM


_STANDARD = {
    Purpose.SCREENSHOTS: _Location.PicturesLocation,
    Purpose.SEND_FILES: _Location.HomeLocation,
    Purpose.DISC_IMAGES: _Location.DownloadLocation,  # disc images are mostly downloaded
    Purpose.DISK_IMAGES: _Location.HomeLocation,
}


class Folders:
    """The remembered folders, in ``settings`` (saved with ``save``); with no settings,
    for this run only."""

    def __init__(
        self, settings: Settings | None = None, save: Callable[[], None] | None = None
    ) -> None:
        self._settings = settings or Settings()
        self._save = save

    def start(self, purpose: Purpose) -> str:
        """The folder a dialog for ``purpose`` opens in."""
        for folder in (
            self._settings.folders.get(purpose.value, ""),
            QStandardPaths.writableLocation(_STANDARD[purpose]),
        ):
            if folder and os.path.isdir(folder):
                return folder
        return str(Path.home())

    def used(self, purpose: Purpose, path: str | Path) -> None:
        """The person picked ``path`` (a file) for ``purpose``: start there next time."""
        folder = str(Path(path).parent)
        if self._settings.folders.get(purpose.value) == folder:
            return
        self._settings.folders[purpose.value] = folder
        if self._save is not None:
            self._save()
