"""Adding and removing elements while keeping a document's indentation tidy.

The model writes into trees that people and libvirt formatted. This module decides where
a new element goes (next to its own kind, else in libvirt's order from `order.py`) and
which whitespace goes with it, so that `to_xml()` of an edited domain still reads like
libvirt's output. A document written on one line stays on one line.
"""

from __future__ import annotations

from .order import CHILD_ORDER
from .tree import Comment, Element, Node, ProcessingInstruction, Text

__all__ = ["insert_ordered", "line_indent", "place", "remove_element"]

INDENT_UNIT = "  "


def _blank(node: Node) -> bool:
    return isinstance(node, Text) and node.is_blank()


def _content(node: Node) -> bool:
    return isinstance(node, Element | Comment | ProcessingInstruction) or (
        isinstance(node, Text) and not node.is_blank()
    )


def _root(elem: Element) -> Element:
    while elem.parent is not None:
        elem = elem.parent
    return elem


def _compact(elem: Element) -> bool:
    """True if the document holding elem is written without layout whitespace."""
    root = _root(elem)
    has_elements = False
    for child in root.children:
        if _blank(child):
            return False
        has_elements = has_elements or isinstance(child, Element)
    return has_elements


def _indent_of(ws: str) -> str:
    return "\n" + ws.rsplit("\n", 1)[1]


def line_indent(elem: Element) -> str:
    """A newline plus the indentation of the line that elem starts on."""
    parent = elem.parent
    if parent is None:
        return "\n"
    i = parent.index(elem)
    if i > 0:
        before = parent.children[i - 1]
        if isinstance(before, Text) and before.is_blank() and "\n" in before.value:
            return _indent_of(before.value)
    return _child_indent(parent)


def _child_indent(parent: Element) -> str:
    children = parent.children
    for i in range(1, len(children)):
        before = children[i - 1]
        if (
            _content(children[i])
            and isinstance(before, Text)
            and before.is_blank()
            and "\n" in before.value
        ):
            return _indent_of(before.value)
    return line_indent(parent) + INDENT_UNIT


def _shift(elem: Element, old: str, new: str) -> None:
    """Re-base layout whitespace in elem's subtree from indentation `old` to `new`."""
    for node in elem.iter():
        for child in node.children:
            if isinstance(child, Text) and child.is_blank() and old in child.value:
                child.value = child.value.replace(old, new)


def _strip_layout(elem: Element) -> None:
    for node in elem.iter():
        for child in [c for c in node.children if _blank(c)]:
            node.remove(child)


def place(parent: Element, child: Element, *, after: Node | None = None,
          before: Node | None = None) -> None:  # fmt: skip
    """Insert a detached element after/before a sibling (default: last), with layout."""
    if child.parent is not None:
        raise ValueError("element already belongs to a tree; remove it first")
    if _compact(parent):
        _strip_layout(child)
        index = len(parent.children)
        if after is not None:
            index = parent.index(after) + 1
        elif before is not None:
            index = parent.index(before)
        parent.insert(index, child)
        return
    indent = _child_indent(parent)
    _shift(child, "\n", indent)
    if not any(_content(c) for c in parent.children):
        if not parent.children:
            parent.append(Text(line_indent(parent)))
        # Existing whitespace (``<x>\n  </x>``) stays as the closing indentation.
        parent.insert(0, Text(indent))
        parent.insert(1, child)
        return
    if after is not None:
        index = parent.index(after) + 1
    elif before is not None:
        index = parent.index(before)
        if index > 0 and _blank(parent.children[index - 1]):
            index -= 1
    else:
        index = max(i for i, c in enumerate(parent.children) if _content(c)) + 1
    parent.insert(index, Text(indent))
    parent.insert(index + 1, child)


def insert_ordered(parent: Element, child: Element) -> None:
    """Insert child after the last sibling of its tag, else where libvirt would print it."""
    same = [e for e in parent.elements(child.tag)]
    if same:
        place(parent, child, after=same[-1])
        return
    order = CHILD_ORDER.get(parent.tag, ())
    if child.tag not in order:
        place(parent, child)
        return
    rank = order.index(child.tag)
    prev: Element | None = None
    nxt: Element | None = None
    for elem in parent.elements():
        if elem.tag not in order:
            continue
        other = order.index(elem.tag)
        if other < rank:
            prev = elem
        elif other > rank and nxt is None:
            nxt = elem
    if prev is not None:
        place(parent, child, after=prev)
    elif nxt is not None:
        place(parent, child, before=nxt)
    else:
        place(parent, child)


def remove_element(child: Element) -> None:
    """Detach child with its leading whitespace; its subtree is re-based to column 0."""
    parent = child.parent
    if parent is None:
        return
    indent = line_indent(child)
    i = parent.index(child)
    parent.remove(child)
    if i > 0 and _blank(parent.children[i - 1]):
        parent.remove(parent.children[i - 1])
    if all(isinstance(c, Text) and c.is_blank() and not c.parsed for c in parent.children):
        for node in list(parent.children):
            parent.remove(node)
    if indent != "\n":
        _shift(child, indent, "\n")
