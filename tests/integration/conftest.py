"""Integration fixtures: the widget helpers, plus real QEMU through the embedded driver."""

from __future__ import annotations

from tests.widgets.conftest import failures  # noqa: F401 - a fixture, re-exported
