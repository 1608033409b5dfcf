"""Property-based tests: arbitrary values, arbitrary documents, arbitrary edit sequences."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.xml import Disk, Domain, XMLObject, XMLProperty
from app.core.xml.parse import parse_document

from .helpers import CORPUS_DIR, read_corpus

XML_CHAR = st.characters(exclude_categories=("Cs",)).filter(
    lambda c: c in "\t\n\r" or (c >= "\x20" and c not in "\ufffe\uffff")
)
XML_TEXT = st.text(XML_CHAR, max_size=40)
FAST = settings(max_examples=60, deadline=None)


@FAST
@given(name=XML_TEXT, title=XML_TEXT, description=XML_TEXT)
def test_any_text_survives_set_serialize_parse(name: str, title: str, description: str) -> None:
    dom = Domain.new("x")
    dom.name, dom.title, dom.description = name, title, description
    out = dom.to_xml()
    back = Domain.from_xml(out)
    # Empty element text means "no value".
    assert (back.name, back.title, back.description) == (name or None, title or None,
                                                          description or None)  # fmt: skip
    other = ET.fromstring(out)  # an independent parser reads the same
    assert [other.findtext(t) or "" for t in ("name", "title", "description")] == [
        name,
        title,
        description,
    ]


@FAST
@given(value=XML_TEXT)
def test_any_attribute_value_survives(value: str) -> None:
    dom = Domain.new("x")
    dom.add_device(Disk(source_file=value, target_dev="vda"))
    out = dom.to_xml()
    assert Domain.from_xml(out).devices.disks[0].source_file == value
    source = ET.fromstring(out).find("devices/disk/source")
    assert source is not None and source.get("file") == value


@settings(max_examples=40, deadline=None)
@given(kib=st.integers(min_value=0, max_value=2**50))
def test_any_size_survives(kib: int) -> None:
    dom = Domain.from_xml("<domain><memory unit='GiB'>1</memory></domain>")
    dom.memory = kib
    assert Domain.from_xml(dom.to_xml()).memory == kib


# -- arbitrary documents come back byte for byte ------------------------------------------

NAMES = st.sampled_from(["a", "b", "qemu:arg", "nido:vm", "x-y", "z.1"])
QUOTE = st.sampled_from(["'", '"'])
SPACE = st.sampled_from(["", " ", "  ", "\n", "\t"])
ATTR_TEXT = st.text(st.sampled_from("ab <>&'\"\n\t😀é"), max_size=6)
CHUNK_TEXT = st.text(st.sampled_from("ab \n\t>é😀"), max_size=6)


def _escape(text: str, quote: str = "") -> str:
    out = text.replace("&", "&amp;").replace("<", "&lt;")
    return out.replace(quote, "&#39;" if quote == "'" else "&quot;") if quote else out


@st.composite
def attribute(draw: Callable[..., Any]) -> str:
    quote = draw(QUOTE)
    name = draw(st.sampled_from(["v", "x", "xmlns:qemu", "nido:k"]))
    value = draw(ATTR_TEXT)
    return f" {name}{draw(SPACE)}={draw(SPACE)}{quote}{_escape(value, quote)}{quote}"


@st.composite
def element(draw: Callable[..., Any], depth: int = 0) -> str:
    tag = draw(NAMES)
    attrs = draw(st.lists(attribute(), max_size=3, unique_by=lambda a: a.split("=")[0].strip()))
    head = f"<{tag}{''.join(attrs)}{draw(SPACE)}"
    if depth > 2 or draw(st.booleans()):
        return head + "/>"
    parts = draw(
        st.lists(
            st.one_of(
                CHUNK_TEXT.map(_escape),
                st.just("<!-- note -->"),
                st.just("<![CDATA[<raw> & ]]>"),
                st.just("&#x263A;&#10;"),
                element(depth=depth + 1),
            ),
            max_size=4,
        )
    )
    return f"{head}>{''.join(parts)}</{tag}>"


@settings(max_examples=150, deadline=None)
@given(doc=element(), tail=st.sampled_from(["", "\n", "\n<!-- end -->\n"]))
def test_any_document_comes_back_byte_for_byte(doc: str, tail: str) -> None:
    text = doc + tail
    assert parse_document(text).to_xml() == text


# -- arbitrary edit sequences, undone, leave no trace -----------------------------------

BASE = read_corpus(CORPUS_DIR / "doc-q35-desktop.xml")

Getter = Callable[[Domain], XMLObject]
OPS: list[tuple[Getter, str, st.SearchStrategy[Any]]] = [
    (lambda d: d, "title", XML_TEXT),
    (lambda d: d, "description", XML_TEXT),
    (lambda d: d.os, "loader", st.sampled_from(["/fw/OVMF_CODE.fd", "/x y/ä.fd"])),
    (lambda d: d.os, "loader_secure", st.booleans()),
    (lambda d: d.os, "loader_readonly", st.booleans()),
    (lambda d: d.os, "nvram_template", st.sampled_from(["/fw/VARS.fd"])),
    (lambda d: d.os, "kernel", st.sampled_from(["/boot/vmlinuz"])),
    (lambda d: d.cpu, "topology_cores", st.integers(1, 64)),
    (lambda d: d.cpu, "topology_sockets", st.integers(1, 4)),
    (lambda d: d.features, "smm", st.booleans()),
    (lambda d: d.features, "hyperv_relaxed", st.booleans()),
    (lambda d: d.features, "hyperv_spinlock_retries", st.integers(4096, 8191)),
    (lambda d: d.devices.disks[0], "driver_cache", st.sampled_from(["none", "writeback"])),
    (lambda d: d.devices.disks[0], "boot_order", st.integers(1, 9)),
    (lambda d: d.devices.interfaces[0], "link_state", st.sampled_from(["up", "down"])),
    (lambda d: d.devices.graphics[0], "passwd", XML_TEXT),
    (lambda d: d.devices.graphics[0], "gl_enable", st.booleans()),
    (lambda d: d.pm, "suspend_to_mem", st.booleans()),
    (lambda d: d.memory_backing, "source_type", st.sampled_from(["memfd", "file"])),
    (lambda d: d.memory_backing, "access_mode", st.sampled_from(["shared", "private"])),
]


def expected(dom: Domain, index: int, value: Any) -> Any:
    """What reading gives after writing value: empty element text reads as None."""
    getter, name, _ = OPS[index]
    desc = type(getter(dom)).properties()[name]
    is_text = isinstance(desc, XMLProperty) and desc.xpath.attr is None
    return None if is_text and value == "" else value


@st.composite
def edits(draw: Callable[..., Any]) -> list[tuple[int, Any]]:
    steps = []
    for _ in range(draw(st.integers(1, 12))):
        index = draw(st.integers(0, len(OPS) - 1))
        value = draw(st.one_of(st.none(), OPS[index][2]))
        steps.append((index, value))
    return steps


@settings(max_examples=120, deadline=None)
@given(steps=edits(), order=st.randoms(use_true_random=False))
def test_edits_undone_in_any_order_restore_the_exact_bytes(
    steps: list[tuple[int, Any]], order: Any
) -> None:
    dom = Domain.from_xml(BASE)
    originals = {i: getattr(OPS[i][0](dom), OPS[i][1]) for i in range(len(OPS))}
    for index, value in steps:
        getter, name, _ = OPS[index]
        setattr(getter(dom), name, value)
        assert getattr(getter(dom), name) == expected(dom, index, value)
    reparsed = Domain.from_xml(dom.to_xml())
    for index, value in dict(steps).items():
        assert getattr(OPS[index][0](reparsed), OPS[index][1]) == expected(dom, index, value)
    touched = list(dict(steps))
    order.shuffle(touched)
    for index in touched:
        setattr(OPS[index][0](dom), OPS[index][1], originals[index])
    assert dom.to_xml() == BASE
