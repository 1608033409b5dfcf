"""Shared test set-up: Qt runs offscreen, and every test gets its own XDG directories so
nothing touches the real user's settings, VMs or logs."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def private_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Fresh config, data, state and runtime directories for each test."""
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
        d = tmp_path / name.lower()
        d.mkdir()
        monkeypatch.setenv(name, str(d))
    runtime = Path(tempfile.mkdtemp(prefix="nr", dir="/tmp"))
    runtime.chmod(0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    return tmp_path
