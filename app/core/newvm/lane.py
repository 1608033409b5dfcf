"""Where creation's libvirt steps run.

Over libvirt's RPC client a connection has one call lane (`Connection.workers`, one
thread). Creating a VM mixes quick libvirt calls with long work that needs no libvirt at
all: ``qemu-img convert`` of a VMDK can take minutes. So `create()` itself runs on a
thread of the caller's choosing and hands only its libvirt steps to a `Call`:

    call = on_pool(lambda: conn.workers)   # each libvirt step queued on the lane, waited for
    newvm.create(virconn, spec, host, progress, cancelled, call=call)

Never pass a caller that queues on the pool `create()` itself runs on: with one thread it
would wait for itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from app.core.errors import ErrorKind, NidoError
from app.core.workers import WorkerPool

__all__ = ["Call", "direct", "on_pool"]

T = TypeVar("T")


class Call(Protocol):
    """Runs ``fn(*args)`` where libvirt calls may run, waits, and returns its result (or
    raises its exception)."""

    def __call__(self, fn: Callable[..., T], /, *args: Any) -> T: ...


def direct(fn: Callable[..., T], /, *args: Any) -> T:
    """Run the step right here (tests, and callers already on their connection's lane)."""
    return fn(*args)


def on_pool(pool_of: Callable[[], WorkerPool], label: str = "the host") -> Call:
    """A `Call` that queues each step on ``pool_of()`` (asked each time: a connection
    renews its pools when it reconnects) and waits for it."""

    def call(fn: Callable[..., T], /, *args: Any) -> T:
        try:
            future = pool_of().submit(fn, *args)
        except RuntimeError as exc:  # the pool closed: the connection went away
            raise NidoError(
                f"The connection to {label} has closed.", str(exc), ErrorKind.UNREACHABLE
            ) from exc
        return future.result()

    return call
