"""Choose the accelerator for test guests: TCG unless a boot probe shows KVM is faster.

``/dev/kvm`` existing is no proof that KVM works well. On the build and CI machines it is
backed by ``kvm_pvm``, a paravirtual nested KVM under which ordinary guests crawl. So the
probe boots the real test guest under TCG, then under KVM with TCG's time as the limit
(capped at :data:`KVM_TIMEOUT`), and keeps whichever reached the ready marker first.

The answer is cached by host kernel release, CPU model, presence of ``kvm_pvm`` and guest
kernel, so the probe runs once per machine. ``NIDO_TEST_ACCEL=kvm|qemu`` overrides it.
"""

from __future__ import annotations

import functools
import json
import os
import platform
import sys
from pathlib import Path

from tests.guest import cache
from tests.guest.direct_boot import time_to_marker
from tests.guest.linux import linux_guest

KVM_TIMEOUT = 20.0
TCG_TIMEOUT = 120.0
_ACCELS = ("kvm", "qemu")


def _say(message: str) -> None:
    print(f"tests.guest: {message}", file=sys.stderr)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def probe_key(guest_kernel: str) -> dict[str, str | bool]:
    """What the probe's answer depends on."""
    return {
        "host_kernel": platform.release(),
        "cpu_model": _cpu_model(),
        "kvm_pvm": Path("/sys/module/kvm_pvm").exists(),
        "guest_kernel": guest_kernel,
    }


def probe() -> dict[str, object]:
    """Boot the test guest under TCG and KVM and return the timings and the choice."""
    guest = linux_guest()
    tcg = time_to_marker(guest, "qemu", TCG_TIMEOUT)
    kvm_limit = min(KVM_TIMEOUT, tcg) if tcg is not None else KVM_TIMEOUT
    kvm = time_to_marker(guest, "kvm", kvm_limit)
    if kvm is not None and (tcg is None or kvm < tcg):
        choice, why = "kvm", f"KVM reached the ready marker in {kvm:.1f} s"
        if tcg is not None:
            why += f", TCG in {tcg:.1f} s"
    else:
        choice = "qemu"
        tcg_text = f"{tcg:.1f} s" if tcg is not None else f"no marker in {TCG_TIMEOUT:.0f} s"
        why = f"TCG reached the ready marker in {tcg_text}, KVM not within {kvm_limit:.1f} s"
        if Path("/sys/module/kvm_pvm").exists():
            why += " (/dev/kvm is kvm_pvm, a paravirtual nested KVM)"
    return {"accel": choice, "reason": why, "tcg_seconds": tcg, "kvm_seconds": kvm}


@functools.cache
def accelerator() -> str:
    """Return "kvm" or "qemu" (TCG) for test domains; probes once per machine."""
    forced = os.environ.get("NIDO_TEST_ACCEL")
    if forced:
        if forced not in _ACCELS:
            raise ValueError(f"NIDO_TEST_ACCEL must be one of {_ACCELS}, not {forced!r}")
        _say(f"accelerator {forced} (forced by NIDO_TEST_ACCEL)")
        return forced
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        _say("accelerator qemu (TCG): /dev/kvm is missing or not accessible, no probe")
        return "qemu"

    key = probe_key(linux_guest().kernel_version)
    path = cache.cache_root() / f"accel-{cache.recipe_hash(json.dumps(key, sort_keys=True))}.json"
    with cache.file_lock(cache.cache_root() / ".accel.lock"):
        try:
            result = json.loads(path.read_text())
            _say(f"accelerator {result['accel']} (cached probe: {result['reason']})")
            return str(result["accel"])
        except (FileNotFoundError, ValueError, KeyError):
            pass
        _say("probing whether KVM boots the test guest faster than TCG ...")
        result = probe() | {"key": key}
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(result, indent=2))
        os.replace(tmp, path)
    _say(f"accelerator {result['accel']}: {result['reason']}")
    return str(result["accel"])
