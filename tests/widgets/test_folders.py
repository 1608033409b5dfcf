"""Where file dialogs start: the folder last used for the same purpose, else the standard
one when it exists, else home; and the wizard's Browse… buttons, which start beside a path
already typed."""

from __future__ import annotations

from pathlib import Path

from app.core.settings import Settings
from widgets.folders import Folders, Purpose
from widgets.newvm import source_page
from widgets.newvm.source_page import PathField


def _home(tmp_path: Path, monkeypatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))  # no user-dirs.dirs
    return home


def test_remembered_then_standard_then_home(tmp_path: Path, monkeypatch) -> None:
    home = _home(tmp_path, monkeypatch)
    saved: list[dict] = []
    settings = Settings()
    folders = Folders(settings, lambda: saved.append(dict(settings.folders)))
    assert folders.start(Purpose.DISC_IMAGES) == str(home)  # no Downloads folder
    (home / "Downloads").mkdir()
    assert folders.start(Purpose.DISC_IMAGES) == str(home / "Downloads")
    isos = tmp_path / "isos"
    isos.mkdir()
    folders.used(Purpose.DISC_IMAGES, isos / "debian.iso")
    assert folders.start(Purpose.DISC_IMAGES) == str(isos)
    assert saved == [{"disc-images": str(isos)}]
    folders.used(Purpose.DISC_IMAGES, isos / "other.iso")  # the same folder: no new save
    assert len(saved) == 1
    assert folders.start(Purpose.SCREENSHOTS) == str(home)  # each purpose its own
    isos.rmdir()  # a remembered folder that went away is passed over
    assert folders.start(Purpose.DISC_IMAGES) == str(home / "Downloads")


def test_browse_starts_beside_the_typed_path_else_the_remembered_folder(
    qtbot, tmp_path: Path, monkeypatch
) -> None:
    home = _home(tmp_path, monkeypatch)
    offered: list[str] = []
    picked = tmp_path / "isos" / "debian.iso"
    picked.parent.mkdir()

    def open_dialog(_parent, _title, start, _filters):
        offered.append(start)
        return str(picked), _filters

    monkeypatch.setattr(source_page.QFileDialog, "getOpenFileName", open_dialog)
    folders = Folders()
    field = PathField("", "Choose a disc image", "*.iso", folders, Purpose.DISC_IMAGES)
    qtbot.addWidget(field)
    field.browse.click()
    assert offered[-1] == str(home)
    assert field.edit.text() == str(picked)
    field.edit.setText(str(tmp_path / "typed" / "half"))  # a folder that does not exist
    field.browse.click()
    assert offered[-1] == str(picked.parent)  # the remembered one
    field.edit.setText(str(home / "x.iso"))
    field.browse.click()
    assert offered[-1] == str(home)
