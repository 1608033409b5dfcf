"""Live graphs of what a guest costs (CPU, memory, disk and network), drawn with pyqtgraph
from the finished history vectors that app.core.stats keeps; nothing is computed here but
the axes' tops and the units of the rates."""

from __future__ import annotations

import math
from collections.abc import Iterable

import pyqtgraph as pg
from PySide6.QtWidgets import QGridLayout, QWidget

from app.core.stats import HISTORY_LENGTH, VMStats, axis_top

#: The memory graph's axis reaches at least this high (MiB), so small changes stay small.
MEMORY_AXIS_MIB = 64
#: The rate graphs' axes reach at least this high, in their unit.
RATE_AXIS = 10
#: Rates are shown in the largest of these units that their peak reaches.
RATE_UNITS = (("MiB/s", 1024 * 1024), ("KiB/s", 1024), ("B/s", 1))
#: Room above an axis's top, so its top label is not cut off at the plot's edge.
TOP_ROOM = 0.04
#: What the graphs span, for their titles (one sample a second).
SPAN = f"last {HISTORY_LENGTH // 60} min"


def _plot(color: str, y_max: float) -> tuple[pg.PlotWidget, pg.PlotDataItem]:
    widget = pg.PlotWidget(background=None)
    widget.setMouseEnabled(False, False)
    widget.hideButtons()
    widget.setMenuEnabled(False)
    widget.showGrid(x=False, y=True, alpha=0.2)
    widget.getPlotItem().hideAxis("bottom")
    widget.setXRange(0, HISTORY_LENGTH - 1, padding=0)
    widget.setYRange(0, y_max * (1 + TOP_ROOM), padding=0)
    widget.setMinimumHeight(120)
    curve = widget.plot(pen=pg.mkPen(color, width=2), connect="finite")
    return widget, curve


def rate_unit(values: Iterable[float]) -> tuple[str, int]:
    """The unit to show rates (bytes a second) in: the largest their peak reaches."""
    peak = max((v for v in values if not math.isnan(v)), default=0.0)
    for name, size in RATE_UNITS:
        if peak >= size:
            return name, size
    return RATE_UNITS[-1]


class _Graph:
    """One plot with its title and an axis that starts at 0 and grows in 1-2-5 steps."""

    def __init__(self, title: str, color: str, least: float, unit: str = "") -> None:
        self.title, self.least = title, least
        self.plot, self.curve = _plot(color, least)
        self.top = float(least)
        self.set_title(unit)

    def set_title(self, unit: str) -> None:
        self.unit = unit
        label = f"{self.title} ({unit})" if unit else self.title
        self.plot.setTitle(f"{label} · {SPAN}", size="9pt")

    def show(self, values: list[float], unit: str = "") -> None:
        self.curve.setData(values)
        if unit != self.unit:
            self.set_title(unit)
        top = axis_top(values, self.least)
        if top != self.top:
            self.top = top
            self.plot.setYRange(0, top * (1 + TOP_ROOM), padding=0)


class ResourceGraphs(QWidget):
    """CPU (% of the guest's vCPUs), memory (MiB on the host), disk (read + written) and
    network (received + sent) over the last minutes."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        self.cpu = _Graph("CPU", "#2a6fb0", 100, "%")
        self.memory = _Graph("Memory", "#2e9d4e", MEMORY_AXIS_MIB, "MiB")
        self.disk = _Graph("Disk", "#b0672a", RATE_AXIS)
        self.network = _Graph("Network", "#7a3fb0", RATE_AXIS)
        for i, graph in enumerate((self.cpu, self.memory, self.disk, self.network)):
            layout.addWidget(graph.plot, i // 2, i % 2)

    def update_from(self, stats: VMStats) -> None:
        self.cpu.curve.setData(list(stats.cpu_percent))
        self.memory.show([kib / 1024 for kib in stats.memory_kib], "MiB")  # a gap stays NaN
        for graph, rates in ((self.disk, stats.disk_bps), (self.network, stats.net_bps)):
            unit, size = rate_unit(rates)
            graph.show([v / size for v in rates], unit)
