"""The descriptors: missing paths, creation and placement, removal, units, booleans, lists."""

from __future__ import annotations

import pytest

from app.core.xml import (
    Controller,
    Disk,
    Domain,
    Features,
    Interface,
    PortForward,
    PortForwardRange,
    Shmem,
    Timer,
    XMLObject,
    XMLProperty,
    bool_on_off,
    bool_yes_no,
    scale_to_kib,
    unit_factor,
)

BASE = """<domain type='kvm'>
  <name>base</name>
  <memory unit='KiB'>1048576</memory>
  <vcpu placement='static'>1</vcpu>
  <devices>
    <disk type='file' device='disk'>
      <source file='/a.qcow2'/>
      <target dev='vda' bus='virtio'/>
      <boot order='1'/>
    </disk>
    <controller type='usb' index='0' model='qemu-xhci'/>
    <video>
      <model type='virtio'/>
    </video>
  </devices>
</domain>
"""


@pytest.fixture
def dom() -> Domain:
    return Domain.from_xml(BASE)


def test_missing_paths_read_as_none_without_touching_the_tree(dom: Domain) -> None:
    assert dom.title is None
    assert dom.os.loader_secure is None
    assert dom.os.kernel is None
    assert dom.cpu.topology_cores is None
    assert dom.features.smm is None
    assert dom.features.acpi is False
    assert dom.devices.disks[0].driver_type is None
    assert dom.os.boot_devices == []
    assert not dom.os.exists
    assert dom.to_xml() == BASE


def test_setting_creates_the_path_where_libvirt_would_print_it(dom: Domain) -> None:
    dom.os.loader_secure = True
    dom.title = "T"
    dom.features.acpi = True
    assert dom.to_xml() == BASE.replace(
        "  <name>base</name>\n",
        "  <name>base</name>\n  <title>T</title>\n",
    ).replace(
        "  <devices>\n",
        "  <os>\n    <loader secure='yes'/>\n  </os>\n"
        "  <features>\n    <acpi/>\n  </features>\n  <devices>\n",
    )


def test_setting_none_removes_the_value_and_the_parents_made_for_it(dom: Domain) -> None:
    dom.os.loader_secure = True
    dom.os.loader_readonly = True
    dom.os.loader_secure = None
    assert dom.os.loader_readonly is True  # the loader still holds a value
    dom.os.loader_readonly = None
    assert dom.to_xml() == BASE


def test_setting_none_keeps_parsed_elements_that_may_mean_something() -> None:
    dom = Domain.from_xml(
        "<domain><os><loader secure='yes'>/fw</loader></os>"
        "<features><apic eoi='on'/></features></domain>"
    )
    dom.os.loader_secure = None
    dom.features.apic_eoi = None
    assert dom.to_xml() == (
        "<domain><os><loader>/fw</loader></os><features><apic/></features></domain>"
    )
    assert dom.features.apic is True


def test_pruning_property_drops_its_emptied_element(dom: Domain) -> None:
    disk = dom.devices.disks[0]
    disk.boot_order = None  # <boot/> without order would be invalid
    assert "<boot" not in dom.to_xml()
    disk.boot_order = 3
    assert "      <boot order='3'/>\n    </disk>" in dom.to_xml()


def test_text_set_to_none_removes_the_element(dom: Domain) -> None:
    dom.name = None
    assert "<name>" not in dom.to_xml()
    assert dom.name is None


def test_set_only_changes_its_own_attribute(dom: Domain) -> None:
    ctrl = dom.devices.controllers[0]
    ctrl.model = "nec-xhci"
    assert "<controller type='usb' index='0' model='nec-xhci'/>" in dom.to_xml()
    ctrl.index = 1
    assert "<controller type='usb' index='1' model='nec-xhci'/>" in dom.to_xml()


@pytest.mark.parametrize(
    ("unit", "value", "kib"),
    [
        (None, "2048", 2048),
        ("KiB", "2048", 2048),
        ("k", "2048", 2048),
        ("K", "2048", 2048),
        ("b", "1048576", 1024),
        ("bytes", "1025", 2),
        ("KB", "1024", 1000),
        ("MiB", "512", 524288),
        ("M", "512", 524288),
        ("mib", "1", 1024),
        ("MB", "1", 977),
        ("GiB", "2", 2097152),
        ("G", "1", 1048576),
        ("GB", "1", 976563),
        ("TiB", "1", 1073741824),
    ],
)
def test_memory_units_are_read_as_kib(unit: str | None, value: str, kib: int) -> None:
    attr = "" if unit is None else f" unit='{unit}'"
    dom = Domain.from_xml(f"<domain><memory{attr}>{value}</memory></domain>")
    assert dom.memory == kib


def test_writing_a_size_stores_kib() -> None:
    dom = Domain.from_xml(
        "<domain><memory unit='GiB'>2</memory><currentMemory>5</currentMemory></domain>"
    )
    dom.memory = 3 * 1024 * 1024
    dom.current_memory = 4096  # parsed without a unit: KiB is the default, keep it so
    dom.max_memory = 8 * 1024 * 1024
    assert dom.to_xml() == (
        "<domain><maxMemory unit='KiB'>8388608</maxMemory><memory unit='KiB'>3145728</memory>"
        "<currentMemory>4096</currentMemory></domain>"
    )


def test_sizes_with_a_bytes_default_get_an_explicit_unit() -> None:
    shmem = Shmem.from_xml("<shmem name='s'><size>4194304</size></shmem>")
    assert shmem.size == 4096
    shmem.size = 8192
    assert shmem.to_xml() == "<shmem name='s'><size unit='KiB'>8192</size></shmem>"


@pytest.mark.parametrize("bad", ["parsecs", "KiBs", "", "Mi", "xB"])
def test_unknown_units_are_an_error(bad: str) -> None:
    with pytest.raises(ValueError, match="unit"):
        unit_factor(bad)
    dom = Domain.from_xml(f"<domain><memory unit='{bad}'>1</memory></domain>")
    if bad:
        with pytest.raises(ValueError, match=r"Domain\.memory"):
            _ = dom.memory


def test_size_values_are_checked(dom: Domain) -> None:
    with pytest.raises(TypeError):
        dom.memory = 1.5  # type: ignore[assignment]
    with pytest.raises(TypeError):
        dom.memory = True  # type: ignore[assignment]
    with pytest.raises(ValueError):
        dom.memory = -1
    with pytest.raises(ValueError):
        scale_to_kib(-1, "KiB")
    assert dom.to_xml() == BASE


@pytest.mark.parametrize(
    ("kind", "true", "false"), [(bool_yes_no, "yes", "no"), (bool_on_off, "on", "off")]
)
def test_boolean_kinds(kind: object, true: str, false: str) -> None:
    assert kind.parse(true) is True  # type: ignore[attr-defined]
    assert kind.parse(false) is False  # type: ignore[attr-defined]
    assert kind.format(True) == true  # type: ignore[attr-defined]
    assert kind.format(False) == false  # type: ignore[attr-defined]
    with pytest.raises(ValueError):
        kind.parse("true")  # type: ignore[attr-defined]
    with pytest.raises(TypeError):
        kind.format(1)  # type: ignore[attr-defined]


def test_boolean_properties_read_and_write_their_spelling() -> None:
    dom = Domain.from_xml(
        "<domain><os><loader readonly='yes'/></os><cpu migratable='off'/>"
        "<clock><timer name='hpet' present='no'/></clock></domain>"
    )
    assert dom.os.loader_readonly is True
    assert dom.cpu.migratable is False
    assert dom.clock.timers[0].present is False
    dom.cpu.migratable = True
    dom.os.loader_readonly = False
    assert "<cpu migratable='on'/>" in dom.to_xml()
    assert "<loader readonly='no'/>" in dom.to_xml()


def test_a_garbled_value_names_the_property() -> None:
    dom = Domain.from_xml("<domain><vcpu>two</vcpu><os><loader secure='maybe'/></os></domain>")
    with pytest.raises(ValueError, match=r"Domain\.vcpu"):
        _ = dom.vcpu
    with pytest.raises(ValueError, match=r"DomainOS\.loader_secure"):
        _ = dom.os.loader_secure


def test_int_kind_reads_hex_and_refuses_other_types(dom: Domain) -> None:
    ctrl = Controller.from_xml("<controller type='pci' index='0x1'/>")
    assert ctrl.index == 1
    with pytest.raises(TypeError):
        dom.vcpu = "2"  # type: ignore[assignment]
    with pytest.raises(TypeError):
        dom.vcpu = True  # type: ignore[assignment]


def test_flags_and_states() -> None:
    dom = Domain.from_xml(
        "<domain><features><acpi/><smm/><vmport state='off'/><pmu state='on'/></features></domain>"
    )
    f = dom.features
    assert (f.acpi, f.apic) == (True, False)
    assert (f.smm, f.vmport, f.pmu, f.hap) == (True, False, True, None)
    f.acpi = False
    f.apic = True
    f.smm = False
    f.vmport = None
    f.hap = True
    assert dom.to_xml() == (
        "<domain><features><apic/><hap state='on'/><smm state='off'/><pmu state='on'/>"
        "</features></domain>"
    )


def test_state_element_made_for_a_feature_is_kept_when_its_attribute_goes() -> None:
    dom = Domain.from_xml("<domain/>")
    dom.features.apic = True  # deliberately added: means "APIC on"
    dom.features.apic_eoi = True
    dom.features.apic_eoi = None
    assert dom.features.apic is True
    dom.features.apic = False
    assert dom.to_xml() == "<domain/>"


def test_child_lists_append_next_to_their_kind_and_remove(dom: Domain) -> None:
    disks = dom.devices.disks
    assert len(disks) == 1
    new = disks.append(Disk(type="file", device="cdrom", target_dev="sda", readonly=True))
    assert [d.target_dev for d in dom.devices.disks] == ["vda", "sda"]
    kinds = [d.kind for d in dom.devices.all()]
    assert kinds == ["disk", "disk", "controller", "video"]
    assert new in dom.devices.disks
    assert dom.devices.disks[1] == new
    assert dom.devices.disks[-1:] == [new]
    dom.devices.disks.remove(new)
    assert dom.to_xml() == BASE
    with pytest.raises(ValueError, match="not in this list"):
        dom.devices.disks.remove(new)


def test_child_lists_refuse_strangers_and_attached_items(dom: Domain) -> None:
    with pytest.raises(TypeError):
        dom.devices.disks.append(Controller(type="usb"))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="detached"):
        dom.devices.disks.append(dom.devices.disks[0])
    with pytest.raises(ValueError, match="wraps <disk>"):
        Disk.from_xml("<controller/>")


def test_nested_lists_port_forward_ranges() -> None:
    dom = Domain.new("pf")
    assert len(dom.devices.interfaces) == 0
    nic = dom.add_device(Interface(type="user", backend_type="passt"))
    assert isinstance(nic, Interface)
    fwd = nic.port_forwards.append(PortForward(proto="tcp"))
    fwd.ranges.append(PortForwardRange(start=2222, to=22))
    fwd.ranges.append(PortForwardRange(start=8080, end=8090, exclude=False))
    back = Domain.from_xml(dom.to_xml()).devices.interfaces[0]
    ranges = back.port_forwards[0].ranges
    assert [(r.start, r.end, r.to, r.exclude) for r in ranges] == [
        (2222, None, 22, None),
        (8080, 8090, None, False),
    ]
    back.port_forwards[0].ranges.clear()
    assert len(back.port_forwards[0].ranges) == 0


def test_clearing_the_last_item_drops_a_container_the_model_made() -> None:
    dom = Domain.from_xml("<domain/>")
    dom.clock.timers.append(Timer(name="rtc", tickpolicy="catchup"))
    assert dom.clock.timer("rtc") is not None
    dom.clock.timers.clear()
    assert dom.to_xml() == "<domain/>"


def test_typos_and_section_replacement_are_refused(dom: Domain) -> None:
    with pytest.raises(AttributeError, match="sorce_file"):
        dom.devices.disks[0].sorce_file = "/x"  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        dom.os = None  # type: ignore[assignment]
    with pytest.raises(AttributeError):
        dom.devices.disks = []  # type: ignore[assignment]
    with pytest.raises(AttributeError):
        Disk(sorce_file="/x")


@pytest.mark.parametrize(
    "name", ["a <b> & c", 'it\'s "quoted"', "ünïcødé 名前 🐦", "  spaces  ", "tab\there\nnewline"]
)
def test_escaping_of_text_and_attributes(name: str) -> None:
    dom = Domain.new("x")
    dom.name = name
    dom.add_device(Disk(source_file=name, target_dev="vda"))
    back = Domain.from_xml(dom.to_xml())
    assert back.name == name
    assert back.devices.disks[0].source_file == name


def test_refused_values_leave_no_trace(dom: Domain) -> None:
    with pytest.raises(ValueError):
        dom.os.loader = "bad\x00path"
    with pytest.raises(ValueError):
        dom.metadata("urn:x", "y", "x").set("a", "\x07")
    assert dom.to_xml() == BASE


def test_descriptor_introspection() -> None:
    props = Features.properties()
    assert {"acpi", "smm", "hyperv_relaxed"} <= props.keys()
    loader = Domain.os.cls.properties()["loader_secure"]  # type: ignore[attr-defined]
    assert isinstance(loader, XMLProperty)
    assert loader.xpath.source == "./loader/@secure"
    assert issubclass(Disk, XMLObject)


def test_bad_paths_are_refused_when_a_class_is_defined() -> None:
    for bad in ("./a//b", "./a[@x=1]", "./@", "../up"):
        with pytest.raises(ValueError):
            XMLProperty(bad)
