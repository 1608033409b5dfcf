"""Domain events of a libvirt connection, registered once and handed to every subscriber.

libvirt keeps at most one registration per (connection, event id, domain) for a given C
callback, and libvirt-python passes the same C callback for every Python function of an
event id: a second ``domainEventRegisterAny(None, id, ...)`` on one connection fails with
"event callback already tracked". The embedded connection is shared by the whole process
(:mod:`app.core.embedded`), so two users of it (a connection being replaced and its
successor, a disconnect and a quick reconnect) would collide, and a half-made registration
left behind locks every later one out. Here each connection is registered once, for as
long as anyone subscribes, and every event goes to all subscribers.

Subscribing and unsubscribing call libvirt (a round trip on a remote host): call them on a
worker. Handlers run on libvirt's event thread and must not call libvirt.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

import libvirt

log = logging.getLogger(__name__)

#: The events Nido follows. Lifecycle events keep libvirt's (event, detail); the others
#: are told as negative kinds, ``-event_id - 1``, with detail 0.
EVENT_IDS = (
    libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
    libvirt.VIR_DOMAIN_EVENT_ID_METADATA_CHANGE,
    libvirt.VIR_DOMAIN_EVENT_ID_DEVICE_ADDED,
    libvirt.VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED,
)

#: (domain UUID, event, detail)
Handler = Callable[[str, int, int], None]


def kind_of(event_id: int) -> int:
    """The event kind a non-lifecycle event id is told as."""
    return -event_id - 1


class _Fanout:
    """One connection's registrations and its subscribers."""

    def __init__(self, conn: libvirt.virConnect) -> None:
        self.conn = conn
        self.lock = threading.Lock()  # held across libvirt calls: one per connection
        self.callback_ids: list[int] = []
        self.handlers: dict[int, Handler] = {}
        self.retired = False

    def register(self) -> None:
        """All of EVENT_IDS, or none: a failure takes back what was registered."""
        try:
            for event_id in EVENT_IDS:
                self.callback_ids.append(
                    self.conn.domainEventRegisterAny(None, event_id, self.dispatch, event_id)
                )
        except libvirt.libvirtError:
            self.deregister()
            raise

    def deregister(self) -> None:
        ids, self.callback_ids = self.callback_ids, []
        for callback_id in ids:
            with contextlib.suppress(libvirt.libvirtError):
                self.conn.domainEventDeregisterAny(callback_id)

    def dispatch(self, _conn: libvirt.virConnect, dom: libvirt.virDomain, *args: object) -> None:
        # On libvirt's event thread. The last argument is our opaque: the event id.
        event_id = args[-1]
        if event_id == libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE:
            event, detail = int(args[0]), int(args[1])  # type: ignore[call-overload]
        else:
            event, detail = kind_of(int(event_id)), 0  # type: ignore[call-overload]
        try:
            uuid = dom.UUIDString()
        except libvirt.libvirtError:
            return
        for handler in list(self.handlers.values()):
            try:
                handler(uuid, event, detail)
            except Exception:
                log.exception("domain event handler failed")


@dataclass(frozen=True)
class Subscription:
    """What :func:`subscribe` returns; give it back to :func:`unsubscribe`."""

    fanout: _Fanout
    token: int


_lock = threading.Lock()
_fanouts: dict[int, _Fanout] = {}  # by id(conn); a fanout holds its conn, so ids stay unique
_tokens = itertools.count(1)


def subscribe(conn: libvirt.virConnect, handler: Handler) -> Subscription:
    """Have ``handler`` told every domain event on ``conn`` (blocking: registers with
    libvirt if nobody subscribed yet). Raises libvirtError if libvirt refuses."""
    while True:
        with _lock:
            fanout = _fanouts.get(id(conn))
            if fanout is None:
                fanout = _fanouts[id(conn)] = _Fanout(conn)
        with fanout.lock:
            if fanout.retired:
                continue  # its last subscriber left meanwhile: start a fresh one
            if not fanout.callback_ids:
                try:
                    fanout.register()
                except libvirt.libvirtError:
                    if not fanout.handlers:
                        _retire(fanout)
                    raise
            token = next(_tokens)
            fanout.handlers[token] = handler
            return Subscription(fanout, token)


def unsubscribe(subscription: Subscription) -> None:
    """Stop telling the handler; the last one out deregisters (blocking). Idempotent."""
    fanout = subscription.fanout
    with fanout.lock:
        if fanout.handlers.pop(subscription.token, None) is None or fanout.handlers:
            return
        _retire(fanout)
        fanout.deregister()


def _retire(fanout: _Fanout) -> None:
    """Take an empty fanout out of the table. Call with its lock held."""
    fanout.retired = True
    with _lock:
        if _fanouts.get(id(fanout.conn)) is fanout:
            del _fanouts[id(fanout.conn)]


def subscribers(conn: libvirt.virConnect) -> int:
    """How many handlers ``conn`` has now (for tests and diagnostics)."""
    with _lock:
        fanout = _fanouts.get(id(conn))
    return len(fanout.handlers) if fanout is not None else 0
