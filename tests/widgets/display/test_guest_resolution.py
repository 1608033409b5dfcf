"""The resolution asked of a guest for a view: the view's, within the limits, its shape
kept when it has to shrink."""

from __future__ import annotations

from app.qt.display.session import MAX_PIXELS, MIN_HEIGHT, MIN_WIDTH, guest_resolution


def test_the_view_itself_when_it_fits() -> None:
    assert guest_resolution(1196, 684) == (1196, 684)
    assert guest_resolution(1196.6, 684.9) == (1196, 684)  # whole device pixels


def test_never_below_the_smallest() -> None:
    assert guest_resolution(40, 30) == (MIN_WIDTH, MIN_HEIGHT)
    assert guest_resolution(0, 0) == (MIN_WIDTH, MIN_HEIGHT)


def test_shrunk_in_shape_to_the_largest() -> None:
    w, h = guest_resolution(5120, 2880, (2560, 2048))
    assert (w, h) == (2560, 1440)
    w, h = guest_resolution(100_000, 100_000)
    assert w * h <= MAX_PIXELS and w == h
