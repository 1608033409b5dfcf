"""Files dropped on the display: taken only while the session can send them on, and only
local files (a web link or a mix is refused, and nothing is sent)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from widgets.display.canvas import DisplayCanvas


def drag(canvas: DisplayCanvas, urls: list[QUrl]) -> tuple[bool, list[list[str]]]:
    """Drag ``urls`` onto the canvas and drop them: whether it took the drag, and what
    it reported as dropped."""
    dropped: list[list[str]] = []
    canvas.filesDropped.connect(dropped.append)
    mime = QMimeData()
    mime.setUrls(urls)
    copy, none = Qt.DropAction.CopyAction, Qt.MouseButton.NoButton
    mods = Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(QPoint(10, 10), copy, mime, none, mods)
    QApplication.sendEvent(canvas, enter)
    QApplication.sendEvent(canvas, QDropEvent(QPointF(10, 10), copy, mime, none, mods))
    return enter.isAccepted(), dropped


def test_files_are_taken_only_while_they_can_go_on(qtbot, tmp_path: Path) -> None:
    canvas = DisplayCanvas()
    qtbot.addWidget(canvas)
    canvas.resize(200, 150)
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("a")
    b.write_text("b")
    local = [QUrl.fromLocalFile(str(a)), QUrl.fromLocalFile(str(b))]

    taken, dropped = drag(canvas, local)
    assert (taken, dropped) == (False, [])  # no session that sends files

    canvas.set_accepts_files(True)
    taken, dropped = drag(canvas, local)
    assert taken and dropped == [[str(a), str(b)]]

    taken, dropped = drag(canvas, [QUrl("https://example.org/a.iso")])
    assert (taken, dropped) == (False, [])
    taken, dropped = drag(canvas, [local[0], QUrl("https://example.org/a.iso")])
    assert (taken, dropped) == (False, [])

    canvas.set_accepts_files(False)  # the agent went away
    taken, dropped = drag(canvas, local)
    assert (taken, dropped) == (False, [])
