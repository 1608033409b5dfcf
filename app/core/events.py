"""The libvirt event loop: one daemon thread running libvirt's default event implementation.

It must be registered before the first connection opens. The embedded QEMU driver does its
QEMU-monitor I/O on this thread, and every domain/connection event callback arrives on it,
so callbacks here only record facts and hand them on; they never make libvirt calls.
"""

from __future__ import annotations

import logging
import threading

import libvirt

log = logging.getLogger(__name__)

_lock = threading.Lock()
_thread: threading.Thread | None = None


def _run() -> None:
    while True:
        try:
            libvirt.virEventRunDefaultImpl()
        except libvirt.libvirtError:  # pragma: no cover - libvirt logs the cause itself
            log.exception("libvirt event loop iteration failed")


def ensure_event_loop() -> None:
    """Register libvirt's default event implementation and start its thread, once."""
    global _thread
    with _lock:
        if _thread is not None:
            return
        libvirt.virEventRegisterDefaultImpl()
        # Silence libvirt's default error printer: every error reaches the person through
        # NidoError and the log instead of raw stderr lines.
        libvirt.registerErrorHandler(_log_libvirt_error, None)
        _thread = threading.Thread(target=_run, name="libvirt-events", daemon=True)
        _thread.start()


def _log_libvirt_error(_ctx: object, err: tuple) -> None:
    # err is (code, domain, message, level, str1, str2, str3, int1, int2)
    log.debug("libvirt: %s (code %s)", err[2], err[0])


def event_thread_running() -> bool:
    return _thread is not None and _thread.is_alive()
