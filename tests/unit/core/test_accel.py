"""Accelerator choice: KVM where it works, TCG otherwise, and a PVM host counts as
otherwise."""

from __future__ import annotations

from app.core import accel

CAPS = """<capabilities>
  <host><cpu><arch>x86_64</arch></cpu></host>
  <guest>
    <os_type>hvm</os_type>
    <arch name='i686'><domain type='qemu'/><domain type='kvm'/></arch>
  </guest>
  <guest>
    <os_type>hvm</os_type>
    <arch name='x86_64'><wordsize>64</wordsize><domain type='qemu'/>{kvm}</arch>
  </guest>
</capabilities>"""


def test_kvm_offered_on_a_normal_host_is_used() -> None:
    a = accel.choose_accelerator(CAPS.format(kvm="<domain type='kvm'/>"), local_pvm=False)
    assert a.domain_type == "kvm" and a.is_kvm and a.label == "KVM"


def test_pvm_host_falls_back_to_tcg_and_says_why() -> None:
    a = accel.choose_accelerator(CAPS.format(kvm="<domain type='kvm'/>"), local_pvm=True)
    assert a.domain_type == "qemu"
    assert "kvm_pvm" in a.explanation and "software emulation" in a.explanation
    assert "paravirtual nested" in a.headline and len(a.headline) < 100


def test_no_kvm_offered_means_tcg() -> None:
    a = accel.choose_accelerator(CAPS.format(kvm=""), local_pvm=False)
    assert a.domain_type == "qemu" and not a.is_kvm


def test_remote_host_with_kvm_uses_it() -> None:
    a = accel.choose_accelerator(CAPS.format(kvm="<domain type='kvm'/>"), local_pvm=None)
    assert a.is_kvm


def test_only_the_host_arch_counts() -> None:
    # kvm for i686 only must not make x86_64 guests use kvm.
    assert accel.offered_domain_types(CAPS.format(kvm="")) == {"qemu"}


def test_pvm_detection_reads_sys_module(tmp_path) -> None:
    assert not accel.local_kvm_is_pvm(str(tmp_path / "missing"))
    (tmp_path / "kvm_pvm").mkdir()
    assert accel.local_kvm_is_pvm(str(tmp_path / "kvm_pvm"))
