"""A small lossless XML tree: node classes and serialization.

This module owns the in-memory form of an XML document. It keeps everything that a
round-trip must not lose: comments, processing instructions, namespace prefixes (tags
are kept literally, ``qemu:commandline`` stays ``qemu:commandline``), attribute order,
whitespace, and the original bytes of every start tag and text run that nobody changed
(`parse.py` records them). Serializing an unchanged document gives back the input, apart
from a dropped XML declaration. Changed or new nodes are written in libvirt's own style
(single quotes, all five entities escaped).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final

__all__ = [
    "Comment",
    "Document",
    "Element",
    "Node",
    "ProcessingInstruction",
    "Text",
    "XMLParseError",
    "check_xml_chars",
    "escape_attr",
    "escape_text",
    "serialize",
]

_ILLEGAL_CHARS: Final = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class XMLParseError(ValueError):
    """The text is not well-formed XML, or uses something this model refuses (a DTD)."""


def check_xml_chars(value: str) -> str:
    """Return value unchanged, or raise ValueError if XML 1.0 cannot represent it."""
    bad = _ILLEGAL_CHARS.search(value)
    if bad is not None:
        raise ValueError(f"character {bad.group()!r} cannot be stored in XML")
    return value


def escape_text(value: str) -> str:
    """Escape character data the way libvirt does (quotes too), keeping CR intact."""
    return (
        value.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("'", "&apos;")
        .replace('"', "&quot;")
        .replace("\r", "&#13;")
    )


def escape_attr(value: str) -> str:
    """Escape an attribute value for single quotes; tabs and newlines survive re-parsing."""
    return escape_text(value).replace("\n", "&#10;").replace("\t", "&#9;")


class Node:
    """Base of every tree node; `parent` is the element holding it, or None."""

    __slots__ = ("parent",)

    def __init__(self) -> None:
        self.parent: Element | None = None


class Text(Node):
    """Character data. `raw` is its source text, used while `value` equals the parsed value."""

    __slots__ = ("_orig", "_raw", "_value")

    def __init__(self, value: str, raw: str | None = None) -> None:
        super().__init__()
        self._value = value
        self._orig = value
        self._raw = raw

    @property
    def value(self) -> str:
        return self._value

    @value.setter
    def value(self, new: str) -> None:
        self._value = check_xml_chars(new)

    @property
    def raw(self) -> str | None:
        """The original source text, or None if the value changed since parsing."""
        return self._raw if self._value == self._orig else None

    @property
    def parsed(self) -> bool:
        """True if this text came from parsed input (even if changed since)."""
        return self._raw is not None

    def is_blank(self) -> bool:
        return not self._value.strip()

    def __repr__(self) -> str:
        return f"Text({self._value!r})"


class Comment(Node):
    """An XML comment; `value` is the text between ``<!--`` and ``-->``."""

    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        super().__init__()
        if "--" in value or value.endswith("-"):
            raise ValueError("an XML comment cannot contain '--' or end with '-'")
        self.value = check_xml_chars(value)

    def __repr__(self) -> str:
        return f"Comment({self.value!r})"


class ProcessingInstruction(Node):
    """A processing instruction inside the root element, kept as its raw source text."""

    __slots__ = ("raw",)

    def __init__(self, raw: str) -> None:
        super().__init__()
        self.raw = raw


class Element(Node):
    """An element: literal tag (with any prefix), ordered attributes and child nodes.

    While the tag and attributes equal their parsed values the original start tag is
    written back verbatim (quotes, spacing and character references included).
    """

    __slots__ = ("_orig", "_pair_empty", "_raw_open", "attrs", "children", "implicit", "tag")

    def __init__(self, tag: str, attrs: dict[str, str] | None = None) -> None:
        super().__init__()
        self.tag = tag
        # True for elements the model created only to hold a value on a path; those go
        # again when they become empty. Parsed and deliberately added elements stay.
        self.implicit = False
        self.attrs: dict[str, str] = {}
        self.children: list[Node] = []
        self._raw_open: str | None = None
        self._orig: tuple[str, tuple[tuple[str, str], ...]] | None = None
        self._pair_empty = False
        for name, value in (attrs or {}).items():
            self.set(name, value)

    # -- origin --------------------------------------------------------------------
    @property
    def parsed(self) -> bool:
        """True if this element came from parsed text, False if code created it."""
        return self._raw_open is not None

    def _mark_parsed(self, raw_open: str, pair_empty: bool) -> None:
        self._raw_open = raw_open
        self._pair_empty = pair_empty
        self._orig = (self.tag, tuple(self.attrs.items()))

    def _raw_start(self) -> str | None:
        if self._raw_open is not None and self._orig == (self.tag, tuple(self.attrs.items())):
            return self._raw_open
        return None

    # -- attributes ----------------------------------------------------------------
    def get(self, name: str) -> str | None:
        return self.attrs.get(name)

    def set(self, name: str, value: str) -> None:
        """Set an attribute; an existing one keeps its place, a new one goes last."""
        if not isinstance(value, str):
            raise TypeError(f"attribute {name!r} needs a str, not {type(value).__name__}")
        self.attrs[name] = check_xml_chars(value)

    def unset(self, name: str) -> None:
        self.attrs.pop(name, None)

    # -- children ------------------------------------------------------------------
    def elements(self, tag: str | None = None) -> Iterator[Element]:
        """Child elements in document order, optionally only those with `tag`."""
        for child in self.children:
            if isinstance(child, Element) and (tag is None or child.tag == tag):
                yield child

    def find(self, tag: str) -> Element | None:
        return next(self.elements(tag), None)

    def iter(self) -> Iterator[Element]:
        """This element and all elements below it, depth first."""
        stack: list[Element] = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(list(node.elements())))

    @property
    def text(self) -> str:
        """The character data directly inside this element.

        In an element that has child elements, whitespace-only runs are layout and
        do not count.
        """
        container = any(isinstance(c, Element) for c in self.children)
        return "".join(
            c.value
            for c in self.children
            if isinstance(c, Text) and not (container and c.is_blank())
        )

    @text.setter
    def text(self, value: str) -> None:
        check_xml_chars(value)
        container = any(isinstance(c, Element) for c in self.children)
        texts = [
            c for c in self.children if isinstance(c, Text) and not (container and c.is_blank())
        ]
        if len(texts) == 1 and value:
            texts[0].value = value
            return
        for node in texts:
            self.remove(node)
        if value:
            node = Text(value)
            node.parent = self
            self.children.insert(0, node)

    def append(self, node: Node) -> None:
        self.insert(len(self.children), node)

    def insert(self, index: int, node: Node) -> None:
        if node.parent is not None:
            raise ValueError("node already belongs to a tree; remove it first")
        node.parent = self
        self.children.insert(index, node)

    def remove(self, node: Node) -> None:
        self.children.remove(node)
        node.parent = None

    def index(self, node: Node) -> int:
        for i, child in enumerate(self.children):
            if child is node:
                return i
        raise ValueError("node is not a child of this element")

    def is_empty(self) -> bool:
        """No attributes and nothing inside but whitespace."""
        if self.attrs:
            return False
        return all(isinstance(c, Text) and c.is_blank() for c in self.children)

    def __repr__(self) -> str:
        return f"<Element {self.tag} {self.attrs}>"


class Document:
    """A parsed document: the root element plus the raw text around it."""

    __slots__ = ("epilog", "prolog", "root")

    def __init__(self, root: Element, prolog: str = "", epilog: str = "\n") -> None:
        self.root = root
        self.prolog = prolog
        self.epilog = epilog

    def to_xml(self) -> str:
        return self.prolog + serialize(self.root) + self.epilog


# -- serialization ---------------------------------------------------------------------


def _start_tag(elem: Element) -> str:
    raw = elem._raw_start()
    if raw is not None:
        return raw
    parts = [f"<{elem.tag}"]
    parts.extend(f" {name}='{escape_attr(value)}'" for name, value in elem.attrs.items())
    return "".join(parts)


def serialize(elem: Element, dedent: str = "") -> str:
    """Serialize an element and its subtree.

    `dedent` is removed after every newline in whitespace-only text, so a device taken
    from deep inside a domain prints flush left.
    """
    out: list[str] = []
    _write(elem, out, "\n" + dedent if dedent else "")
    return "".join(out)


def _write(elem: Element, out: list[str], dedent: str) -> None:
    out.append(_start_tag(elem))
    if not elem.children:
        out.append(f"></{elem.tag}>" if elem._pair_empty else "/>")
        return
    out.append(">")
    for child in elem.children:
        if isinstance(child, Element):
            _write(child, out, dedent)
        elif isinstance(child, Text):
            if dedent and child.is_blank():
                out.append(child.value.replace(dedent, "\n"))
            elif child.raw is not None:
                out.append(child.raw)
            else:
                out.append(escape_text(child.value))
        elif isinstance(child, Comment):
            out.append(f"<!--{child.value}-->")
        elif isinstance(child, ProcessingInstruction):
            out.append(child.raw)
    out.append(f"</{elem.tag}>")
