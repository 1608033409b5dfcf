"""Cyclic garbage dies on the GUI thread, never on a worker (app/qt/collector.py)."""

from __future__ import annotations

import gc
import threading

import pytest

from app.qt import collector


class _Cycle:
    """A reference cycle that records which thread finally freed it."""

    def __init__(self, seen: list[str]) -> None:
        self.me = self
        self.seen = seen

    def __del__(self) -> None:
        self.seen.append(threading.current_thread().name)


def test_cycles_are_collected_on_the_gui_thread_not_where_they_piled_up(qtbot) -> None:
    collector.install()
    assert not gc.isenabled()
    seen: list[str] = []
    _Cycle(seen)

    def churn() -> None:  # far past every threshold: CPython would collect here
        junk = []
        for _ in range(5 * sum(gc.get_threshold())):
            pair: list = []
            pair.append(pair)
            junk.append(pair)

    worker = threading.Thread(target=churn, name="churn-worker")
    worker.start()
    worker.join()
    assert seen == [], "the cycle was collected on the worker thread"
    qtbot.waitUntil(lambda: seen != [], timeout=5 * collector.INTERVAL_MS)
    assert seen == [threading.main_thread().name]


def test_collect_due_refuses_other_threads() -> None:
    errors: list[BaseException] = []

    def call() -> None:
        try:
            collector.collect_due()
        except RuntimeError as exc:
            errors.append(exc)

    t = threading.Thread(target=call)
    t.start()
    t.join()
    assert len(errors) == 1


def test_collect_due_collects_once_over_the_threshold() -> None:
    gc.collect()
    seen: list[str] = []
    _Cycle(seen)
    for _ in range(gc.get_threshold()[0] + 10):
        pair: list = []
        pair.append(pair)
    with pytest.MonkeyPatch.context() as mp:  # every count is over its threshold
        mp.setattr(gc, "get_threshold", lambda: (0, 0, 0))
        assert collector.collect_due() > 0
    assert seen == [threading.main_thread().name]
