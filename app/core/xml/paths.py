"""The tiny path language of the descriptors, and reading/writing through it.

A path is relative to an object's element: ``./memory``, ``./@type``,
``./os/loader/@secure``, ``./source[@mode='bind']/@dir`` or ``.`` for the element's own
text. Steps name child tags literally (prefixes included) and may carry attribute
predicates, which also become attributes when the step has to be created. The first
matching child is used at every step.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from .layout import insert_ordered, remove_element
from .tree import Element, Text

__all__ = [
    "Step",
    "XPath",
    "compile_path",
    "delete",
    "ensure",
    "find",
    "prune",
    "read",
    "remove_at",
    "walk",
    "write",
]

_NAME = r"[A-Za-z_][\w.:-]*"
_STEP = re.compile(rf"({_NAME})((?:\[@{_NAME}='[^']*'\])*)")
_PRED = re.compile(rf"\[@({_NAME})='([^']*)'\]")


@dataclass(frozen=True, slots=True)
class Step:
    tag: str
    preds: tuple[tuple[str, str], ...] = ()

    def matches(self, elem: Element) -> bool:
        return elem.tag == self.tag and all(elem.get(k) == v for k, v in self.preds)

    def create(self) -> Element:
        return Element(self.tag, dict(self.preds))


@dataclass(frozen=True, slots=True)
class XPath:
    source: str
    steps: tuple[Step, ...]
    attr: str | None

    @property
    def parent(self) -> tuple[Step, ...]:
        return self.steps[:-1]


def _split(path: str) -> list[str]:
    parts: list[str] = []
    depth = 0
    current: list[str] = []
    for ch in path:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        if ch == "/" and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


@lru_cache(maxsize=1024)
def compile_path(path: str) -> XPath:
    """Parse a descriptor path; raises ValueError for anything outside the language."""
    parts = _split(path)
    if parts[0] == ".":
        parts = parts[1:]
    if parts and parts[-1] == "":
        parts = parts[:-1]
    attr: str | None = None
    if parts and parts[-1].startswith("@"):
        attr = parts.pop()[1:]
        if not re.fullmatch(_NAME, attr):
            raise ValueError(f"bad attribute name in path {path!r}")
    steps: list[Step] = []
    for part in parts:
        match = _STEP.fullmatch(part)
        if match is None:
            raise ValueError(f"bad step {part!r} in path {path!r}")
        steps.append(Step(match.group(1), tuple(_PRED.findall(match.group(2)))))
    return XPath(path, tuple(steps), attr)


def find(base: Element, steps: tuple[Step, ...]) -> Element | None:
    """The element reached by following steps from base, or None."""
    elem: Element | None = base
    for step in steps:
        assert elem is not None
        elem = next((c for c in elem.elements(step.tag) if step.matches(c)), None)
        if elem is None:
            return None
    return elem


def ensure(base: Element, steps: tuple[Step, ...]) -> Element:
    """Like find, but creates missing elements in libvirt's order."""
    elem = base
    for step in steps:
        found = next((c for c in elem.elements(step.tag) if step.matches(c)), None)
        if found is None:
            found = step.create()
            found.implicit = True
            insert_ordered(elem, found)
        elem = found
    return elem


def read(base: Element, xpath: XPath) -> str | None:
    elem = find(base, xpath.steps)
    if elem is None:
        return None
    if xpath.attr is not None:
        return elem.get(xpath.attr)
    return elem.text or None  # <loader secure='no'/> has no path; '' is no value either


def write(base: Element, xpath: XPath, value: str) -> None:
    elem = ensure(base, xpath.steps)
    if xpath.attr is not None:
        elem.set(xpath.attr, value)
    else:
        elem.text = value


def prune(
    chain: list[Element], steps: tuple[Step, ...] | None = None, *, force: bool = False
) -> None:
    """Remove emptied elements from the end of chain (never chain[0]).

    chain[i + 1] is the element reached by steps[i]; attributes that only repeat a
    step's predicate (``listen[@type='address']``) do not count as content. Only
    elements the model created implicitly go, unless force: an element that was parsed
    or added on purpose may mean something by its mere presence (``<smm/>``).
    """
    for i in range(len(chain) - 1, 0, -1):
        elem = chain[i]
        step = steps[i - 1] if steps is not None and i - 1 < len(steps) else None
        if elem.parent is None or not _vacant(elem, step) or not (elem.implicit or force):
            break
        remove_element(elem)


def _vacant(elem: Element, step: Step | None) -> bool:
    preds = dict(step.preds) if step is not None else {}
    if any(preds.get(name) != value for name, value in elem.attrs.items()):
        return False
    return all(isinstance(c, Text) and c.is_blank() for c in elem.children)


def delete(base: Element, xpath: XPath, *, force_prune: bool = False) -> None:
    """Remove the attribute or text that xpath names, then prune emptied elements.

    An element whose text is removed goes too once nothing is left in it.
    """
    chain = walk(base, xpath.steps)
    if chain is None:
        return
    leaf = chain[-1]
    if xpath.attr is not None:
        leaf.unset(xpath.attr)
    else:
        leaf.text = ""
        if leaf is not base and _vacant(leaf, xpath.steps[-1]):
            remove_element(leaf)
            chain.pop()
    prune(chain, xpath.steps, force=force_prune)


def remove_at(base: Element, steps: tuple[Step, ...]) -> None:
    """Remove the element at steps with everything in it, then prune created parents."""
    chain = walk(base, steps)
    if chain is None or len(chain) < 2:
        return
    remove_element(chain.pop())
    prune(chain, steps)


def walk(base: Element, steps: tuple[Step, ...]) -> list[Element] | None:
    """base and every element along steps, or None if one is missing."""
    chain = [base]
    for step in steps:
        nxt = next((c for c in chain[-1].elements(step.tag) if step.matches(c)), None)
        if nxt is None:
            return None
        chain.append(nxt)
    return chain
