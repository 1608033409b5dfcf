"""An in-memory desktop keyring for the display tests (the keyring package's backend API),
one that fails, and a wait for the keyring's worker."""

from __future__ import annotations

from jaraco.classes import properties
from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

from app.qt.display import passwords


class MemoryKeyring(KeyringBackend):
    """A keyring in a dict. Its priority raises, so keyring's own detection never picks it."""

    @properties.classproperty
    def priority(cls) -> float:
        raise RuntimeError("only set by tests")

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.entries.pop((service, username), None) is None:
            raise PasswordDeleteError("not there")


class BrokenKeyring(MemoryKeyring):
    """A keyring that is there but fails (a locked one whose unlock was refused, say)."""

    def get_password(self, service: str, username: str) -> str | None:
        raise RuntimeError("the collection is locked")


def drain_keyring() -> None:
    """Wait until every keyring call queued so far is done (the pool runs them in order)."""
    passwords.pool().submit(lambda: None).result(timeout=5)
