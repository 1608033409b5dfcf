"""The Qt binding itself must not corrupt reference counts. PySide6 6.12.0 dropped a
reference to None on every call of a method returning void; on Python 3.11 that ends in
"deallocating None" within seconds of painting a list. Nido pins a release without it."""

from __future__ import annotations

import sys

from PySide6.QtCore import QCoreApplication, QObject, Signal
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QLabel


def drift(fn, n: int = 2000) -> int:
    before = sys.getrefcount(None)
    for _ in range(n):
        fn()
    return sys.getrefcount(None) - before


def test_void_methods_keep_none_alive(qtbot) -> None:
    image = QImage(8, 8, QImage.Format.Format_RGB32)
    painter = QPainter(image)
    try:
        assert abs(drift(lambda: (painter.save(), painter.restore()))) < 100
        assert abs(drift(lambda: painter.setPen(QColor("red")))) < 400
    finally:
        painter.end()
    label = QLabel()
    qtbot.addWidget(label)
    assert abs(drift(lambda: label.setText("x"))) < 100
    assert abs(drift(QCoreApplication.processEvents)) < 100


def test_signals_with_none_payloads_keep_none_alive(qtbot) -> None:
    class Emitter(QObject):
        fired = Signal(object)

    emitter = Emitter()
    seen = []
    emitter.fired.connect(seen.append)
    before = sys.getrefcount(None)
    for _ in range(2000):
        emitter.fired.emit(None)
    assert abs(sys.getrefcount(None) - before - len(seen)) < 50  # the list holds the rest
