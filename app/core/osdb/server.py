"""Nido's OS-database helper: libosinfo in a process of its own.

    python -m app.core.osdb.server       (started by `app.core.osdb.client`, not by hand)

Loading osinfo-db through GObject introspection costs Nido about 55 MiB that freeing the
objects never gives back. Here it lives in a helper that the client starts while the
New-VM wizard needs it and stops afterwards, and the memory goes with it. A crash inside
libosinfo (on a malformed disc image, say) kills the helper, not Nido.

It answers `protocol` frames on stdin/stdout, one at a time, in order, with the in-process
`OSDatabase`. Anything else written to stdout (a stray print, a C library) goes to
stderr, so it cannot break a frame. It exits at the end of its input: when the client
stops it, and when Nido dies.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from typing import IO, Any

from app.core.osdb import protocol
from app.core.osdb.database import OSDatabase


def handlers(db: OSDatabase) -> dict[str, Callable[..., Any]]:
    """The requests the helper answers, by name."""

    def load() -> float | None:
        db.load()
        return db.load_seconds

    return {
        "load": load,
        "catalogue": db.catalogue,
        "get": db.get,
        "detect": db.detect,
        "facts": db.facts,
        "defaults_for": db.defaults_for,
        "pid": os.getpid,
    }


def serve(requests: IO[bytes], replies: IO[bytes], db: OSDatabase | None = None) -> None:
    """Answer requests until the input ends."""
    table = handlers(db or OSDatabase())
    while True:
        try:
            method, args, kwargs = protocol.read(requests)
        except EOFError:
            return
        try:
            fn = table.get(method)
            if fn is None:
                raise protocol.ProtocolError(f"no such request: {method!r}")
            reply: tuple[str, object] = ("ok", fn(*args, **kwargs))
        except Exception as exc:  # every failure goes back to the caller as data
            reply = ("error", protocol.error_record(exc))
        try:
            data = protocol.dumps(reply)
        except Exception as exc:  # a value that does not pickle: a bug, said as one
            data = protocol.dumps(("error", protocol.error_record(exc)))
        replies.write(data)
        replies.flush()


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C in Nido's terminal is Nido's
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # stray output to stderr: stdout carries frames only
    serve(sys.stdin.buffer, replies)
    replies.close()
    sys.stderr.flush()
    os._exit(0)  # nothing to tidy: freeing libosinfo's objects one by one takes time


if __name__ == "__main__":
    main()
