"""FileSender's bookkeeping, with stand-ins for spice-client-glib's main channel and
transfer tasks: each transfer ends once, a session closed by the person counts as
cancelled (no error to show), one that dropped counts as failed with the reason, and an
agent that says file transfer is disabled is not offered files."""

from __future__ import annotations

from pathlib import Path

from app.qt.display.spice_files import CAP_FILE_XFER_DISABLED, FileSender, TransferState


class StandInObject:
    """``GObject.Object.connect`` for the stand-ins: remembers the handlers."""

    @staticmethod
    def connect(obj, signal: str, handler) -> int:
        obj.handlers[signal] = handler
        return len(obj.handlers)


class StandInG:
    Object = StandInObject


class Task:
    def __init__(self, name: str, total: int) -> None:
        self.name, self.total, self.sent = name, total, 0
        self.handlers: dict = {}
        self.cancelled = False
        self.disconnected: list[int] = []

    def get_filename(self) -> str:
        return self.name

    def get_total_bytes(self) -> int:
        return self.total

    def get_transferred_bytes(self) -> int:
        return self.sent

    def cancel(self) -> None:
        self.cancelled = True

    def handler_disconnect(self, handler: int) -> None:
        self.disconnected.append(handler)


class Main:
    def __init__(self, disabled: bool = False) -> None:
        self.disabled = disabled
        self.handlers: dict = {}

    def agent_test_capability(self, cap: int) -> bool:
        return self.disabled and cap == CAP_FILE_XFER_DISABLED


def attached(qtbot, main: Main) -> FileSender:
    sender = FileSender(StandInG())
    sender.attach(main, lambda obj, sig, fn: obj.handlers.__setitem__(sig, fn))
    return sender


def test_progress_then_one_ending_each(qtbot) -> None:
    main = Main()
    sender = attached(qtbot, main)
    with qtbot.waitSignal(sender.availableChanged) as offered:
        sender.set_agent(True)
    assert offered.args == [True] and sender.available
    ended = []
    sender.ended.connect(ended.append)
    task = Task("a.iso", 1000)
    main.handlers["new-file-transfer"](main, task)
    assert [t.name for t in sender.transfers] == ["a.iso"]
    task.sent = 400
    task.handlers["notify::progress"](task, None)
    assert sender.transfers[0].fraction == 0.4
    task.handlers["finished"](task, None)
    task.handlers["finished"](task, None)  # a second report changes nothing
    assert [(t.name, t.state, t.sent) for t in ended] == [("a.iso", TransferState.DONE, 1000)]
    assert sender.transfers == [] and len(task.disconnected) == 2


def test_closing_cancels_and_dropping_fails(qtbot) -> None:
    for reason, state in (("", TransferState.CANCELLED), ("the link broke", TransferState.FAILED)):
        main = Main()
        sender = attached(qtbot, main)
        sender.set_agent(True)
        ended = []
        sender.ended.connect(ended.append)
        main.handlers["new-file-transfer"](main, Task("b.txt", 10))
        with qtbot.waitSignal(sender.availableChanged) as gone:
            sender.detach(reason)
        assert gone.args == [False]
        assert [(t.state, t.error) for t in ended] == [(state, reason)]


def test_a_disabled_agent_and_folders_are_refused(qtbot, tmp_path: Path) -> None:
    main = Main(disabled=True)
    sender = attached(qtbot, main)
    sender.set_agent(True)
    assert not sender.available
    failures = []
    sender.failed.connect(failures.append)
    sender.send([tmp_path])  # a folder
    assert "is not one" in failures[-1].summary
    (tmp_path / "f").write_text("x")
    sender.send([tmp_path / "f"])
    assert failures[-1].summary == "The guest cannot take files now."
