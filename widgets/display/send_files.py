"""The console's file sending: "Send Files…", files dropped on the display, and a strip
under the display with the transfer's progress and a Cancel button.

:class:`SendFilesBar` follows the console's display session. It offers itself
(:attr:`SendFilesBar.availableChanged`) only while the session can send files, that is a
SPICE session whose guest agent takes them (:attr:`app.qt.display.spice.SpiceSession.files`).
While files go it shows which, how far, and Cancel; when they have gone it says so for a
few seconds. A failure reaches the person through the one error presenter (and the log,
from :mod:`app.qt.display.spice_files`).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import shiboken6
from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from app.core.errors import NidoError
from app.qt.display.spice_files import FileSender, FileTransfer, TransferState
from widgets.error_dialog import show_error
from widgets.folders import Folders, Purpose
from widgets.wording import quoted_names

TITLE = "Send Files…"
#: How long the strip says what happened once nothing is left to send.
RESULT_MS = 6000


class SendFilesBar(QWidget):
    """Sends files to the console's guest and shows how it goes."""

    #: bool: the session can send files now (show "Send Files…" only then).
    availableChanged = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sendFilesBar")
        # A strip over the bottom of the display, not beside it: the view keeps its size,
        # so a guest whose resolution follows the window does not change mode twice.
        self.setAutoFillBackground(True)
        self._sender: FileSender | None = None
        #: Where the file dialog starts (the console gives its remembered folders).
        self.folders = Folders()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 2, 8, 2)
        self.label = QLabel()
        self.label.setObjectName("sendFilesText")
        self.progress = QProgressBar()
        self.progress.setObjectName("sendFilesProgress")
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress.setMaximumWidth(220)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("sendFilesCancel")
        self.cancel_button.clicked.connect(self.cancel)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.progress)
        layout.addWidget(self.cancel_button)
        self._done: list[FileTransfer] = []
        self._hide = QTimer(self)
        self._hide.setSingleShot(True)
        self._hide.setInterval(RESULT_MS)
        self._hide.timeout.connect(self._hide_if_idle)
        self.hide()

    def lie_over(self, widget: QWidget) -> None:
        """Show the strip over ``widget``'s bottom edge, following its size."""
        old = self.parentWidget()
        if old is not None:
            old.removeEventFilter(self)
        visible = self.isVisible()
        self.setParent(widget)
        widget.installEventFilter(self)
        self._place()
        self.setVisible(visible)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.parentWidget() and event.type() == QEvent.Type.Resize:
            self._place()
        return False

    def _place(self) -> None:
        parent = self.parentWidget()
        if parent is None:
            return
        height = self.sizeHint().height()
        self.setGeometry(0, parent.height() - height, parent.width(), height)
        self.raise_()

    @property
    def available(self) -> bool:
        return self._sender is not None and self._sender.available

    def text(self) -> str:
        return self.label.text()

    # -- following the session -----------------------------------------------------------
    def set_session(self, session: Any) -> None:
        """Follow ``session`` (any display session, or None)."""
        old = self._sender
        if old is not None and shiboken6.isValid(old):
            old.availableChanged.disconnect(self.availableChanged)
            old.changed.disconnect(self._show)
            old.ended.disconnect(self._ended)
            old.failed.disconnect(self._failed)
        sender = getattr(session, "files", None)
        self._sender = sender if isinstance(sender, FileSender) else None
        if self._sender is not None:
            self._sender.availableChanged.connect(self.availableChanged)
            self._sender.changed.connect(self._show)
            self._sender.ended.connect(self._ended)
            self._sender.failed.connect(self._failed)
        self._done.clear()
        self.availableChanged.emit(self.available)
        self._show()

    # -- what the person does ------------------------------------------------------------
    def ask(self) -> None:
        """Pick files to send."""
        start = self.folders.start(Purpose.SEND_FILES)
        paths, _filter = QFileDialog.getOpenFileNames(
            self, "Send Files to the Guest", start, "All files (*)"
        )
        if paths:
            self.folders.used(Purpose.SEND_FILES, paths[0])
            self.send(paths)

    def send(self, paths: Iterable[str | Path]) -> None:
        if self._sender is None:
            self._failed(
                NidoError(
                    "This display cannot send files to the guest.",
                    "Sending files needs a SPICE display and the SPICE agent in the guest.",
                )
            )
            return
        self._done.clear()
        self._sender.send(list(paths))

    def cancel(self) -> None:
        if self._sender is not None:
            self._sender.cancel_all()

    # -- showing -------------------------------------------------------------------------
    def _show(self) -> None:
        transfers = self._sender.transfers if self._sender is not None else []
        if not transfers:
            if self._done:
                self._hide.start()
            else:
                self.hide()
            return
        self._hide.stop()
        sent = sum(t.sent for t in transfers)
        total = sum(t.total for t in transfers)
        names = quoted_names([t.name for t in transfers], 2)
        self.label.setText(f"Sending {names} to the guest… {_size(sent)} of {_size(total)}")
        self.progress.setValue(round(1000 * sent / total) if total else 0)
        self.progress.show()
        self.cancel_button.show()
        self._place()
        self.show()

    def _ended(self, transfer: FileTransfer) -> None:
        self._done.append(transfer)
        if self._sender is not None and self._sender.transfers:
            return  # the strip shows those still going; the summary comes at the end
        done = [t for t in self._done if t.state is TransferState.DONE]
        cancelled = [t for t in self._done if t.state is TransferState.CANCELLED]
        failed = [t for t in self._done if t.state is TransferState.FAILED]
        parts = []
        if done:
            parts.append(f"Sent {_names(done)} to the guest (its agent saves files in Downloads).")
        if cancelled:
            parts.append(f"Cancelled sending {_names(cancelled)}.")
        if failed:
            parts.append(f"{_names(failed)} could not be sent.")
        self.label.setText(" ".join(parts))
        self.progress.hide()
        self.cancel_button.hide()
        self._place()
        self.show()
        self._hide.start()
        if failed:
            self._failed(
                NidoError(
                    f"{_names(failed)} could not be sent to the guest.",
                    "\n".join(f"{t.name}: {t.error}" for t in failed),
                )
            )

    def _hide_if_idle(self) -> None:
        if self._sender is None or not self._sender.transfers:
            self._done.clear()
            self.hide()

    def _failed(self, err: NidoError) -> None:
        show_error(self.window(), err)


def _names(transfers: list[FileTransfer]) -> str:
    return quoted_names([t.name for t in transfers], 3)


def _size(n: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n} bytes"
