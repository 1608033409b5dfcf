"""The VM window's live graphs: what their axes show for the histories they are given."""

from __future__ import annotations

from app.core.stats import VMStats
from widgets.graphs import ResourceGraphs


def test_memory_graph_axis_starts_at_zero_and_keeps_small_changes_small(qtbot) -> None:
    graphs = ResourceGraphs()
    qtbot.addWidget(graphs)
    stats = VMStats()
    for kib in (333_600, 333_610, 333_620):  # about 325.8 MiB, wobbling by 10 KiB
        stats.memory_kib.append(kib)
    graphs.update_from(stats)
    low, high = graphs.mem_plot.getPlotItem().getViewBox().viewRange()[1]
    assert low == 0 and high == 500
    # The guest grows past the step: the axis follows.
    stats.memory_kib.append(1_200_000)
    graphs.update_from(stats)
    assert graphs.mem_plot.getPlotItem().getViewBox().viewRange()[1][1] == 2000
