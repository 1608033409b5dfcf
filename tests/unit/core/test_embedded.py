"""Nido's qemu.conf for the embedded driver."""

from __future__ import annotations

from pathlib import Path

from app.core import embedded


def test_conf_sends_qemu_output_to_files_not_virtlogd() -> None:
    text = embedded.qemu_conf_text(euid=1000)
    assert 'stdio_handler = "file"' in text
    assert "user =" not in text  # an ordinary user's QEMU runs as that user anyway


def test_root_runs_qemu_and_swtpm_as_root_without_relabelling() -> None:
    text = embedded.qemu_conf_text(euid=0)
    assert 'user = "root"' in text and "dynamic_ownership = 0" in text
    assert 'swtpm_user = "root"' in text


def test_prepare_root_writes_once_and_keeps_edits(tmp_path: Path) -> None:
    conf = embedded.prepare_root(tmp_path / "r")
    assert conf == tmp_path / "r" / "etc" / "qemu.conf"
    conf.write_text("# mine\n")
    embedded.prepare_root(tmp_path / "r")
    assert conf.read_text() == "# mine\n"


def test_an_older_nido_file_gets_new_settings_added(tmp_path: Path) -> None:
    conf = embedded.prepare_root(tmp_path / "r")
    lines = conf.read_text().splitlines()
    conf.write_text("\n".join(lines[:2]) + "\n")  # as an earlier Nido wrote it
    embedded.prepare_root(tmp_path / "r")
    assert conf.read_text() == embedded.qemu_conf_text()
