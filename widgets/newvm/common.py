"""Small pieces the New-VM pages share: the message under a field, a slider with its spin
box, sizes in words, and the problems of a page's fields."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QSpinBox, QWidget

from app.core.newvm import Problem, problems_for

GIB = 1024**3
MIB = 1024**2

ERROR_COLOUR = "#b3261e"
WARNING_COLOUR = "#8a5a00"
HINT_COLOUR = "#5f6368"


def size_text(n: int) -> str:
    """'4 GiB', '1.5 GiB', '512 MiB'."""
    if n >= GIB:
        return f"{n / GIB:.1f} GiB".replace(".0 GiB", " GiB")
    return f"{n // MIB} MiB"


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def field_problems(problems: Iterable[Problem], *prefixes: str) -> list[Problem]:
    found: list[Problem] = []
    for prefix in prefixes:
        found += [p for p in problems_for(problems, prefix) if p not in found]
    return found


class FieldMessage(QLabel):
    """The short line under a field: why it blocks (red), or what to keep in mind."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.PlainText)  # names and paths are not markup
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.hide()

    @property
    def blocking(self) -> bool:
        return self.property("severity") == "error"

    def show_problems(self, problems: Iterable[Problem]) -> None:
        problems = list(problems)
        errors = [p for p in problems if p.blocking]
        shown = errors or problems
        if not shown:
            self.set_text("")
            return
        self.set_text(" ".join(dict.fromkeys(p.message for p in shown)), error=bool(errors))

    def set_text(self, text: str, *, error: bool = False, hint: bool = False) -> None:
        self.setText(text)
        self.setVisible(bool(text))
        severity = "error" if error else "hint" if hint else "warning" if text else ""
        self.setProperty("severity", severity)
        colour = {"error": ERROR_COLOUR, "warning": WARNING_COLOUR, "hint": HINT_COLOUR}.get(
            severity, HINT_COLOUR
        )
        self.setStyleSheet(f"color: {colour};")


class SliderSpin(QWidget):
    """A slider over the sensible range and a spin box that also takes values outside it,
    so that a value the page refuses can be typed and explained."""

    valueChanged = Signal(int)

    def __init__(self, suffix: str, spin_max: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setMinimumWidth(260)
        self.spin = QSpinBox()
        self.spin.setRange(0, spin_max)
        self.spin.setSuffix(suffix)
        self.spin.setFixedWidth(130)
        self.spin.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.spin.setKeyboardTracking(False)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.spin)
        self.slider.valueChanged.connect(self._from_slider)
        self.spin.valueChanged.connect(self._from_spin)

    def set_range(self, low: int, high: int, step: int = 1) -> None:
        high = max(low, high)
        self.slider.blockSignals(True)
        self.slider.setRange(low, high)
        self.slider.setSingleStep(step)
        self.slider.setPageStep(step * 4)
        self.slider.setValue(self.spin.value())
        self.slider.blockSignals(False)
        self.spin.setSingleStep(step)

    def value(self) -> int:
        return self.spin.value()

    def setValue(self, value: int) -> None:
        for w in (self.slider, self.spin):
            w.blockSignals(True)
        self.spin.setValue(value)
        self.slider.setValue(value)
        for w in (self.slider, self.spin):
            w.blockSignals(False)

    def _from_slider(self, value: int) -> None:
        step = max(1, self.slider.singleStep())
        if value not in (self.slider.minimum(), self.slider.maximum()):
            value = round(value / step) * step
        self.spin.blockSignals(True)
        self.spin.setValue(value)
        self.spin.blockSignals(False)
        self.valueChanged.emit(value)

    def _from_spin(self, value: int) -> None:
        self.slider.blockSignals(True)
        self.slider.setValue(value)  # pinned to its ends outside the range
        self.slider.blockSignals(False)
        self.valueChanged.emit(value)
