"""Live graphs of what a guest costs (CPU and memory), drawn with pyqtgraph from the
finished history vectors that app.core.stats keeps; nothing is computed here."""

from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtWidgets import QHBoxLayout, QWidget

from app.core.stats import HISTORY_LENGTH, VMStats, axis_top

#: The memory graph's axis reaches at least this high (MiB), so small changes stay small.
MEMORY_AXIS_MIB = 64


def _plot(title: str, color: str, y_max: float) -> tuple[pg.PlotWidget, pg.PlotDataItem]:
    widget = pg.PlotWidget(background=None)
    widget.setTitle(title, size="9pt")
    widget.setMouseEnabled(False, False)
    widget.hideButtons()
    widget.setMenuEnabled(False)
    widget.showGrid(x=False, y=True, alpha=0.2)
    widget.getPlotItem().hideAxis("bottom")
    widget.setXRange(0, HISTORY_LENGTH - 1, padding=0)
    widget.setYRange(0, y_max, padding=0)
    widget.setMinimumHeight(120)
    curve = widget.plot(pen=pg.mkPen(color, width=2), connect="finite")
    return widget, curve


class ResourceGraphs(QWidget):
    """CPU (% of the guest's vCPUs) and memory (MiB on the host) over the last minutes."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        self.cpu_plot, self.cpu_curve = _plot("CPU %", "#2a6fb0", 100)
        self.mem_plot, self.mem_curve = _plot("Memory (MiB)", "#2e9d4e", MEMORY_AXIS_MIB)
        self.mem_top = float(MEMORY_AXIS_MIB)
        layout.addWidget(self.cpu_plot)
        layout.addWidget(self.mem_plot)

    def update_from(self, stats: VMStats) -> None:
        self.cpu_curve.setData(list(stats.cpu_percent))
        mem = [v / 1024 if not math.isnan(v) else math.nan for v in stats.memory_kib]
        self.mem_curve.setData(mem)
        top = axis_top(mem, MEMORY_AXIS_MIB)
        if top != self.mem_top:
            self.mem_top = top
            self.mem_plot.setYRange(0, top, padding=0)
