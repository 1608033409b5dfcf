"""The layering rules of DESIGN.md, checked: app.core imports no Qt, and app never imports
widgets (except the composition root, app/__main__.py, at run time)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_importing_every_core_module_loads_no_qt() -> None:
    modules = sorted(
        ".".join(p.relative_to(ROOT).with_suffix("").parts)
        for p in (ROOT / "app" / "core").rglob("*.py")
        if p.name != "__init__.py"
    )
    assert "app.core.connection" in modules  # the walk found the package
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('PySide6', 'shiboken6', 'pyqtgraph', 'widgets'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == ""


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_app_never_imports_widgets() -> None:
    offenders = []
    for path in (ROOT / "app").rglob("*.py"):
        if path == ROOT / "app" / "__main__.py":
            continue
        if any(n == "widgets" or n.startswith("widgets.") for n in _imports(path)):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_core_has_no_qt_import_statements() -> None:
    offenders = []
    for path in (ROOT / "app" / "core").rglob("*.py"):
        if any(n.split(".")[0] in ("PySide6", "shiboken6", "pyqtgraph") for n in _imports(path)):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
