"""Worker pools: results and errors come back through futures, and a stuck call neither
blocks other work nor keeps the process from exiting."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest

from app.core.workers import WorkerPool


def test_result_and_exception() -> None:
    pool = WorkerPool("t")
    assert pool.submit(lambda a, b: a + b, 2, 3).result(timeout=5) == 5
    fut = pool.submit(lambda: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        fut.result(timeout=5)
    pool.close()


def test_a_stuck_call_does_not_block_the_next_one() -> None:
    pool = WorkerPool("t", size=2)
    release = threading.Event()
    stuck = pool.submit(release.wait)
    assert pool.submit(lambda: "free").result(timeout=5) == "free"
    assert not stuck.done()
    release.set()
    assert stuck.result(timeout=5) is True
    pool.close()


def test_closed_pool_refuses_work() -> None:
    pool = WorkerPool("t")
    pool.close()
    with pytest.raises(RuntimeError):
        pool.submit(lambda: None)


def test_process_exits_while_a_call_is_stuck() -> None:
    code = (
        "import threading\n"
        "from app.core.workers import WorkerPool\n"
        "p = WorkerPool('x')\n"
        "p.submit(threading.Event().wait)\n"
        "print('bye')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=20)
    assert out.returncode == 0 and out.stdout.strip() == "bye"
