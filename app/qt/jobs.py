"""Running blocking work off the GUI thread, with results delivered back on it.

    Op(vmops.run_action, virconn, uuid, Action.START, what="start “web”")
        .success(on_started)
        .failure(on_failed)
        .run_on(connection.workers)

The work runs on a worker pool from app.core; success and failure callbacks run on the
GUI thread. A failure without its own handler goes to the default presenter (the error
dialog), so no exception is ever lost. If the callbacks' owner QObject is deleted before
the work finishes, the callbacks are dropped instead of touching a dead object.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Generic, TypeVar

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, Qt, Signal

from app.core.errors import NidoError, from_exception
from app.core.workers import WorkerPool

log = logging.getLogger(__name__)

T = TypeVar("T")

FailureHandler = Callable[[NidoError], None]


class _Relay(QObject):
    """Lives on the GUI thread; runs callables that worker threads hand to it."""

    deliver = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.deliver.connect(self._run, Qt.ConnectionType.QueuedConnection)

    @staticmethod
    def _run(fn: Callable[[], None]) -> None:
        try:
            fn()
        except Exception as exc:  # a callback bug must not take the app down
            log.exception("callback on the GUI thread failed")
            report_failure(from_exception(exc, "finish the operation"))


_relay: _Relay | None = None
_default_failure: FailureHandler | None = None


def _get_relay() -> _Relay:
    global _relay
    if _relay is None or not shiboken6.isValid(_relay):
        app = QCoreApplication.instance()
        if app is None:
            raise RuntimeError("jobs need a QCoreApplication")
        _relay = _Relay()
        _relay.moveToThread(app.thread())
    return _relay


def ensure_relay() -> None:
    """Create the relay now, on the GUI thread (before worker threads need it)."""
    _get_relay()


def call_in_gui(fn: Callable[[], None]) -> None:
    """Run `fn` on the GUI thread soon, from any thread. Always queued, so a caller on the
    GUI thread is never re-entered."""
    _get_relay().deliver.emit(fn)


def set_default_failure_handler(handler: FailureHandler | None) -> None:
    """Where failures without their own handler go (the UI installs its error dialog)."""
    global _default_failure
    _default_failure = handler


def report_failure(err: NidoError) -> None:
    log.error("%s\n%s", err.summary, err.details)
    if _default_failure is not None:
        _default_failure(err)


class Op(Generic[T]):
    """A blocking call to make off the GUI thread, and what to do with its outcome."""

    def __init__(self, fn: Callable[..., T], *args: Any, what: str = "", **kwargs: Any) -> None:
        self._fn = fn
        self._args = args
        self._kwargs = kwargs
        self._what = what or getattr(fn, "__name__", "finish the operation")
        self._on_success: Callable[[T], None] | None = None
        self._on_failure: FailureHandler | None = None
        self._owner: QObject | None = None

    def success(self, cb: Callable[[T], None]) -> Op[T]:
        self._on_success = cb
        return self

    def failure(self, cb: FailureHandler) -> Op[T]:
        self._on_failure = cb
        return self

    def owned_by(self, owner: QObject) -> Op[T]:
        """Drop the callbacks if `owner` is deleted before the work finishes."""
        self._owner = owner
        return self

    def run_on(self, pool: WorkerPool) -> Future[T]:
        _get_relay()  # created now, on the calling (GUI) thread
        future = pool.submit(self._fn, *self._args, **self._kwargs)
        future.add_done_callback(self._done)
        return future

    def _done(self, future: Future[T]) -> None:
        # Runs on the worker thread that finished the call.
        if future.cancelled():
            return
        exc = future.exception()
        if exc is None:
            result = future.result()
            call_in_gui(lambda: self._deliver_success(result))
        else:
            err = from_exception(exc, self._what)
            call_in_gui(lambda: self._deliver_failure(err))

    def _owner_gone(self) -> bool:
        return self._owner is not None and not shiboken6.isValid(self._owner)

    def _deliver_success(self, result: T) -> None:
        if self._on_success is not None and not self._owner_gone():
            self._on_success(result)

    def _deliver_failure(self, err: NidoError) -> None:
        if self._on_failure is not None and not self._owner_gone():
            log.info("%s\n%s", err.summary, err.details)
            self._on_failure(err)
        else:
            report_failure(err)
