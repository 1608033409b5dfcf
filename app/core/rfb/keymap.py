"""Linux evdev key codes → the scancodes QEMU Extended Key Events carry ("qnum": PC XT
set 1, with 0xE0-prefixed keys as 0x80 | code), after the keycodemapdb tables QEMU,
gtk-vnc and libvirt share (``man 7 virkeycode-qnum``).

Qt reports a key's ``nativeScanCode()`` as an X11/XKB keycode on X11 and Wayland, which
is the evdev code plus 8: :func:`qnum_from_xkb` takes that. Sending scancodes rather than
keysyms makes every host keyboard layout work: the guest applies its own layout.
"""

from __future__ import annotations

#: evdev codes 1-83 (Esc .. keypad '.') are the same numbers in set 1.
_IDENTITY_LAST = 83

#: The rest of the PC-105 keyboard and common extras: evdev code → qnum.
_EVDEV_TO_QNUM: dict[int, int] = {
    85: 0x76,  # KEY_ZENKAKUHANKAKU
    86: 0x56,  # KEY_102ND (the key left of Z on ISO keyboards)
    87: 0x57,  # KEY_F11
    88: 0x58,  # KEY_F12
    89: 0x73,  # KEY_RO
    90: 0x78,  # KEY_KATAKANA
    91: 0x77,  # KEY_HIRAGANA
    92: 0x79,  # KEY_HENKAN
    93: 0x70,  # KEY_KATAKANAHIRAGANA
    94: 0x7B,  # KEY_MUHENKAN
    95: 0x5C,  # KEY_KPJPCOMMA
    96: 0x9C,  # KEY_KPENTER
    97: 0x9D,  # KEY_RIGHTCTRL
    98: 0xB5,  # KEY_KPSLASH
    99: 0xB7,  # KEY_SYSRQ (the Print Screen key: E0 37)
    100: 0xB8,  # KEY_RIGHTALT (AltGr)
    102: 0xC7,  # KEY_HOME
    103: 0xC8,  # KEY_UP
    104: 0xC9,  # KEY_PAGEUP
    105: 0xCB,  # KEY_LEFT
    106: 0xCD,  # KEY_RIGHT
    107: 0xCF,  # KEY_END
    108: 0xD0,  # KEY_DOWN
    109: 0xD1,  # KEY_PAGEDOWN
    110: 0xD2,  # KEY_INSERT
    111: 0xD3,  # KEY_DELETE
    113: 0xA0,  # KEY_MUTE
    114: 0xAE,  # KEY_VOLUMEDOWN
    115: 0xB0,  # KEY_VOLUMEUP
    116: 0xDE,  # KEY_POWER
    117: 0x59,  # KEY_KPEQUAL
    119: 0xC6,  # KEY_PAUSE
    121: 0x7E,  # KEY_KPCOMMA
    123: 0x8D,  # KEY_HANJA
    124: 0x7D,  # KEY_YEN
    125: 0xDB,  # KEY_LEFTMETA
    126: 0xDC,  # KEY_RIGHTMETA
    127: 0xDD,  # KEY_COMPOSE (the Menu key)
    142: 0xDF,  # KEY_SLEEP
    143: 0xE3,  # KEY_WAKEUP
    183: 0x5D,  # KEY_F13
    184: 0x5E,  # KEY_F14
    185: 0x5F,  # KEY_F15
    186: 0x55,  # KEY_F16
    187: 0x83,  # KEY_F17
    188: 0xF7,  # KEY_F18
    189: 0x84,  # KEY_F19
    190: 0x5A,  # KEY_F20
    191: 0x74,  # KEY_F21
    192: 0xF9,  # KEY_F22
    193: 0x6D,  # KEY_F23
    194: 0x6F,  # KEY_F24
}

#: A few evdev codes by name, for key-combination menus (Ctrl+Alt+Del, Ctrl+Alt+Fn...).
KEY_ESC = 1
KEY_BACKSPACE = 14
KEY_TAB = 15
KEY_ENTER = 28
KEY_LEFTCTRL = 29
KEY_LEFTSHIFT = 42
KEY_LEFTALT = 56
KEY_SPACE = 57
KEY_F1 = 59  # F1-F10 are 59-68
KEY_F11 = 87
KEY_F12 = 88
KEY_SYSRQ = 99
KEY_DELETE = 111
KEY_LEFTMETA = 125


def qnum_from_evdev(code: int) -> int | None:
    """The QEMU scancode of an evdev key code, or None if there is none."""
    if 1 <= code <= _IDENTITY_LAST:
        return code
    return _EVDEV_TO_QNUM.get(code)


def qnum_from_xkb(keycode: int) -> int | None:
    """The QEMU scancode of an X11/XKB keycode (Qt's ``nativeScanCode()`` on Linux)."""
    return qnum_from_evdev(keycode - 8)


def function_key(n: int) -> int:
    """The evdev code of F1-F12."""
    if not 1 <= n <= 12:
        raise ValueError(f"no F{n} key")
    return KEY_F1 + n - 1 if n <= 10 else KEY_F11 + n - 11
