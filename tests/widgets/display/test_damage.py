"""Damage batches: a few rectangles stay as they are, a flood becomes one bounding box."""

from __future__ import annotations

from app.qt.display.session import MAX_DAMAGE_RECTS, coalesce_damage


def test_a_few_rectangles_are_kept() -> None:
    rects = [(0, 0, 10, 10), (100, 50, 5, 5)]
    assert coalesce_damage(rects) == rects


def test_a_flood_becomes_its_bounding_box() -> None:
    rects = [(x, 2 * x, 3, 4) for x in range(MAX_DAMAGE_RECTS + 1)]
    last = MAX_DAMAGE_RECTS
    assert coalesce_damage(rects) == [(0, 0, last + 3, 2 * last + 4)]
