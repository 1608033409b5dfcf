"""An on-disk cache for test-guest build products, safe across parallel test processes.

Products live under ``$NIDO_TEST_CACHE``, else ``$XDG_CACHE_HOME/nido-tests``, else
``~/.cache/nido-tests``. Each product is a directory named by a key that covers all of its
inputs (package versions and a hash of the recipe). A product is built in a temporary
directory beside its final place and renamed into place, under an exclusive file lock, so
a second process waiting on the lock finds the finished product and never a half-built one.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

#: Each product directory holds this file once it is complete.
COMPLETE_MARK = ".complete"
#: Products of an outdated recipe or package version go after a week without use.
STALE_AFTER_SECONDS = 7 * 24 * 3600


def cache_root() -> Path:
    """Return the cache directory, creating it if needed."""
    env = os.environ.get("NIDO_TEST_CACHE")
    if env:
        root = Path(env)
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        root = (Path(xdg) if xdg else Path.home() / ".cache") / "nido-tests"
    root.mkdir(parents=True, exist_ok=True)
    return root


def recipe_hash(*parts: str | bytes | Path, length: int = 12) -> str:
    """Hash recipe inputs: strings, bytes, or files (hashed by content)."""
    digest = hashlib.sha256()
    for part in parts:
        if isinstance(part, Path):
            data = part.read_bytes()
        elif isinstance(part, str):
            data = part.encode()
        else:
            data = part
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
    return digest.hexdigest()[:length]


def source_files_hash(files: Iterable[Path]) -> str:
    """Hash the source files that make up a recipe, so editing the recipe rebuilds."""
    return recipe_hash(*sorted(files))


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``path`` (created if missing) for the block."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _prune(root: Path, kind: str, keep: str) -> None:
    """Remove products of the same kind (key prefix) that nobody used for a while, and
    temporary build directories that a killed process left behind."""
    now = time.time()
    for entry in root.glob(f".{kind}-*.tmp"):
        if entry.stat().st_mtime < now - 24 * 3600:
            shutil.rmtree(entry, ignore_errors=True)
    for entry in root.glob(f"{kind}-*"):
        if (
            entry.name != keep
            and entry.is_dir()
            and entry.stat().st_mtime < now - STALE_AFTER_SECONDS
        ):
            with file_lock(root / f".{entry.name}.lock"):
                shutil.rmtree(entry, ignore_errors=True)


def cached_product(key: str, build: Callable[[Path], None]) -> Path:
    """Return the directory of product ``key``, building it with ``build(tmpdir)`` if absent.

    ``build`` fills the empty directory it is given. The fast path (product present) costs
    a ``stat`` and a ``utime`` (the mtime records the last use); only a miss takes the lock.
    After a build, products of the same kind (the key up to its first ``-``) that went
    unused for :data:`STALE_AFTER_SECONDS` are removed.
    """
    root = cache_root()
    final = root / key
    if (final / COMPLETE_MARK).exists():
        with contextlib.suppress(OSError):  # a read-only cache still serves
            os.utime(final)
        return final
    with file_lock(root / f".{key}.lock"):
        if (final / COMPLETE_MARK).exists():
            return final
        if final.exists():  # not marked complete: not ours to trust
            shutil.rmtree(final)
        tmp = Path(tempfile.mkdtemp(prefix=f".{key}.", suffix=".tmp", dir=root))
        try:
            build(tmp)
            (tmp / COMPLETE_MARK).touch()
            tmp.chmod(0o755)
            os.rename(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    _prune(root, key.partition("-")[0], keep=key)
    return final
