"""Icons, the .desktop entry and AppStream metainfo; `path()` finds them when installed."""

from pathlib import Path

HERE = Path(__file__).resolve().parent


def path(name: str) -> Path:
    """Absolute path of a resource file shipped with Nido."""
    return HERE / name
