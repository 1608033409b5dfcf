"""Integration fixtures: the widget helpers (the UI factory, the failure collector and
the no-libvirt-on-the-GUI-thread guard), reused for real QEMU."""

from __future__ import annotations

from tests.widgets.conftest import (  # noqa: F401 - fixtures, re-exported
    failures,
    make_ui,
    no_libvirt_on_the_gui_thread,
)
