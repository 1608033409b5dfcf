"""From Qt key events to what the guest gets: a QEMU scancode and an X keysym.

Scancodes make every host keyboard layout work (the guest applies its own layout). Where
Qt gives the key's position — ``nativeScanCode()`` is the XKB keycode on X11 (xcb) and
Wayland — that position goes to the guest whatever the host's layout is. Elsewhere
(offscreen, and any platform that reports something else) the scancode is derived from
``key()`` as a US keyboard would produce it, with Shift added for characters that need it;
:attr:`KeyStroke.needs_shift` says so. The keysym goes along for servers that take no
scancodes.

Also here: the Send Key menu's combinations (built in, and custom ones the person records
as a Qt key combination, :func:`qt_combo`), and the shortcuts that can release the
keyboard grab (:data:`RELEASE_SHORTCUTS`), and Nido's own quit keys (:func:`quit_keys`),
which a display keeps for the guest.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence

from app.core.rfb import keymap

K = Qt.Key

#: Qt keys → X keysyms for keys that have no printable text.
_KEYSYMS: dict[K, int] = {
    K.Key_Escape: 0xFF1B,
    K.Key_Tab: 0xFF09,
    K.Key_Backtab: 0xFE20,
    K.Key_Backspace: 0xFF08,
    K.Key_Return: 0xFF0D,
    K.Key_Enter: 0xFF8D,
    K.Key_Insert: 0xFF63,
    K.Key_Delete: 0xFFFF,
    K.Key_Pause: 0xFF13,
    K.Key_Print: 0xFF61,
    K.Key_SysReq: 0xFF15,
    K.Key_Home: 0xFF50,
    K.Key_End: 0xFF57,
    K.Key_Left: 0xFF51,
    K.Key_Up: 0xFF52,
    K.Key_Right: 0xFF53,
    K.Key_Down: 0xFF54,
    K.Key_PageUp: 0xFF55,
    K.Key_PageDown: 0xFF56,
    K.Key_Shift: 0xFFE1,
    K.Key_Control: 0xFFE3,
    K.Key_Meta: 0xFFEB,
    K.Key_Alt: 0xFFE9,
    K.Key_AltGr: 0xFE03,
    K.Key_CapsLock: 0xFFE5,
    K.Key_NumLock: 0xFF7F,
    K.Key_ScrollLock: 0xFF14,
    K.Key_Menu: 0xFF67,
    K.Key_Super_L: 0xFFEB,
    K.Key_Super_R: 0xFFEC,
    K.Key_Space: 0x20,
    **{getattr(K, f"Key_F{n}"): 0xFFBE + n - 1 for n in range(1, 25)},
}

#: Keypad keys (Qt sets KeypadModifier): Qt key → (keysym, evdev code).
_KEYPAD: dict[K, tuple[int, int]] = {
    **{
        getattr(K, f"Key_{d}"): (0xFFB0 + d, code)
        for d, code in zip(range(10), (82, 79, 80, 81, 75, 76, 77, 71, 72, 73), strict=True)
    },
    K.Key_Asterisk: (0xFFAA, 55),
    K.Key_Minus: (0xFFAD, 74),
    K.Key_Plus: (0xFFAB, 78),
    K.Key_Period: (0xFFAE, 83),
    K.Key_Comma: (0xFFAC, 83),
    K.Key_Slash: (0xFFAF, 98),
    K.Key_Enter: (0xFF8D, 96),
    K.Key_Equal: (0xFFBD, 117),
}

#: Qt keys → evdev codes on a US keyboard, unshifted.
_EVDEV: dict[K, int] = {
    K.Key_Escape: 1,
    **{getattr(K, f"Key_{d}"): 2 + (d - 1) % 10 for d in range(10)},
    K.Key_Minus: 12,
    K.Key_Equal: 13,
    K.Key_Backspace: 14,
    K.Key_Tab: 15,
    K.Key_Backtab: 15,
    **{getattr(K, f"Key_{c}"): 16 + i for i, c in enumerate("QWERTYUIOP")},
    K.Key_BracketLeft: 26,
    K.Key_BracketRight: 27,
    K.Key_Return: 28,
    K.Key_Control: 29,
    **{getattr(K, f"Key_{c}"): 30 + i for i, c in enumerate("ASDFGHJKL")},
    K.Key_Semicolon: 39,
    K.Key_Apostrophe: 40,
    K.Key_QuoteLeft: 41,
    K.Key_Shift: 42,
    K.Key_Backslash: 43,
    **{getattr(K, f"Key_{c}"): 44 + i for i, c in enumerate("ZXCVBNM")},
    K.Key_Comma: 51,
    K.Key_Period: 52,
    K.Key_Slash: 53,
    K.Key_Alt: 56,
    K.Key_Space: 57,
    K.Key_CapsLock: 58,
    **{getattr(K, f"Key_F{n}"): keymap.function_key(n) for n in range(1, 13)},
    K.Key_NumLock: 69,
    K.Key_ScrollLock: 70,
    K.Key_Enter: 96,
    K.Key_Print: 99,
    K.Key_SysReq: 99,
    K.Key_AltGr: 100,
    K.Key_Home: 102,
    K.Key_Up: 103,
    K.Key_PageUp: 104,
    K.Key_Left: 105,
    K.Key_Right: 106,
    K.Key_End: 107,
    K.Key_Down: 108,
    K.Key_PageDown: 109,
    K.Key_Insert: 110,
    K.Key_Delete: 111,
    K.Key_Pause: 119,
    K.Key_Meta: 125,
    K.Key_Super_L: 125,
    K.Key_Super_R: 126,
    K.Key_Menu: 127,
}

#: Characters that need Shift on a US keyboard: Qt key → evdev code of the key.
_SHIFTED: dict[K, int] = {
    K.Key_Exclam: 2,
    K.Key_At: 3,
    K.Key_NumberSign: 4,
    K.Key_Dollar: 5,
    K.Key_Percent: 6,
    K.Key_AsciiCircum: 7,
    K.Key_Ampersand: 8,
    K.Key_Asterisk: 9,
    K.Key_ParenLeft: 10,
    K.Key_ParenRight: 11,
    K.Key_Underscore: 12,
    K.Key_Plus: 13,
    K.Key_BraceLeft: 26,
    K.Key_BraceRight: 27,
    K.Key_Colon: 39,
    K.Key_QuoteDbl: 40,
    K.Key_AsciiTilde: 41,
    K.Key_Bar: 43,
    K.Key_Less: 51,
    K.Key_Greater: 52,
    K.Key_Question: 53,
}

_EVDEV_BY_INT = {int(k.value): v for k, v in _EVDEV.items()}
_SHIFTED_BY_INT = {int(k.value): v for k, v in _SHIFTED.items()}
_KEYPAD_BY_INT = {int(k.value): v for k, v in _KEYPAD.items()}
_KEYSYM_BY_INT = {int(k.value): v for k, v in _KEYSYMS.items()}

#: evdev codes → keysyms, for key combinations sent from the menu.
_EVDEV_KEYSYMS: dict[int, int] = {
    keymap.KEY_LEFTCTRL: 0xFFE3,
    keymap.KEY_LEFTALT: 0xFFE9,
    keymap.KEY_LEFTSHIFT: 0xFFE1,
    keymap.KEY_LEFTMETA: 0xFFEB,
    keymap.KEY_DELETE: 0xFFFF,
    keymap.KEY_BACKSPACE: 0xFF08,
    keymap.KEY_SYSRQ: 0xFF61,
    keymap.KEY_ESC: 0xFF1B,
    keymap.KEY_TAB: 0xFF09,
    keymap.KEY_ENTER: 0xFF0D,
    **{keymap.function_key(n): 0xFFBE + n - 1 for n in range(1, 13)},
}

SHIFT_SCANCODE = keymap.qnum_from_evdev(keymap.KEY_LEFTSHIFT)
SHIFT_KEYSYM = 0xFFE1
#: Scancodes of the modifier keys (left and right), for the release hot-key.
CTRL_SCANCODES = frozenset({0x1D, 0x9D})
ALT_SCANCODES = frozenset({0x38, 0xB8})
SHIFT_SCANCODES = frozenset({0x2A, 0x36})


def native_positions(platform: str) -> bool:
    """Whether ``nativeScanCode()`` is an XKB keycode (the key's position) here."""
    return platform == "xcb" or platform.startswith("wayland")


@dataclass(frozen=True)
class KeyStroke:
    """What to send for one key: ``scancode`` None when unknown (keysym only)."""

    keysym: int
    scancode: int | None
    #: Derived on a US layout: the character needs Shift, which the caller adds if it is
    #: not held.
    needs_shift: bool = False


def keysym_for(key: int, text: str, modifiers: Qt.KeyboardModifier) -> int:
    if modifiers & Qt.KeyboardModifier.KeypadModifier and key in _KEYPAD_BY_INT:
        return _KEYPAD_BY_INT[key][0]
    if key in _KEYSYM_BY_INT:
        return _KEYSYM_BY_INT[key]
    if len(text) == 1 and text.isprintable():
        code = ord(text)
        return code if code < 0x100 else 0x01000000 | code
    if 0x41 <= key <= 0x5A:  # letters without text (Ctrl held): the lower-case keysym
        shift = bool(modifiers & Qt.KeyboardModifier.ShiftModifier)
        return key if shift else key + 0x20
    if 0x20 <= key <= 0x7E:
        return key
    return 0


def translate(
    key: int,
    text: str,
    modifiers: Qt.KeyboardModifier,
    native_scancode: int = 0,
    native_keysym: int = 0,
    platform: str = "",
) -> KeyStroke:
    """The keysym and scancode for a Qt key event's values."""
    positional = native_positions(platform)
    keysym = native_keysym if platform == "xcb" and native_keysym else 0
    keysym = keysym or keysym_for(key, text, modifiers)
    if positional and native_scancode > 8:
        scancode = keymap.qnum_from_xkb(native_scancode)
        if scancode is not None:
            return KeyStroke(keysym, scancode)
    if modifiers & Qt.KeyboardModifier.KeypadModifier and key in _KEYPAD_BY_INT:
        return KeyStroke(keysym, keymap.qnum_from_evdev(_KEYPAD_BY_INT[key][1]))
    if key in _EVDEV_BY_INT:
        # An upper-case letter typed without Shift (synthesised input, say) needs it.
        upper = 0x41 <= key <= 0x5A and len(text) == 1 and text.isupper()
        return KeyStroke(keysym, keymap.qnum_from_evdev(_EVDEV_BY_INT[key]), needs_shift=upper)
    if key in _SHIFTED_BY_INT:
        return KeyStroke(keysym, keymap.qnum_from_evdev(_SHIFTED_BY_INT[key]), needs_shift=True)
    return KeyStroke(keysym, None)


def combo(evdev_codes: list[int]) -> list[tuple[int, int]]:
    """(keysym, scancode) for each key of a combination given as evdev codes."""
    out = []
    for code in evdev_codes:
        scancode = keymap.qnum_from_evdev(code)
        if scancode is None:
            raise ValueError(f"no scancode for evdev key {code}")
        out.append((_EVDEV_KEYSYMS.get(code, 0), scancode))
    return out


#: The combinations the Send Key menu offers: label → evdev codes, pressed in order.
COMBINATIONS: list[tuple[str, list[int]]] = [
    ("Ctrl+Alt+Del", [keymap.KEY_LEFTCTRL, keymap.KEY_LEFTALT, keymap.KEY_DELETE]),
    ("Ctrl+Alt+Backspace", [keymap.KEY_LEFTCTRL, keymap.KEY_LEFTALT, keymap.KEY_BACKSPACE]),
    *[
        (f"Ctrl+Alt+F{n}", [keymap.KEY_LEFTCTRL, keymap.KEY_LEFTALT, keymap.function_key(n)])
        for n in range(1, 13)
    ],
    ("PrintScreen", [keymap.KEY_SYSRQ]),
]


# -- custom combinations -----------------------------------------------------------------
#: Modifier flags of a recorded combination → (keysym, evdev code) of the left-hand key,
#: pressed in this order before the combination's key.
_MODIFIER_KEYS: list[tuple[Qt.KeyboardModifier, int, int]] = [
    (Qt.KeyboardModifier.ControlModifier, 0xFFE3, keymap.KEY_LEFTCTRL),
    (Qt.KeyboardModifier.AltModifier, 0xFFE9, keymap.KEY_LEFTALT),
    (Qt.KeyboardModifier.ShiftModifier, 0xFFE1, keymap.KEY_LEFTSHIFT),
    (Qt.KeyboardModifier.MetaModifier, 0xFFEB, keymap.KEY_LEFTMETA),
]
_MODIFIER_KEY_INTS = {
    int(k.value) for k in (K.Key_Control, K.Key_Alt, K.Key_Shift, K.Key_Meta, K.Key_AltGr)
}


def qt_combo(key: int, modifiers: Qt.KeyboardModifier) -> list[tuple[int, int]]:
    """(keysym, scancode) for each key of a recorded combination (a Qt key with its
    modifiers), modifiers first, as a US keyboard types it. Raises ValueError for a key
    that has no scancode (Nido could not send it)."""
    if key in (0, int(K.Key_unknown.value)) or key in _MODIFIER_KEY_INTS:
        raise ValueError("A combination needs a key besides its modifiers.")
    stroke = translate(key, "", modifiers)
    if stroke.scancode is None:
        raise ValueError("Nido cannot send this key to a guest.")
    if stroke.needs_shift:
        modifiers |= Qt.KeyboardModifier.ShiftModifier
    out = []
    for flag, keysym, code in _MODIFIER_KEYS:
        if modifiers & flag:
            out.append((keysym, keymap.qnum_from_evdev(code)))
    out.append((stroke.keysym, stroke.scancode))
    return out


# -- releasing the grab --------------------------------------------------------------------
RIGHT_CTRL_SCANCODE = 0x9D


@dataclass(frozen=True)
class ReleaseShortcut:
    """Keys that release the keyboard grab: modifiers pressed and released alone, or
    modifiers held while a last key goes down (that key never reaches the guest)."""

    id: str  # what the settings keep
    label: str
    #: Each set is one modifier: any of its scancodes counts (left or right).
    modifiers: tuple[frozenset[int], ...]
    #: The last key's keysym (lower case), or 0 for modifiers alone.
    key: int = 0

    @property
    def scancodes(self) -> frozenset[int]:
        return frozenset().union(*self.modifiers)

    def holds(self, down: set[object]) -> bool:
        """Exactly this shortcut's modifiers are down (keys by scancode)."""
        return all(down & group for group in self.modifiers) and not (down - self.scancodes)

    def is_key(self, keysym: int) -> bool:
        folded = keysym + 0x20 if 0x41 <= keysym <= 0x5A else keysym
        return bool(self.key) and folded == self.key


RELEASE_SHORTCUTS: list[ReleaseShortcut] = [
    ReleaseShortcut("ctrl+alt", "Ctrl+Alt", (CTRL_SCANCODES, ALT_SCANCODES)),
    ReleaseShortcut("right-ctrl", "Right Ctrl", (frozenset({RIGHT_CTRL_SCANCODE}),)),
    ReleaseShortcut("ctrl+alt+g", "Ctrl+Alt+G", (CTRL_SCANCODES, ALT_SCANCODES), key=0x67),
    ReleaseShortcut("ctrl+shift", "Ctrl+Shift", (CTRL_SCANCODES, SHIFT_SCANCODES)),
]
DEFAULT_RELEASE = RELEASE_SHORTCUTS[0]


def release_shortcut(shortcut_id: str) -> ReleaseShortcut:
    """The shortcut with this id, or the default one for an id Nido does not know."""
    for shortcut in RELEASE_SHORTCUTS:
        if shortcut.id == shortcut_id:
            return shortcut
    return DEFAULT_RELEASE


def quit_keys() -> list[QKeySequence]:
    """The desktop's keys for Quit; Ctrl+Q where the platform names none (Qt's offscreen
    platform names none)."""
    return QKeySequence.keyBindings(QKeySequence.StandardKey.Quit) or [QKeySequence("Ctrl+Q")]


def is_quit_key(combination: QKeySequence) -> bool:
    return any(combination.matches(k) == QKeySequence.SequenceMatch.ExactMatch for k in quit_keys())
