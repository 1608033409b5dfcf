"""Sending files from the host into the guest through its SPICE agent.

spice-client-glib does the protocol (``SpiceMainChannel.file_copy_async``): for each file it
makes a ``SpiceFileTransferTask``, announces it with the main channel's
``new-file-transfer`` signal, sends the file in 64 KiB messages as the agent asks for them,
and ends the task with its ``finished`` signal (a GError, or none). The guest's agent saves
the file where it keeps received files (spice-vdagent on Linux: the user's Downloads
folder).

:class:`FileSender` follows one session's main channel. It offers sending only while an
agent is connected that has not said file transfer is disabled, keeps a
:class:`FileTransfer` per file for the console to show (progress, cancel), and reports
each ending once: done, cancelled by the person, or failed with the reason.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from app.core.errors import NidoError

log = logging.getLogger(__name__)

#: VD_AGENT_CAP_FILE_XFER_DISABLED: the agent takes no files (its owner turned it off).
CAP_FILE_XFER_DISABLED = 13

Connect = Callable[[Any, str, Callable[..., Any]], None]


class TransferState(enum.Enum):
    SENDING = "sending"
    DONE = "done"
    CANCELLED = "cancelled"
    FAILED = "failed"


@dataclass
class FileTransfer:
    """One file on its way to the guest."""

    name: str
    total: int = 0
    sent: int = 0
    state: TransferState = TransferState.SENDING
    #: Why it failed, in spice-client-glib's words.
    error: str = ""
    _task: Any = field(default=None, repr=False)
    _handlers: list[int] = field(default_factory=list, repr=False)

    @property
    def fraction(self) -> float:
        return self.sent / self.total if self.total else 0.0


class FileSender(QObject):
    """File transfer to the guest of one SPICE session."""

    #: bool: files can be sent now (an agent that takes them is connected).
    availableChanged = Signal(bool)
    #: A transfer started, moved on or ended: read :attr:`transfers`.
    changed = Signal()
    #: FileTransfer: one ended (done, cancelled or failed); it has left :attr:`transfers`.
    ended = Signal(object)
    #: NidoError: a batch could not start at all (no agent, say).
    failed = Signal(object)

    def __init__(self, gobject: Any, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._G = gobject
        self._main: Any = None
        self._available = False
        self._cancellables: list[Any] = []
        #: The transfers under way, oldest first.
        self.transfers: list[FileTransfer] = []

    @property
    def available(self) -> bool:
        return self._available

    def attach(self, main: Any, on: Connect) -> None:
        self._main = main
        on(main, "new-file-transfer", self._new_transfer)

    def set_agent(self, connected: bool) -> None:
        """The agent came or went, or announced its capabilities."""
        main = self._main
        takes = (
            connected
            and main is not None
            and not bool(main.agent_test_capability(CAP_FILE_XFER_DISABLED))
        )
        if takes != self._available:
            self._available = takes
            self.availableChanged.emit(takes)

    def detach(self, reason: str = "") -> None:
        """The session closed, by this side (``reason`` empty: what was under way counts
        as cancelled, the person closed it) or because the connection ended (``reason``
        says why: it failed)."""
        for cancellable in self._cancellables:
            cancellable.cancel()
        self._cancellables.clear()
        for transfer in list(self.transfers):
            if reason:
                self._end(transfer, TransferState.FAILED, reason)
            else:
                self._end(transfer, TransferState.CANCELLED)
        self._main = None
        if self._available:
            self._available = False
            self.availableChanged.emit(False)

    # -- sending -----------------------------------------------------------------------------
    def send(self, paths: Iterable[str | Path]) -> None:
        """Start sending these files (regular files only; folders are refused here, as
        the agent takes none)."""
        paths = [Path(p) for p in paths]
        bad = [p for p in paths if not p.is_file()]
        if bad:
            self.failed.emit(
                NidoError(
                    f"Only files can go to the guest, and “{bad[0].name}” is not one.",
                    "Folders, devices and missing paths cannot be sent through the SPICE agent.",
                )
            )
            return
        if not paths:
            return
        if not self._available or self._main is None:
            self.failed.emit(
                NidoError(
                    "The guest cannot take files now.",
                    "Sending files needs the SPICE agent (spice-vdagent) running in the guest.",
                )
            )
            return
        from gi.repository import Gio

        cancellable = Gio.Cancellable()
        self._cancellables.append(cancellable)
        files = [Gio.File.new_for_path(str(p)) for p in paths]
        names = ", ".join(p.name for p in paths)
        log.info("SPICE: sending %s to the guest", names)

        def copied(main: Any, result: Any, _data: Any = None) -> None:
            if cancellable in self._cancellables:
                self._cancellables.remove(cancellable)
            try:
                main.file_copy_finish(result)
            except Exception as exc:  # GLib.Error: one or more files did not go
                if not any(t._task is not None for t in self.transfers) and not _cancelled(exc):
                    # No task was ever made: the batch failed before it began.
                    self._batch_failed(names, exc)

        self._main.file_copy_async(
            files, Gio.FileCopyFlags.NONE, cancellable, None, None, copied, None
        )

    def cancel(self, transfer: FileTransfer) -> None:
        """Stop sending ``transfer``; it ends as cancelled."""
        if transfer._task is not None and transfer.state is TransferState.SENDING:
            transfer._task.cancel()

    def cancel_all(self) -> None:
        for transfer in list(self.transfers):
            self.cancel(transfer)

    # -- spice-client-glib's signals ------------------------------------------------------------
    def _new_transfer(self, _main: Any, task: Any) -> None:
        transfer = FileTransfer(name=str(task.get_filename() or "file"), _task=task)
        transfer.total = int(task.get_total_bytes())
        G = self._G
        transfer._handlers = [
            G.Object.connect(task, "notify::progress", lambda *_a: self._progress(transfer)),
            G.Object.connect(task, "finished", lambda _t, err: self._finished(transfer, err)),
        ]
        self.transfers.append(transfer)
        self.changed.emit()

    def _progress(self, transfer: FileTransfer) -> None:
        task = transfer._task
        if task is None:
            return
        transfer.total = int(task.get_total_bytes())
        transfer.sent = int(task.get_transferred_bytes())
        self.changed.emit()

    def _finished(self, transfer: FileTransfer, error: Any) -> None:
        if error is None:
            transfer.sent = transfer.total
            self._end(transfer, TransferState.DONE)
        elif _cancelled(error):
            self._end(transfer, TransferState.CANCELLED)
            # spice-client-glib queues the "cancelled" status for the agent but does not
            # wake its channel to send it: the agent would hear it only with the next
            # agent message, and keep the part it has meanwhile. A monitor config (the
            # one it already has) is such a message; sent once this signal is over.
            QTimer.singleShot(0, self._flush_agent_queue)
        else:
            self._end(transfer, TransferState.FAILED, str(getattr(error, "message", error)))

    def _flush_agent_queue(self) -> None:
        main = self._main
        if main is None or not self._available:
            return
        try:
            main.send_monitor_config()
        except Exception as exc:  # GLib.Error: no monitor config to send (yet)
            log.debug("SPICE: could not nudge the agent's queue: %s", exc)

    def _end(self, transfer: FileTransfer, state: TransferState, error: str = "") -> None:
        if transfer not in self.transfers:
            return
        transfer.state = state
        transfer.error = error
        task, transfer._task = transfer._task, None
        if task is not None:
            for handler in transfer._handlers:
                task.handler_disconnect(handler)
        transfer._handlers.clear()
        self.transfers.remove(transfer)
        if state is TransferState.FAILED:
            log.warning("SPICE: sending %s to the guest failed: %s", transfer.name, error)
        else:
            log.info("SPICE: sending %s to the guest: %s", transfer.name, state.value)
        self.changed.emit()
        self.ended.emit(transfer)

    def _batch_failed(self, names: str, exc: Exception) -> None:
        reason = str(getattr(exc, "message", exc))
        log.warning("SPICE: sending %s to the guest failed: %s", names, reason)
        self.failed.emit(NidoError(f"{names} could not be sent to the guest.", reason))


def _cancelled(error: Any) -> bool:
    from gi.repository import Gio

    matches = getattr(error, "matches", None)
    return bool(matches and matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED))
