"""Shared helpers for the domain-XML tests: the corpus, and a structural diff of trees."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from app.core.xml import NIDO_XMLNS, Disk, Domain
from app.core.xml.tree import Comment, Element, ProcessingInstruction, Text

CORPUS_DIR = Path(__file__).with_name("corpus")
CORPUS = sorted(CORPUS_DIR.glob("*.xml"))
LIBVIRT_MADE = [p for p in CORPUS if not p.name.startswith("doc-")]

_DECL = re.compile(r"^\s*<\?xml[^>]*\?>\s*")


def read_corpus(path: Path) -> str:
    """A corpus file as text, exactly as stored (CRLF files stay CRLF)."""
    return path.read_bytes().decode("utf-8")


def without_decl(text: str) -> str:
    return _DECL.sub("", text, count=1)


def canonical(text: str) -> str:
    """C14N 2.0 with comments: equal exactly when two documents mean the same."""
    return ET.canonicalize(xml_data=without_decl(text), with_comments=True)


def element_path(elem: Element) -> str:
    """/domain[1]/devices[1]/disk[2]: tags with 1-based index among same-tag siblings."""
    parts: list[str] = []
    node: Element | None = elem
    while node is not None:
        parent = node.parent
        if parent is None:
            parts.append(f"{node.tag}[1]")
        else:
            same = list(parent.elements(node.tag))
            index = next(i for i, e in enumerate(same) if e is node)
            parts.append(f"{node.tag}[{index + 1}]")
        node = parent
    return "/" + "/".join(reversed(parts))


def facts(root: Element) -> dict[str, str]:
    """Everything a tree says, keyed by path: element existence, attributes, text, comments.

    Layout whitespace is left out, so two trees have equal facts exactly when they mean the
    same (up to the order of differently named siblings).
    """
    out: dict[str, str] = {}
    _collect(root, f"/{root.tag}[1]", out)
    return out


def _collect(elem: Element, path: str, out: dict[str, str]) -> None:
    out[path] = ""
    for name, value in elem.attrs.items():
        out[f"{path}/@{name}"] = value
    text: list[str] = []
    counts: dict[str, int] = {}
    notes = 0
    for child in elem.children:
        if isinstance(child, Element):
            counts[child.tag] = counts.get(child.tag, 0) + 1
            _collect(child, f"{path}/{child.tag}[{counts[child.tag]}]", out)
        elif isinstance(child, Text):
            text.append(child.value)
        elif isinstance(child, Comment | ProcessingInstruction):
            notes += 1
            note = child.value if isinstance(child, Comment) else child.raw
            out[f"{path}/#note[{notes}]"] = note
    joined = "".join(text)
    if joined.strip():
        out[f"{path}/#text"] = joined


def changed_keys(before: dict[str, str], after: dict[str, str]) -> set[str]:
    keys = before.keys() | after.keys()
    return {k for k in keys if before.get(k) != after.get(k)}


TITLE = "Nido <test> & \"quotes\" 'here' ✓"


def modify(dom: Domain, name: str) -> int:
    """The edit the libvirt tests and the prefix/comment tests apply to each file.

    Returns the new memory size in KiB (96 MiB more than before).
    """
    memory = (dom.memory or 0) + 98304
    dom.name = name
    dom.title = TITLE
    dom.uuid = None
    dom.memory = memory
    dom.current_memory = memory
    dom.metadata(NIDO_XMLNS, "vm", "nido").set("os", "debian12")
    dom.add_device(
        Disk(type="file", device="cdrom", target_dev="sdz", target_bus="sata", readonly=True)
    )
    return memory
