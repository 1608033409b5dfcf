"""A stand-in for the OS-database helper, for the client's failure tests:

    python -m tests.unit.core.osdb.fake_helper MODE

- `die-on-second`: answers the first request, then kills itself on reading the second;
- `slow`: answers nothing, and waits for its input to end.
"""

from __future__ import annotations

import os
import signal
import sys

from app.core.osdb import protocol


def main() -> None:
    mode = sys.argv[1]
    requests, replies = sys.stdin.buffer, sys.stdout.buffer
    if mode == "slow":
        requests.read()  # until the client closes the pipe or dies
        return
    protocol.read(requests)
    protocol.write(replies, ("ok", 0.25))
    protocol.read(requests)
    os.kill(os.getpid(), signal.SIGKILL)


if __name__ == "__main__":
    main()
