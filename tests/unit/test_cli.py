"""The command line, in virt-manager's spirit."""

from __future__ import annotations

import subprocess
import sys

import pytest

from app import __version__, cli


def test_options() -> None:
    opts = cli.parse(["--connect", "qemu:///system", "--show-domain-console", "web", "--debug"])
    assert opts.connect == "qemu:///system"
    assert opts.show_domain_console == "web"
    assert opts.debug is True
    assert cli.parse([]).connect is None


def test_qt_arguments_pass_through() -> None:
    assert cli.parse(["-style", "fusion"]).qt_args == ["-style", "fusion"]


def test_version_prints_and_exits() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "app", "--version"], capture_output=True, text=True, timeout=30
    )
    assert out.returncode == 0 and out.stdout.strip() == f"nido {__version__}"


def test_help_names_every_option(capsys) -> None:
    with pytest.raises(SystemExit):
        cli.parse(["--help"])
    text = capsys.readouterr().out
    for flag in ("--connect", "--show-domain-console", "--debug", "--version"):
        assert flag in text
