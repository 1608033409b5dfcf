"""Damage batches: a few rectangles stay as they are, bands of rows that continue each other
become one, a flood becomes one bounding box."""

from __future__ import annotations

from app.qt.display.session import MAX_DAMAGE_RECTS, coalesce_damage


def test_a_few_rectangles_are_kept() -> None:
    rects = [(0, 0, 10, 10), (100, 50, 5, 5)]
    assert coalesce_damage(rects) == rects


def test_a_flood_becomes_its_bounding_box() -> None:
    rects = [(x, 2 * x, 3, 4) for x in range(MAX_DAMAGE_RECTS + 1)]
    last = MAX_DAMAGE_RECTS
    assert coalesce_damage(rects) == [(0, 0, last + 3, 2 * last + 4)]


def test_bands_that_continue_each_other_become_one() -> None:
    # A Raw rectangle read in three pieces, then something elsewhere, then a band that
    # touches the first only at a corner or is narrower: those stay apart.
    rects = [(0, 0, 64, 10), (0, 10, 64, 5), (0, 15, 64, 1), (8, 40, 4, 4), (0, 44, 64, 2)]
    assert coalesce_damage(rects) == [(0, 0, 64, 16), (8, 40, 4, 4), (0, 44, 64, 2)]
    assert coalesce_damage([(0, 0, 64, 10), (0, 11, 64, 5)]) == [(0, 0, 64, 10), (0, 11, 64, 5)]
    assert coalesce_damage([(0, 0, 64, 10), (0, 10, 32, 5)]) == [(0, 0, 64, 10), (0, 10, 32, 5)]
