"""The defaults rules on plain OSFacts, without libosinfo: the documented rules for what
osinfo-db does not say, and invariants over arbitrary facts."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from app.core.osdb import (
    GIB,
    MIB,
    Firmware,
    OSDefaults,
    OSFacts,
    OSInfo,
    Resources,
    ResourceSet,
    Source,
    derive_defaults,
)
from app.core.osdb.rules import WIN11_ID, is_legacy


def _os(**kw: object) -> OSInfo:
    base: dict[str, object] = {"id": "http://example.org/os/1", "short_id": "os1", "name": "OS 1"}
    base.update(kw)
    return OSInfo(**base)  # type: ignore[arg-type]


def test_nothing_known_gives_family_guesses() -> None:
    d = derive_defaults(None)
    assert (d.machine.value, d.disk_bus.value, d.nic_model.value) == ("q35", "sata", "e1000e")
    assert d.firmware.value is Firmware.BIOS
    assert all(v.source is Source.GUESSED for v in d.values().values())
    linux = derive_defaults(None, family="linux")
    assert (linux.min_ram.value, linux.ram.value, linux.disk.value) == (GIB, 2 * GIB, 20 * GIB)
    assert "Linux" in linux.ram.why


def test_windows_family_guess() -> None:
    d = derive_defaults(OSFacts(os=_os(family="winnt", version="12.0")))
    assert (d.min_ram.value, d.ram.value, d.disk.value) == (2 * GIB, 4 * GIB, 64 * GIB)
    assert d.ram.guessed and d.ram.source is Source.GUESSED


def test_recommended_comes_from_minimum_then_ancestors() -> None:
    own = ResourceSet("OS 2", minimum={"all": Resources(ram=GIB, n_cpus=2)})
    parent = ResourceSet("OS 1", recommended={"x86_64": Resources(storage=30 * GIB)}, minimum={})
    d = derive_defaults(OSFacts(os=_os(name="OS 2"), resources=(own, parent)))
    assert (d.min_ram.value, d.min_ram.source) == (GIB, Source.OSINFO)
    assert (d.ram.value, d.ram.source) == (2 * GIB, Source.DERIVED)
    assert "twice its minimum" in d.ram.why
    assert (d.vcpus.value, d.min_vcpus.value) == (2, 2)
    assert (d.disk.value, d.disk.source) == (30 * GIB, Source.DERIVED)
    assert "OS 1" in d.disk.why
    assert d.min_disk.source is Source.GUESSED


def test_recommendation_below_the_minimum_is_raised() -> None:
    rs = ResourceSet(
        "OS 1",
        minimum={"all": Resources(ram=2 * GIB)},
        recommended={"all": Resources(ram=GIB)},
    )
    d = derive_defaults(OSFacts(os=_os(), resources=(rs,)))
    assert d.ram.value == 2 * GIB and "raised to the minimum" in d.ram.why


def test_arch_specific_resources_win_over_all() -> None:
    rs = ResourceSet(
        "OS 1",
        recommended={"all": Resources(ram=GIB), "i686": Resources(ram=512 * MIB)},
    )
    facts = OSFacts(os=_os(), resources=(rs,))
    assert derive_defaults(facts, arch="i686").ram.value == 512 * MIB
    assert derive_defaults(facts, arch="x86_64").ram.value == GIB


def test_anything_derived_from_windows_11_needs_secure_boot_and_tpm() -> None:
    facts = OSFacts(
        os=_os(family="winnt", version="11.1", name="Microsoft Windows 11 Next"),
        devices=frozenset({"e1000e"}),
        ancestors=frozenset({WIN11_ID}),
    )
    d = derive_defaults(facts)
    assert d.firmware.value is Firmware.UEFI and d.firmware.source is Source.RULE
    assert d.secure_boot.value and d.tpm.value
    assert d.machine.value == "q35"  # Secure Boot needs SMM, which needs Q35


def test_efi_only_os_gets_uefi_without_secure_boot() -> None:
    facts = OSFacts(
        os=_os(family="linux"),
        firmware=(("x86_64", "efi", True), ("x86_64", "bios", False)),
    )
    d = derive_defaults(facts)
    assert (d.firmware.value, d.firmware.source) == (Firmware.UEFI, Source.OSINFO)
    assert not d.secure_boot.value and not d.tpm.value
    assert d.bios_supported is False


def test_legacy_rules() -> None:
    assert is_legacy(_os(family="winnt", version="5.1"))
    assert not is_legacy(_os(family="winnt", version="6.0"))
    assert is_legacy(_os(family="win9x", version="4.10"))
    assert is_legacy(_os(family="linux", release_date=dt.date(2005, 6, 6)))
    assert not is_legacy(_os(family="linux", release_date=dt.date(2011, 2, 6)))
    d = derive_defaults(OSFacts(os=_os(family="winnt", version="5.2")))
    assert (d.machine.value, d.disk_bus.value, d.nic_model.value) == ("pc", "ide", "e1000")
    assert (d.firmware.value, d.firmware.source) == (Firmware.BIOS, Source.RULE)
    assert d.uefi_supported is False
    dos = derive_defaults(OSFacts(os=_os(family="msdos", version="6.22")))
    assert (dos.vcpus.value, dos.ram.value) == (1, 64 * MIB)


def test_e1000e_needs_pci_express() -> None:
    facts = OSFacts(os=_os(family="linux"), devices=frozenset({"e1000e", "rtl8139"}))
    d = derive_defaults(facts)
    # osinfo-db lists no Q35 chipset: i440FX, where the PCI rtl8139 is the right card.
    assert (d.machine.value, d.nic_model.value, d.disk_bus.value) == ("pc", "rtl8139", "ide")


DEVICE_NAMES = [
    "virtio-block",
    "virtio1.0-block",
    "virtio-net",
    "virtio1.0-net",
    "qemu-x86-q35",
    "e1000e",
    "e1000",
    "rtl8139",
    "ne2k_pci",
    "qxl",
]
_sizes = st.one_of(st.none(), st.integers(min_value=-1, max_value=2**42))
_resources = st.builds(
    Resources, ram=_sizes, n_cpus=st.one_of(st.none(), st.integers(-1, 64)), storage=_sizes
)
_table = st.dictionaries(st.sampled_from(["all", "x86_64", "i686"]), _resources, max_size=2)
_facts = st.builds(
    OSFacts,
    os=st.builds(
        _os,
        family=st.sampled_from(["", "linux", "winnt", "win9x", "msdos", "freebsd", "haiku"]),
        version=st.sampled_from(["", "5.1", "6.1", "10.0", "11", "x"]),
        release_date=st.one_of(st.none(), st.dates(dt.date(1990, 1, 1), dt.date(2030, 1, 1))),
    ),
    resources=st.lists(
        st.builds(ResourceSet, os_name=st.just("OS"), minimum=_table, recommended=_table),
        max_size=3,
    ).map(tuple),
    devices=st.frozensets(st.sampled_from(DEVICE_NAMES)),
    firmware=st.lists(
        st.tuples(
            st.sampled_from(["x86_64", "i686"]), st.sampled_from(["efi", "bios"]), st.booleans()
        ),
        max_size=3,
    ).map(tuple),
    ancestors=st.frozensets(st.sampled_from([WIN11_ID, "http://example.org/os/0"])),
)


def _check_invariants(d: OSDefaults) -> None:
    for low, high in ((d.min_ram, d.ram), (d.min_vcpus, d.vcpus), (d.min_disk, d.disk)):
        assert 0 < low.value <= high.value
    assert d.machine.value in ("q35", "pc")
    if d.disk_bus.value == "ide":
        assert d.machine.value == "pc"
    if d.disk_bus.value == "sata" or d.nic_model.value == "e1000e":
        assert d.machine.value == "q35"
    if d.secure_boot.value or d.tpm.value:
        assert d.uefi and d.machine.value == "q35"
    assert d.guessed == any(
        v.source in (Source.DERIVED, Source.GUESSED) for v in d.values().values()
    )
    assert all(v.why for v in d.values().values())


@given(_facts, st.sampled_from(["x86_64", "i686"]))
def test_invariants_over_arbitrary_facts(facts: OSFacts, arch: str) -> None:
    d = derive_defaults(facts, arch=arch)
    _check_invariants(d)
    assert d.os == facts.os
    if facts.devices & {"virtio-block", "virtio1.0-block"}:
        assert d.virtio_disk and d.disk_bus.source is Source.OSINFO


@given(st.sampled_from([None, "linux", "winnt", "freebsd", "msdos", "beos"]))
def test_invariants_with_nothing_known(family: str | None) -> None:
    d = derive_defaults(None, family=family)
    _check_invariants(d)
    assert not any(v.source is Source.OSINFO for v in d.values().values())


def test_guessed_minimum_gives_way_to_a_lower_recommendation() -> None:
    rs = ResourceSet("OS 1", recommended={"all": Resources(ram=256 * MIB)})
    d = derive_defaults(OSFacts(os=_os(family="linux"), resources=(rs,)))
    assert (d.ram.value, d.ram.source) == (256 * MIB, Source.OSINFO)
    assert (d.min_ram.value, d.min_ram.source) == (256 * MIB, Source.DERIVED)
