"""DES against FIPS/NBS known answers, the VNC key quirk, and the evdev → QEMU scancode map."""

from __future__ import annotations

import pytest

from app.core.rfb import keymap
from app.core.rfb.des import des_encrypt_block, vnc_auth_response, vnc_key


@pytest.mark.parametrize(
    ("key", "plain", "cipher"),
    [
        ("133457799BBCDFF1", "0123456789ABCDEF", "85E813540F0AB405"),
        ("0123456789ABCDEF", "4E6F772069732074", "3FA40E8A984D4815"),  # "Now is t"
        ("0101010101010101", "8000000000000000", "95F8A5E5DD31D900"),  # NBS SP 500-20
        ("0101010101010101", "0000000000000001", "166B40B44ABA4BD6"),
        ("8001010101010101", "0000000000000000", "95A8D72813DAA94D"),
        ("7CA110454A1A6E57", "01A1D6D039776742", "690F5B0D9A26939B"),
    ],
)
def test_des_known_answers(key: str, plain: str, cipher: str) -> None:
    assert des_encrypt_block(bytes.fromhex(key), bytes.fromhex(plain)).hex().upper() == cipher


def test_vnc_key_reverses_bits_pads_and_truncates() -> None:
    assert vnc_key("password") == bytes.fromhex("0e86ceceeef64e26")
    assert vnc_key("a") == bytes([0x86]) + bytes(7)
    assert vnc_key("passwordEXTRA") == vnc_key("password")
    assert vnc_key(b"\x01\x80") == bytes([0x80, 0x01]) + bytes(6)


def test_vnc_auth_rejects_bad_challenge() -> None:
    with pytest.raises(ValueError):
        vnc_auth_response("x", bytes(15))


def test_keymap() -> None:
    assert keymap.qnum_from_evdev(30) == 0x1E  # A
    assert keymap.qnum_from_evdev(keymap.KEY_DELETE) == 0xD3  # E0 53
    assert keymap.qnum_from_evdev(keymap.KEY_SYSRQ) == 0xB7  # Print Screen, E0 37
    assert keymap.qnum_from_evdev(97) == 0x9D  # right Ctrl
    assert keymap.qnum_from_evdev(0) is None and keymap.qnum_from_evdev(84) is None
    assert keymap.qnum_from_xkb(38) == 0x1E  # X keycode of A
    assert [keymap.function_key(n) for n in (1, 10, 11, 12)] == [59, 68, 87, 88]
    assert keymap.qnum_from_evdev(keymap.function_key(12)) == 0x58
    with pytest.raises(ValueError):
        keymap.function_key(13)
