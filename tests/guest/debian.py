"""Debian packages as build inputs: resolve versions with apt-cache, fetch with apt-get.

Nothing here installs anything. ``apt-get download`` fetches a .deb into a directory
without root, and members are read straight out of ``dpkg-deb --fsys-tarfile``.
Version look-ups are cached in the test cache, keyed by the state of the apt lists, so that
a cached build costs a few ``stat`` calls rather than several ``apt-cache`` runs.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests.guest.cache import cache_root, file_lock

APT_LISTS = Path("/var/lib/apt/lists")
#: The metapackage that names the current stock amd64 kernel.
KERNEL_METAPACKAGE = "linux-image-amd64"

_updated_once = False


@dataclass(frozen=True)
class Package:
    """One resolved binary package: name and the version apt would fetch."""

    name: str
    version: str

    @property
    def spec(self) -> str:
        return f"{self.name}={self.version}"


def _run(args: list[str], cwd: Path | None = None) -> str:
    env = {**os.environ, "LC_ALL": "C"}
    proc = subprocess.run(args, capture_output=True, text=True, env=env, cwd=cwd, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc.stdout


def _apt_lists_stamp() -> str:
    """A cheap fingerprint of the apt package lists: changes whenever apt-get update ran."""
    try:
        entries = sorted(
            (e.name, e.stat().st_mtime_ns, e.stat().st_size)
            for e in os.scandir(APT_LISTS)
            if e.name.endswith("_Packages") or e.name.endswith("Release")
        )
    except FileNotFoundError:
        return "no-lists"
    return json.dumps(entries)


class DownloadError(RuntimeError):
    """``apt-get download`` failed, for instance because the lists name a version that
    the mirror no longer has."""


def refresh_lists() -> bool:
    """Run ``apt-get update`` once per process if we are root; True if it ran."""
    global _updated_once
    if _updated_once or os.geteuid() != 0:
        return False
    _updated_once = True
    print("tests.guest: running apt-get update", file=sys.stderr)
    _run(["apt-get", "update", "-qq"])
    return True


def _apt_update_if_empty() -> None:
    if not refresh_lists():
        raise RuntimeError("apt knows no such package: run 'apt-get update' as root first")


def _candidate(name: str) -> str | None:
    out = _run(["apt-cache", "policy", name])
    match = re.search(r"^\s*Candidate:\s*(\S+)", out, re.MULTILINE)
    if not match or match.group(1) == "(none)":
        return None
    return match.group(1)


def candidate_version(name: str) -> str:
    """The version of ``name`` that ``apt-get download`` would fetch."""
    version = _candidate(name)
    if version is None:
        _apt_update_if_empty()
        version = _candidate(name)
    if version is None:
        raise RuntimeError(f"apt knows no candidate version of {name}")
    return version


def _kernel_package_name() -> str | None:
    out = _run(["apt-cache", "depends", "--no-recommends", "--no-suggests", KERNEL_METAPACKAGE])
    match = re.search(r"Depends:\s*(linux-image-\S+-amd64)\s*$", out, re.MULTILINE)
    return match.group(1) if match else None


def _resolve_uncached() -> dict[str, Package]:
    for attempt in range(2):
        try:
            kernel_name = _kernel_package_name()
        except RuntimeError:
            kernel_name = None
        kernel_version = _candidate(kernel_name) if kernel_name else None
        busybox_version = _candidate("busybox-static")
        if kernel_name and kernel_version and busybox_version:
            return {
                "kernel": Package(kernel_name, kernel_version),
                "busybox": Package("busybox-static", busybox_version),
            }
        if attempt == 0:
            _apt_update_if_empty()
    raise RuntimeError(
        f"apt cannot resolve {KERNEL_METAPACKAGE} and busybox-static; is Debian's mirror "
        "in sources.list?"
    )


def resolve_packages() -> dict[str, Package]:
    """Resolve the kernel and busybox-static packages apt would fetch now.

    The answer is cached beside the build products and reused until the apt lists change.
    """
    memo = cache_root() / "apt-resolution.json"
    stamp = _apt_lists_stamp()
    try:
        data = json.loads(memo.read_text())
        if data["stamp"] == stamp:
            return {k: Package(**v) for k, v in data["packages"].items()}
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        pass
    with file_lock(cache_root() / ".apt-resolution.lock"):
        packages = _resolve_uncached()
        stamp = _apt_lists_stamp()  # an apt-get update above changes it
        tmp = memo.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(
            json.dumps(
                {
                    "stamp": stamp,
                    "packages": {k: vars(v) for k, v in packages.items()},
                }
            )
        )
        os.replace(tmp, memo)
    return packages


def download(packages: list[Package], dest: Path) -> dict[str, Path]:
    """Fetch the exact package versions into ``dest`` with ``apt-get download``."""
    dest.mkdir(parents=True, exist_ok=True)
    args = ["apt-get", "download", "-q"]
    if os.geteuid() == 0:
        # apt drops to the _apt user to download; it could not write to a private dir.
        args += ["-o", "APT::Sandbox::User=root"]
    try:
        _run([*args, *(p.spec for p in packages)], cwd=dest)
    except RuntimeError as error:
        raise DownloadError(str(error)) from error
    found: dict[str, Path] = {}
    for pkg in packages:
        matches = sorted(dest.glob(f"{pkg.name}_*.deb"))
        if not matches:
            raise RuntimeError(f"apt-get download left no .deb for {pkg.spec} in {dest}")
        found[pkg.name] = matches[0]
    return found


def extract(deb: Path, want: Callable[[str], Path | None], *, expect: int | None = None) -> int:
    """Stream the data of ``deb`` and write each member for which ``want(name)`` gives a path.

    Member names are normalised without the leading ``./``. Regular files only. If
    ``expect`` is given, reading stops once that many members were written, which saves
    decompressing the rest of a large package. Returns the number of members written.
    """
    proc = subprocess.Popen(
        ["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdout is not None
    written = 0
    stopped_early = False
    try:
        with tarfile.open(fileobj=proc.stdout, mode="r|") as tar:
            for member in tar:
                if not member.isfile():
                    continue
                target = want(member.name.removeprefix("./"))
                if target is None:
                    continue
                source = tar.extractfile(member)
                assert source is not None
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(source.read())
                target.chmod(member.mode & 0o777)
                written += 1
                if expect is not None and written >= expect:
                    stopped_early = True
                    break
    finally:
        if stopped_early:
            proc.kill()
        proc.stdout.close()
        _, err = proc.communicate()
    if not stopped_early and proc.returncode != 0:
        raise RuntimeError(f"dpkg-deb --fsys-tarfile {deb} failed: {err.decode().strip()}")
    return written
