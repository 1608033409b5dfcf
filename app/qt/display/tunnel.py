"""Sockets to a display server on another computer: TCP, or an SSH tunnel (blocking calls,
run on a connection's workers, like the rest of the opener).

An SSH tunnel is ``ssh -W host:port`` with its stdin and stdout on one end of a
``socket.socketpair()``; the session gets the other end, a :class:`TunnelSocket`, so the
transport reads and writes an ordinary socket. Closing that socket ends the tunnel: ssh
sees end-of-file and exits, and a reaper thread waits for it, terminating (then killing)
an ssh that lingers, so no process or zombie outlives its session. ssh's standard error
is kept for the error a failed login or forward turns into.

A SPICE channel's descriptor goes to spice-client-glib, which closes it itself, and SPICE
clients speak first, so there is no first byte to wait for: such a tunnel
(``start_tunnel(..., watch_peer=True)``) keeps ssh's end of the pair and ends ssh once the
channel's end is closed, even an ssh stuck in a login that never reads its input; and
:meth:`SshTunnel.failure` says afterwards why a channel's connection ended, from ssh's exit.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import socket
import subprocess
import threading
from collections.abc import Sequence

from app.core.errors import ErrorKind, NidoError

log = logging.getLogger(__name__)

#: How long a TCP connect or an SSH login and forward may take before giving up (s).
CONNECT_TIMEOUT_S = 10.0
#: After its socket closes, how long ssh has to exit by itself, then after SIGTERM (s).
EXIT_GRACE_S = 2.0
#: How much of ssh's standard error is kept for error details.
STDERR_KEEP = 8192


class SshTunnel:
    """One ``ssh -W`` process: its standard error, and its end."""

    def __init__(self, process: subprocess.Popen[bytes], argv: Sequence[str]) -> None:
        self.process = process
        self.argv = tuple(argv)
        self._stderr = bytearray()
        self._lock = threading.Lock()
        self._closed = False
        self._stderr_done = threading.Event()
        self._exited = threading.Event()
        threading.Thread(target=self._watch, name="ssh-tunnel-stderr", daemon=True).start()

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def stderr(self) -> str:
        with self._lock:
            return self._stderr.decode(errors="replace").strip()

    def wait_stderr(self, timeout: float) -> str:
        """ssh's standard error once it closed it (it exited), or what came by ``timeout``."""
        self._stderr_done.wait(timeout)
        return self.stderr

    def _watch(self) -> None:
        stream = self.process.stderr
        assert stream is not None
        try:
            while chunk := stream.read1(4096):
                with self._lock:
                    self._stderr += chunk
                    del self._stderr[:-STDERR_KEEP]
        except (OSError, ValueError):
            pass
        finally:
            stream.close()
            self._stderr_done.set()
        # ssh closes its standard error when it exits: reap it (this thread alone waits).
        self.process.wait()
        self._exited.set()

    @property
    def exited(self) -> bool:
        """Whether the process has ended and been reaped."""
        return self._exited.is_set()

    def failure(self, host: str) -> NidoError | None:
        """Why ssh ended by itself (a refused login, a forward that failed), once it has;
        None while it runs, after a clean exit, or when Nido ended it."""
        with self._lock:
            closed = self._closed
        if closed or not self.exited or self.process.returncode == 0:
            return None
        return ssh_failure(host, self.argv, self.wait_stderr(EXIT_GRACE_S))

    def watch_peer(self, theirs: socket.socket) -> None:
        """Keep ``theirs`` (ssh's end of the pair) and end ssh once the other end is
        closed; let go of it once ssh exits, so the other end sees end-of-file."""
        threading.Thread(
            target=self._watch_peer, args=(theirs,), name="ssh-tunnel-peer", daemon=True
        ).start()

    def _watch_peer(self, theirs: socket.socket) -> None:
        poller = select.poll()
        # POLLRDHUP alone: the data ssh reads must not wake this thread, only the hang-up.
        poller.register(theirs, select.POLLRDHUP)
        try:
            pidfd = os.pidfd_open(self.pid)
        except OSError:  # an old kernel: look at the process every second instead
            pidfd = None
        else:
            poller.register(pidfd, select.POLLIN)
        ssh_gone = False
        try:
            while True:
                events = poller.poll(None if pidfd is not None else 1000)
                if any(fd == pidfd for fd, _ in events) or self.exited:
                    ssh_gone = True  # by itself: failure() says why
                    break
                if events:
                    break  # the channel's end was closed
        finally:
            theirs.close()
            if pidfd is not None:
                os.close(pidfd)
        if not ssh_gone:
            self.close()  # the channel let go: ssh must end, even one stuck in its login

    def close(self) -> None:
        """End the process without waiting here (this may run on the GUI thread)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        threading.Thread(target=self._end, name="ssh-tunnel-reaper", daemon=True).start()

    def _end(self) -> None:
        # End-of-file on its stdin ends ``ssh -W``; one that lingers is ended.
        for stop in (self.process.terminate, self.process.kill):
            if self._exited.wait(EXIT_GRACE_S):
                return
            log.info("ssh tunnel %d still running after its socket closed: %s", self.pid, stop)
            with contextlib.suppress(ProcessLookupError):
                stop()


class TunnelSocket(socket.socket):
    """The session's end of an SSH tunnel: closing it also ends the ssh process."""

    tunnel: SshTunnel | None = None

    @classmethod
    def wrap(cls, sock: socket.socket, tunnel: SshTunnel) -> TunnelSocket:
        wrapped = cls(sock.family, sock.type, sock.proto, fileno=sock.detach())
        wrapped.tunnel = tunnel
        return wrapped

    def close(self) -> None:
        super().close()
        if self.tunnel is not None:
            self.tunnel.close()


def connect_tcp(host: str, port: int, timeout: float = CONNECT_TIMEOUT_S) -> socket.socket:
    """A TCP connection to a display server (blocking, at most ``timeout``)."""
    where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except TimeoutError as e:
        raise NidoError(
            f"The display at {where} did not answer.", f"connect: {e}", ErrorKind.TIMEOUT
        ) from None
    except ConnectionRefusedError as e:
        raise NidoError(
            f"Nothing answers on the display's port at {where}.",
            f"connect: {e}",
            ErrorKind.UNREACHABLE,
        ) from None
    except OSError as e:
        raise NidoError(
            f"Nido cannot reach the display at {where}: {e.strerror or e}.",
            f"connect: {e!r}",
            ErrorKind.UNREACHABLE,
        ) from None
    sock.settimeout(None)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def start_tunnel(
    argv: Sequence[str], *, watch_peer: bool = False
) -> tuple[socket.socket, SshTunnel]:
    """Run ``argv`` (an ``ssh -W`` command) on one end of a socket pair; the other end and
    the tunnel come back. With ``watch_peer``, ssh ends when that end is closed (see
    :meth:`SshTunnel.watch_peer`). Raises a NidoError when the program cannot start."""
    ours, theirs = socket.socketpair()
    try:
        process = subprocess.Popen(
            list(argv),
            stdin=theirs.fileno(),
            stdout=theirs.fileno(),
            stderr=subprocess.PIPE,
            start_new_session=True,  # no terminal: ssh can never prompt on ours
        )
    except OSError as e:
        ours.close()
        theirs.close()
        raise NidoError(
            f"Nido cannot run “{argv[0]}” to reach the display over SSH: "
            f"{e.strerror or e}. Install the OpenSSH client.",
            f"{' '.join(argv)}: {e!r}",
            ErrorKind.UNSUPPORTED,
        ) from None
    tunnel = SshTunnel(process, argv)
    if watch_peer:
        tunnel.watch_peer(theirs)
    else:
        theirs.close()
    return ours, tunnel


def open_ssh_tunnel(
    argv: Sequence[str], host: str, *, timeout: float = CONNECT_TIMEOUT_S
) -> TunnelSocket:
    """A socket to a display server through ``ssh -W`` (``argv``), once the server has
    spoken: a VNC server sends its version first, so the first byte proves the login and
    the forward worked. ``host`` is the SSH host, for messages. Blocking."""
    ours, tunnel = start_tunnel(argv)
    poller = select.poll()  # not select(): descriptors past 1023 are normal in a long run
    poller.register(ours, select.POLLIN)
    try:
        readable = poller.poll(timeout * 1000)
        first = ours.recv(1, socket.MSG_PEEK) if readable else None
    except OSError as e:
        first = b""
        log.info("ssh tunnel socket failed: %s", e)
    if first:
        return TunnelSocket.wrap(ours, tunnel)
    ours.close()
    tunnel.close()
    if first is None:
        raise NidoError(
            f"The SSH connection to {host} did not bring up the display in {timeout:.0f} seconds.",
            _details(argv, tunnel.stderr),
            ErrorKind.TIMEOUT,
        )
    raise ssh_failure(host, argv, tunnel.wait_stderr(EXIT_GRACE_S))


def ssh_failure(host: str, argv: Sequence[str], stderr: str) -> NidoError:
    """The error for an ssh that exited before the display spoke, from what it said."""
    text = stderr.lower()
    details = _details(argv, stderr)
    if "permission denied" in text or "authentication" in text:
        return NidoError(
            f"SSH refused the login to {host}. Nido logs in without prompts: use a key "
            "(ssh-agent or the URI's keyfile) that works with “ssh” from a terminal.",
            details,
            ErrorKind.DENIED,
        )
    if "host key verification failed" in text or "host key" in text:
        return NidoError(
            f"SSH does not know {host}'s host key. Connect once with “ssh” from a terminal "
            "to check and accept it.",
            details,
            ErrorKind.DENIED,
        )
    if "open failed" in text or "forwarding failed" in text:
        return NidoError(
            f"{host} could not connect to the VM's display port; is the VM still running?",
            details,
            ErrorKind.UNREACHABLE,
        )
    lines = [line for line in stderr.splitlines() if line.strip()]
    said = f": {lines[-1].strip()}" if lines else "."
    return NidoError(
        f"The SSH connection to {host} for the display failed{said}",
        details,
        ErrorKind.UNREACHABLE,
    )


def _details(argv: Sequence[str], stderr: str) -> str:
    said = stderr or "(ssh printed nothing)"
    return f"{' '.join(argv)}\n{said}"
