"""Round-trips over the whole corpus: unchanged, read-only, and one property at a time."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.core.xml import (
    INT,
    NIDO_XMLNS,
    Devices,
    Domain,
    XMLChild,
    XMLChildList,
    XMLFlag,
    XMLObject,
    XMLProperty,
    XMLSize,
    XMLState,
    bool_on_off,
    bool_yes_no,
)
from app.core.xml.order import CHILD_ORDER

from .helpers import (
    CORPUS,
    canonical,
    changed_keys,
    element_path,
    facts,
    modify,
    without_decl,
)

_PREFIXED = re.compile(r"[<\s/]([A-Za-z_][\w.-]*:[A-Za-z_][\w.-]*)")


def test_corpus_is_large_and_varied() -> None:
    names = [p.name for p in CORPUS]
    assert len(names) >= 40
    for prefix in ("doc-", "lv-", "lv-running", "test-", "virtinst-"):
        assert any(n.startswith(prefix) for n in names), prefix


def test_unchanged_roundtrip_is_byte_for_byte(corpus_text: str) -> None:
    assert Domain.from_xml(corpus_text).to_xml() == without_decl(corpus_text)


def test_unchanged_roundtrip_is_canonically_equal(corpus_text: str) -> None:
    assert canonical(Domain.from_xml(corpus_text).to_xml()) == canonical(corpus_text)


def walk(obj: XMLObject, top: bool = True) -> Iterator[XMLObject]:
    """obj and every object below it: sections (even absent ones, at the top), devices,
    list items and present child objects."""
    yield obj
    for name, desc in type(obj).properties().items():
        if isinstance(desc, XMLChild):
            child = getattr(obj, name)
            if top or child.exists:
                yield from walk(child, top=False)
        elif isinstance(desc, XMLChildList) and not isinstance(obj, Devices):
            for item in getattr(obj, name):
                yield from walk(item, top=False)
    if isinstance(obj, Devices):
        for device in obj.all():
            yield from walk(device, top=False)


VALUE_DESCRIPTORS = (XMLProperty, XMLSize, XMLFlag, XMLState)


def value_properties(obj: XMLObject) -> Iterator[tuple[str, Any]]:
    for name, desc in type(obj).properties().items():
        if isinstance(desc, VALUE_DESCRIPTORS):
            yield name, desc


def test_reading_every_property_changes_nothing(corpus_text: str) -> None:
    dom = Domain.from_xml(corpus_text)
    before = dom.to_xml()
    seen = 0
    for obj in walk(dom):
        for name, _ in value_properties(obj):
            getattr(obj, name)
            seen += 1
        repr(obj)
    assert seen > 50
    assert dom.to_xml() == before


def new_value(desc: Any, old: Any) -> Any:
    if isinstance(desc, XMLFlag):
        return not old
    if isinstance(desc, XMLState):
        return True if old is None else not old
    if isinstance(desc, XMLSize):
        return (old or 0) + 1024
    if desc.kind is INT:
        return (old or 0) + 1
    if desc.kind in (bool_yes_no, bool_on_off):
        return True if old is None else not old
    return "nido-changed" if old != "nido-changed" else "nido-other"


def allowed(path: str, desc: Any, existed: bool) -> tuple[str, ...]:
    """Key prefixes a change of `desc` on the element at `path` may touch."""
    if not existed:
        return (path,)
    xpath = desc.xpath
    if not xpath.steps:
        return (f"{path}/@{xpath.attr}",) if xpath.attr else (f"{path}/#text",)
    return (f"{path}/{xpath.steps[0].tag}[",)


def check_property(dom: Domain, obj: XMLObject, name: str, desc: Any) -> None:
    where = f"{type(obj).__name__}.{name}"
    original = dom.to_xml()
    old = getattr(obj, name)
    existed = obj.exists
    base_facts = facts(dom.node)
    value = new_value(desc, old)
    setattr(obj, name, value)
    assert getattr(obj, name) == value, where
    region = allowed(element_path(obj.node), desc, existed)
    changed = changed_keys(base_facts, facts(dom.node))
    assert changed, f"{where}: setting {value!r} changed nothing"
    stray = {k for k in changed if not k.startswith(region)}
    assert not stray, f"{where} = {value!r} also changed {sorted(stray)}"
    setattr(obj, name, old)
    assert getattr(obj, name) == old, where
    if isinstance(desc, XMLProperty):
        assert dom.to_xml() == original, f"{where}: restoring {old!r} left a difference"
    elif isinstance(desc, XMLFlag):
        # Clearing a flag drops the element with whatever it held (<hugepages><page/>);
        # setting it again brings back the bare element and nothing else changes.
        diff = changed_keys(base_facts, facts(dom.node))
        assert all(k.startswith(region) and k.count("/") > region[0].count("/") for k in diff), (
            f"{where}: restoring {old!r} left {sorted(diff)}"
        )
    else:
        stray = {k for k in changed_keys(base_facts, facts(dom.node)) if not k.startswith(region)}
        assert not stray, f"{where}: restoring {old!r} left {sorted(stray)}"


def test_each_property_change_is_local_and_reversible(corpus_text: str) -> None:
    dom = Domain.from_xml(corpus_text)
    tried: set[tuple[str, str, bool]] = set()
    for obj in list(walk(dom)):
        for name, desc in value_properties(obj):
            key = (type(obj).__name__, name, getattr(obj, name) is None)
            if key in tried:
                continue
            tried.add(key)
            check_property(dom, obj, name, desc)
    assert len(tried) > 40


def comments(text: str) -> list[str]:
    builder = ET.TreeBuilder(insert_comments=True)
    parser = ET.XMLParser(target=builder)
    parser.feed(without_decl(text))
    root = parser.close()
    return [str(e.text) for e in root.iter() if e.tag is ET.Comment]


def test_edited_document_keeps_prefixes_comments_and_everything_else(
    corpus_file: Path, corpus_text: str
) -> None:
    dom = Domain.from_xml(corpus_text)
    before = facts(dom.node)
    memory = modify(dom, "edited")
    out = dom.to_xml()
    assert set(_PREFIXED.findall(out)) >= set(_PREFIXED.findall(without_decl(corpus_text)))
    assert comments(out) == comments(corpus_text)
    reparsed = Domain.from_xml(out)
    assert reparsed.name == "edited"
    assert reparsed.memory == memory
    assert reparsed.metadata(NIDO_XMLNS, "vm", "x").get("os") == "debian12"
    assert reparsed.devices.disks[-1].target_dev == "sdz"
    expected = tuple(
        f"/domain[1]/{tag}["
        for tag in ("name", "title", "uuid", "memory", "currentMemory", "metadata", "devices")
    )
    after = facts(reparsed.node)
    stray = {k for k in changed_keys(before, after) if not k.startswith(expected)}
    assert not stray, corpus_file.name
    kept = {k: v for k, v in before.items() if k.startswith("/domain[1]/devices[1]/")}
    assert {k: after.get(k) for k in kept} == kept, corpus_file.name


@pytest.mark.parametrize("path", [p for p in CORPUS if p.name.startswith("lv-")], ids=str)
def test_libvirt_output_lists_children_in_the_model_order(path: Path) -> None:
    """order.py agrees with libvirt's formatter, so new elements land where libvirt puts them."""
    dom = Domain.from_xml(path.read_text())
    for elem in dom.node.iter():
        order = CHILD_ORDER.get(elem.tag)
        if not order:
            continue
        ranks = [order.index(c.tag) for c in elem.elements() if c.tag in order]
        assert ranks == sorted(ranks), f"{path.name}: children of <{elem.tag}> out of order"
