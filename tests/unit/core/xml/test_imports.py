"""The model is pure standard library: no Qt, and no libvirt either."""

from __future__ import annotations

import json
import subprocess
import sys


def test_importing_the_model_loads_neither_qt_nor_libvirt() -> None:
    code = (
        "import json, sys, app.core.xml\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    loaded = set(json.loads(done.stdout))
    assert "app" in loaded
    assert not loaded & {"PySide6", "shiboken6", "PyQt5", "PyQt6", "libvirt", "libvirtmod"}
