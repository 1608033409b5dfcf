"""Application metadata under ``<metadata>``: one element per XML namespace.

libvirt keeps each child of ``<metadata>`` as an opaque element in its own namespace.
Nido keeps its own, e.g. ``<nido:vm xmlns:nido="https://nido.invalid/xmlns/1.0"
os="debian12"/>``. Elements are found by namespace URI and local name, whatever prefix
the document happens to use, so another tool's choice of prefix never hides them.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .base import XMLObject
from .layout import insert_ordered
from .paths import compile_path, ensure, find, prune
from .tree import Element, check_xml_chars

if TYPE_CHECKING:
    from .domain import Domain

__all__ = ["MetadataElement", "local_name", "namespace_of"]

_NCNAME = re.compile(r"[A-Za-z_][\w.-]*")
_METADATA = compile_path("./metadata")


def local_name(elem: Element) -> str:
    return elem.tag.rpartition(":")[2]


def namespace_of(elem: Element) -> str | None:
    """The namespace URI of elem's tag, resolved through xmlns declarations in scope."""
    prefix, colon, _ = elem.tag.rpartition(":")
    attr = f"xmlns:{prefix}" if colon else "xmlns"
    node: Element | None = elem
    while node is not None:
        if attr in node.attrs:
            return node.attrs[attr] or None
        node = node.parent
    return None


class MetadataElement(XMLObject):
    """One namespaced element under ``<metadata>``, created on first write."""

    def __init__(self, domain: Domain, uri: str, name: str, prefix: str) -> None:
        for part in (name, prefix):
            if not _NCNAME.fullmatch(part):
                raise ValueError(f"not an XML name: {part!r}")
        if not uri:
            raise ValueError("metadata needs a namespace URI")
        object.__setattr__(self, "_node", None)
        object.__setattr__(self, "_parent", domain)
        object.__setattr__(self, "_xpath", None)
        object.__setattr__(self, "_uri", uri)
        object.__setattr__(self, "_name", name)
        object.__setattr__(self, "_prefix", prefix)

    def _element(self, create: bool = False) -> Element | None:
        assert self._parent is not None
        root = self._parent._element()
        assert root is not None
        meta = find(root, _METADATA.steps)
        if meta is not None:
            for child in meta.elements():
                if local_name(child) == self._name and namespace_of(child) == self._uri:
                    return child
        if not create:
            return None
        meta = ensure(root, _METADATA.steps)
        elem = Element(f"{self._prefix}:{self._name}", {f"xmlns:{self._prefix}": self._uri})
        insert_ordered(meta, elem)
        return elem

    def _cleanup(self) -> None:
        assert self._parent is not None
        root = self._parent._element()
        assert root is not None
        meta = find(root, _METADATA.steps)
        if meta is not None:
            prune([root, meta])

    @property
    def uri(self) -> str:
        return self._uri

    def get(self, attr: str) -> str | None:
        """An attribute of the metadata element, or None."""
        elem = self._element()
        return None if elem is None else elem.get(attr)

    def set(self, attr: str, value: str | None) -> None:
        """Set or (with None) remove an attribute; the element is created as needed."""
        if attr.startswith("xmlns"):
            raise ValueError("namespace declarations are managed by the model")
        if value is None:
            elem = self._element()
            if elem is not None:
                elem.unset(attr)
            return
        if not _NCNAME.fullmatch(attr.rpartition(":")[2]):
            raise ValueError(f"not an XML name: {attr!r}")
        check_xml_chars(value)
        elem = self._element(create=True)
        assert elem is not None
        elem.set(attr, value)

    @property
    def text(self) -> str | None:
        elem = self._element()
        return None if elem is None else elem.text

    @text.setter
    def text(self, value: str | None) -> None:
        if value is not None:
            check_xml_chars(value)
        elem = self._element(create=value is not None)
        if elem is not None:
            elem.text = value or ""
