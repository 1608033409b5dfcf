"""The VM window's live graphs: what their axes show for the histories they are given."""

from __future__ import annotations

import math

from app.core.stats import VMStats
from widgets.graphs import TOP_ROOM, ResourceGraphs


def _shown(graph) -> list[float]:
    """The value range the graph's plot shows."""
    return graph.plot.getPlotItem().getViewBox().viewRange()[1]


def test_memory_graph_axis_starts_at_zero_and_keeps_small_changes_small(qtbot) -> None:
    graphs = ResourceGraphs()
    qtbot.addWidget(graphs)
    stats = VMStats()
    for kib in (333_600, 333_610, 333_620):  # about 325.8 MiB, wobbling by 10 KiB
        stats.memory_kib.append(kib)
    graphs.update_from(stats)
    assert graphs.memory.top == 500
    assert _shown(graphs.memory) == [0, 500 * (1 + TOP_ROOM)]
    # The guest grows past the step: the axis follows.
    stats.memory_kib.append(1_200_000)
    graphs.update_from(stats)
    assert graphs.memory.top == 2000
    assert _shown(graphs.memory) == [0, 2000 * (1 + TOP_ROOM)]


def test_rates_are_shown_in_the_unit_their_peak_reaches(qtbot) -> None:
    graphs = ResourceGraphs()
    qtbot.addWidget(graphs)
    stats = VMStats()
    stats.disk_bps.extend([0.0, 300.0 * 1024, 2.5 * 1024 * 1024])  # up to 2.5 MiB/s
    stats.net_bps.extend([0.0, 40.0, 900.0])  # a guest that barely talks
    graphs.update_from(stats)
    assert graphs.disk.unit == "MiB/s" and graphs.network.unit == "B/s"
    assert "Disk (MiB/s)" in graphs.disk.plot.getPlotItem().titleLabel.text
    assert graphs.disk.curve.getData()[1][-1] == 2.5
    assert graphs.disk.top == 10 and graphs.network.top == 1000
    assert _shown(graphs.network) == [0, 1000 * (1 + TOP_ROOM)]
    # Unknown rates (the VM's window had just opened) are gaps, not zeros.
    assert math.isnan(graphs.network.curve.getData()[1][0])
