"""Display passwords remembered in the desktop keyring (the ``keyring`` package: Secret
Service, KWallet, macOS Keychain...), never in a file of Nido's.

Every function here may block — Secret Service talks D-Bus and may wait for the person to
unlock the keyring — so they run on :func:`pool`, one call at a time and in order (a
"forget" is done before the "recall" queued after it), never on the GUI thread.

A machine with no keyring backend (a headless one, say) is not an error: :func:`recall`
says why there is none, and the display asks for the password every time.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from dataclasses import dataclass

from app.core.workers import WorkerPool

log = logging.getLogger(__name__)

SERVICE = "Nido display"
#: The short reason shown beside the disabled "Remember" box.
NO_KEYRING = "No desktop keyring is available here."

_pool: WorkerPool | None = None
_pool_lock = threading.Lock()


def pool() -> WorkerPool:
    """The one small pool keyring calls run on (created on first use)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = WorkerPool("keyring", size=1)
        return _pool


def account(uri: str, uuid: str) -> str:
    """The keyring's user name for one VM's display: its UUID on its host's URI."""
    return f"{uuid} on {uri}"


@dataclass(frozen=True)
class Recall:
    """What the keyring said: a password (or None), or why there is no keyring."""

    password: str | None
    unavailable: str | None = None  # None: the keyring works


def _backend():
    """The keyring backend, or None (with the reason logged) when there is none usable."""
    import keyring
    from keyring.backends import fail, null

    backend = keyring.get_keyring()
    if isinstance(backend, fail.Keyring | null.Keyring):
        log.info("no usable keyring backend (%s)", type(backend).__module__)
        return None
    return backend


def recall(name: str) -> Recall:
    """The remembered password for ``name`` (blocking: for :func:`pool`)."""
    try:
        backend = _backend()
        if backend is None:
            return Recall(None, NO_KEYRING)
        return Recall(backend.get_password(SERVICE, name))
    except Exception as e:  # a broken or locked keyring: ask the person instead
        log.info("the keyring could not be read: %s", e)
        return Recall(None, f"The keyring could not be read: {e}")


def remember(name: str, password: str) -> None:
    """Store ``password`` for ``name`` (blocking: for :func:`pool`); raises on failure."""
    backend = _backend()
    if backend is None:
        raise RuntimeError(NO_KEYRING)
    backend.set_password(SERVICE, name, password)


def forget(name: str) -> None:
    """Drop the password remembered for ``name``, if any (blocking: for :func:`pool`)."""
    import keyring.errors

    backend = _backend()
    if backend is None:
        return
    with contextlib.suppress(keyring.errors.PasswordDeleteError):  # nothing was remembered
        backend.delete_password(SERVICE, name)
