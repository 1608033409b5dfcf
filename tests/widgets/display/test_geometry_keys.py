"""Scaling arithmetic (HiDPI included) and the key → scancode translation, without a
screen."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from widgets.display import keys
from widgets.display.geometry import Placement, Scaling, minimum_view_size, place

NO = Qt.KeyboardModifier.NoModifier
KEYPAD = Qt.KeyboardModifier.KeypadModifier


@pytest.mark.parametrize(
    ("mode", "view", "dpr", "expected"),
    [
        # 1920x1080 guest in a 960x540 view
        (Scaling.NEVER, (960, 540), 1.0, (0, 0, 1920, 1080, 1.0)),
        (Scaling.FIT, (960, 540), 1.0, (0, 0, 960, 540, 0.5)),
        (Scaling.ALWAYS, (960, 540), 1.0, (0, 0, 960, 540, 0.5)),
        # ... in a 3000x1080 view: FIT does not enlarge, ALWAYS does; both centre
        (Scaling.FIT, (3000, 1080), 1.0, (540, 0, 1920, 1080, 1.0)),
        (Scaling.ALWAYS, (3000, 2000), 1.0, (0, 156, 3000, 1687.5, 3000 / 1920)),
        # HiDPI (dpr 2): NEVER shows one guest pixel per device pixel = 960x540 logical
        (Scaling.NEVER, (960, 540), 2.0, (0, 0, 960, 540, 0.5)),
        (Scaling.FIT, (2000, 1000), 2.0, (520, 230, 960, 540, 0.5)),
        (Scaling.FIT, (480, 540), 2.0, (0, 135, 480, 270, 0.25)),
        (Scaling.ALWAYS, (1920, 1080), 2.0, (0, 0, 1920, 1080, 1.0)),
        # dpr 1.5: the corner lands on a device pixel
        (Scaling.NEVER, (1500, 1001), 1.5, (110, 140, 1280, 720, 1 / 1.5)),
    ],
)
def test_placement(mode, view, dpr, expected) -> None:
    p = place(1920, 1080, view[0], view[1], dpr, mode)
    got = (p.x, p.y, p.width, p.height, p.scale)
    assert got == pytest.approx(expected, abs=1e-3)
    assert (p.x * dpr) == pytest.approx(round(p.x * dpr))
    assert (p.y * dpr) == pytest.approx(round(p.y * dpr))


def test_mapping_round_trips_and_clamps() -> None:
    p = place(64, 48, 128, 96, 1.0, Scaling.ALWAYS)  # scale 2
    assert p.to_guest(0, 0) == (0, 0)
    assert p.to_guest(21, 31) == (10, 15)
    assert p.to_guest(127.9, 95.9) == (63, 47)
    assert p.to_guest(-5, 500) == (0, 47)  # outside the picture: clamped
    assert p.widget_rect(10, 15, 4, 2) == (20, 30, 8, 4)
    assert p.widget_rect(10, 15, 4, 2, margin=1) == (18, 28, 12, 8)
    assert p.guest_rect(20, 30, 8, 4) == (10, 15, 4, 2)
    q = place(64, 48, 64, 48, 2.0, Scaling.NEVER)  # HiDPI: 32x24 logical, centred
    assert (q.x, q.y, q.width, q.height) == (16, 12, 32, 24)
    assert q.to_guest(16, 12) == (0, 0)
    assert q.to_guest(16 + 10.5, 12 + 7.5) == (21, 15)


def test_minimum_size_only_when_never_scaling() -> None:
    assert minimum_view_size(1920, 1080, 1.0, Scaling.NEVER) == (1920, 1080)
    assert minimum_view_size(1920, 1080, 2.0, Scaling.NEVER) == (960, 540)
    assert minimum_view_size(1920, 1080, 1.0, Scaling.FIT) == (0, 0)
    assert minimum_view_size(0, 0, 1.0, Scaling.NEVER) == (0, 0)


def key(name: str) -> int:
    return int(getattr(Qt.Key, name).value)


def test_native_scancodes_on_x11_and_wayland() -> None:
    # XKB keycode 38 is evdev 30, the key labelled A on a US keyboard, whatever the
    # layout makes of it (here Q, as on a French AZERTY keyboard).
    for platform in ("xcb", "wayland", "wayland-egl"):
        stroke = keys.translate(key("Key_Q"), "q", NO, 38, 0x71, platform)
        assert stroke.scancode == 0x1E and not stroke.needs_shift
        assert stroke.keysym == 0x71
    # Right Ctrl (evdev 97) and the arrow keys (E0-prefixed) through XKB
    assert keys.translate(key("Key_Control"), "", NO, 105, 0, "xcb").scancode == 0x9D
    assert keys.translate(key("Key_Up"), "", NO, 111, 0, "xcb").scancode == 0xC8


def test_fallback_from_qt_keys_on_other_platforms() -> None:
    t = keys.translate
    assert t(key("Key_A"), "a", NO, 0, 0, "offscreen") == keys.KeyStroke(0x61, 0x1E)
    shifted_a = t(key("Key_A"), "A", Qt.KeyboardModifier.ShiftModifier, 0, 0, "offscreen")
    assert shifted_a == keys.KeyStroke(0x41, 0x1E, needs_shift=True)  # added if not held
    # The native code is not trusted where it is not an XKB keycode
    assert t(key("Key_A"), "a", NO, 38, 0, "offscreen").scancode == 0x1E
    # A character that needs Shift on a US keyboard says so
    assert t(key("Key_Greater"), ">", NO) == keys.KeyStroke(0x3E, 0x34, needs_shift=True)
    assert t(key("Key_Underscore"), "_", NO) == keys.KeyStroke(0x5F, 0x0C, needs_shift=True)
    assert t(key("Key_Return"), "\r", NO) == keys.KeyStroke(0xFF0D, 0x1C)
    assert t(key("Key_Delete"), "", NO) == keys.KeyStroke(0xFFFF, 0xD3)
    assert t(key("Key_F12"), "", NO) == keys.KeyStroke(0xFFC9, 0x58)
    assert t(key("Key_Print"), "", NO) == keys.KeyStroke(0xFF61, 0xB7)
    # Keypad keys by the keypad modifier
    assert t(key("Key_7"), "7", KEYPAD) == keys.KeyStroke(0xFFB7, 0x47)
    assert t(key("Key_Enter"), "\r", KEYPAD) == keys.KeyStroke(0xFF8D, 0x9C)
    # Ctrl+C comes with a control character as text: the keysym is still 'c'
    assert t(key("Key_C"), "\x03", Qt.KeyboardModifier.ControlModifier).keysym == 0x63
    # Non-Latin-1 text: a Unicode keysym, no scancode
    assert t(key("Key_unknown") if hasattr(Qt.Key, "Key_unknown") else 0x01FFFFFF, "€", NO) == (
        keys.KeyStroke(0x010020AC, None)
    )


def test_combinations() -> None:
    labels = [label for label, _ in keys.COMBINATIONS]
    assert labels[0] == "Ctrl+Alt+Del" and "PrintScreen" in labels
    assert [f"Ctrl+Alt+F{n}" for n in range(1, 13)] == [x for x in labels if "+F" in x]
    ctrl_alt_del = dict(keys.COMBINATIONS)["Ctrl+Alt+Del"]
    assert keys.combo(ctrl_alt_del) == [(0xFFE3, 0x1D), (0xFFE9, 0x38), (0xFFFF, 0xD3)]
    f12 = dict(keys.COMBINATIONS)["Ctrl+Alt+F12"]
    assert keys.combo(f12)[-1] == (0xFFC9, 0x58)


def test_a_position_on_a_guest_pixel_edge_maps_to_that_pixel() -> None:
    # 1920 guest pixels shown 996 logical pixels wide: widget x 249 is exactly guest x 480,
    # though 249 / 0.51875 comes out a hair below 480 in floating point.
    p = Placement(0, 0, 996, 560.25, 0.51875, 1920, 1080)
    assert 249 / 0.51875 < 480
    assert p.to_guest(249, 0) == (480, 0)
    assert p.to_guest(248.9, 0) == (479, 0)
