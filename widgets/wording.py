"""Small pieces of wording that several messages share."""

from __future__ import annotations

from collections.abc import Sequence


def quoted_names(names: Sequence[str], most: int) -> str:
    """“a”, “b” and 2 more: the names in quotes, at most ``most`` of them."""
    text = ", ".join(f"“{name}”" for name in names[:most])
    if len(names) > most:
        text += f" and {len(names) - most} more"
    return text
