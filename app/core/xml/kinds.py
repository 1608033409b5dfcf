"""Value kinds: how a descriptor turns XML text into Python values and back.

Also owns libvirt's size units (``unit='MiB'`` and friends), with the same spelling rules
as libvirt's own scaler: ``b``/``bytes``, ``k``/``KiB`` (1024), ``KB`` (1000), and so on up
to exbibytes, case-insensitively.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

__all__ = [
    "INT",
    "STR",
    "Kind",
    "as_kind",
    "bool_on_off",
    "bool_yes_no",
    "scale_to_kib",
    "unit_factor",
]

T = TypeVar("T")


@dataclass(frozen=True)
class Kind(Generic[T]):
    """A pair of conversions; `format` raises TypeError for a value of the wrong type."""

    name: str
    parse: Callable[[str], T]
    format: Callable[[T], str]


def _format_str(value: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected str, got {type(value).__name__}")
    return value


def _parse_int(text: str) -> int:
    text = text.strip()
    if text.lower().startswith(("0x", "-0x")):
        return int(text, 16)
    return int(text, 10)


def _format_int(value: int) -> str:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected int, got {type(value).__name__}")
    return str(value)


def _bool_kind(name: str, true: str, false: str) -> Kind[bool]:
    def parse(text: str) -> bool:
        if text == true:
            return True
        if text == false:
            return False
        raise ValueError(f"expected {true!r} or {false!r}, got {text!r}")

    def fmt(value: bool) -> str:
        if not isinstance(value, bool):
            raise TypeError(f"expected bool, got {type(value).__name__}")
        return true if value else false

    return Kind(name, parse, fmt)


STR: Kind[str] = Kind("str", str, _format_str)
INT: Kind[int] = Kind("int", _parse_int, _format_int)
bool_yes_no: Kind[bool] = _bool_kind("yes/no", "yes", "no")
bool_on_off: Kind[bool] = _bool_kind("on/off", "on", "off")


def as_kind(kind: Kind[Any] | type) -> Kind[Any]:
    """Accept `str` and `int` as shorthands for STR and INT."""
    if kind is str:
        return STR
    if kind is int:
        return INT
    if isinstance(kind, Kind):
        return kind
    raise TypeError(f"not a value kind: {kind!r}")


_POWERS = {"k": 1, "m": 2, "g": 3, "t": 4, "p": 5, "e": 6}


def unit_factor(unit: str) -> int:
    """Bytes per `unit`, following libvirt's rules; raises ValueError for unknown units."""
    lowered = unit.lower()
    if lowered in ("b", "byte", "bytes"):
        return 1
    if not unit or lowered[0] not in _POWERS:
        raise ValueError(f"unknown size unit {unit!r}")
    rest = lowered[1:]
    if rest in ("", "ib"):
        base = 1024
    elif rest == "b":
        base = 1000
    else:
        raise ValueError(f"unknown size unit {unit!r}")
    return base ** _POWERS[lowered[0]]


def scale_to_kib(value: int, unit: str) -> int:
    """A size in `unit` expressed in KiB, rounded up like libvirt does for memory."""
    if value < 0:
        raise ValueError(f"size cannot be negative: {value}")
    total = value * unit_factor(unit)
    return -(-total // 1024)
