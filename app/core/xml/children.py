"""Child-object descriptors: one lazy child (`XMLChild`) or a live list (`XMLChildList`).

``os = XMLChild(DomainOS, "./os")`` gives an object that exists lazily: reading an absent
section gives None values, the first write creates it. ``disks = XMLChildList(Disk,
"./devices/disk")`` gives a `ChildList` that reads the tree on every access and whose
``append``/``remove`` edit it in place, next to the other children of the same kind.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Generic, Self, TypeVar, overload

from .base import XMLDescriptor, XMLObject
from .layout import insert_ordered, remove_element
from .paths import XPath, compile_path, ensure, find, prune, walk
from .tree import Element

__all__ = ["ChildList", "XMLChild", "XMLChildList"]

O = TypeVar("O", bound=XMLObject)  # noqa: E741


class XMLChild(XMLDescriptor, Generic[O]):
    """A single child object at `path`; it exists lazily and is created on first write."""

    def __init__(self, cls: type[O], path: str) -> None:
        self.cls = cls
        self.xpath = compile_path(path)
        if self.xpath.attr is not None or not self.xpath.steps:
            raise ValueError("a child path names an element")

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> Self: ...
    @overload
    def __get__(self, obj: XMLObject, owner: type | None = None) -> O: ...
    def __get__(self, obj: XMLObject | None, owner: type | None = None) -> O | Self:
        if obj is None:
            return self
        return self.cls._lazy(obj, self.xpath)

    def __set__(self, obj: XMLObject, value: object) -> None:
        raise AttributeError(f"{self.name} cannot be replaced; set its properties instead")


class XMLChildList(XMLDescriptor, Generic[O]):
    """All children matching `path`'s last step, as a live ChildList of `cls`."""

    def __init__(self, cls: type[O], path: str) -> None:
        self.cls = cls
        self.xpath = compile_path(path)
        if self.xpath.attr is not None or not self.xpath.steps:
            raise ValueError("a child list path names elements")

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> Self: ...
    @overload
    def __get__(self, obj: XMLObject, owner: type | None = None) -> ChildList[O]: ...
    def __get__(self, obj: XMLObject | None, owner: type | None = None) -> ChildList[O] | Self:
        if obj is None:
            return self
        return ChildList(obj, self.xpath, self.cls)

    def __set__(self, obj: XMLObject, value: object) -> None:
        raise AttributeError(f"{self.name} cannot be replaced; use append() and remove()")


class ChildList(Sequence[O]):
    """A live list of child objects: reads the tree on each access, edits it in place."""

    def __init__(self, owner: XMLObject, xpath: XPath, cls: type[O]) -> None:
        self._owner = owner
        self._xpath = xpath
        self._cls = cls

    def _container(self, create: bool = False) -> Element | None:
        base = self._owner._element(create)
        if base is None:
            return None
        if create:
            return ensure(base, self._xpath.parent)
        return find(base, self._xpath.parent)

    def _elements(self) -> list[Element]:
        container = self._container()
        if container is None:
            return []
        step = self._xpath.steps[-1]
        return [e for e in container.elements(step.tag) if step.matches(e)]

    def __len__(self) -> int:
        return len(self._elements())

    @overload
    def __getitem__(self, index: int) -> O: ...
    @overload
    def __getitem__(self, index: slice) -> list[O]: ...
    def __getitem__(self, index: int | slice) -> O | list[O]:
        elems = self._elements()
        if isinstance(index, slice):
            return [self._wrap(e) for e in elems[index]]
        return self._wrap(elems[index])

    def __iter__(self) -> Iterator[O]:
        return iter([self._wrap(e) for e in self._elements()])

    def __contains__(self, item: object) -> bool:
        if not isinstance(item, XMLObject):
            return False
        elem = item._element()
        return any(e is elem for e in self._elements())

    def _wrap(self, elem: Element) -> O:
        obj = self._cls(elem)
        object.__setattr__(obj, "_parent", self._owner)
        return obj

    def append(self, item: O) -> O:
        """Attach a detached item after the last one of its kind; returns it."""
        if not isinstance(item, self._cls):
            raise TypeError(f"expected {self._cls.__name__}, got {type(item).__name__}")
        elem = item._element()
        if elem is None or elem.parent is not None or item._xpath is not None:
            raise ValueError("only a detached object can be added; remove() it first")
        step = self._xpath.steps[-1]
        if elem.tag != step.tag:
            raise ValueError(f"expected <{step.tag}>, got <{elem.tag}>")
        for key, value in step.preds:
            if elem.get(key) is None:
                elem.set(key, value)
        container = self._container(create=True)
        assert container is not None
        insert_ordered(container, elem)
        object.__setattr__(item, "_parent", self._owner)
        return item

    def remove(self, item: O) -> None:
        """Detach item from the tree; raises ValueError if it is not in this list."""
        if item not in self:
            raise ValueError(f"{item!r} is not in this list")
        elem = item._element()
        assert elem is not None
        remove_element(elem)
        object.__setattr__(item, "_parent", None)
        base = self._owner._element()
        chain = None if base is None else walk(base, self._xpath.parent)
        if chain is not None:
            prune(chain, self._xpath.parent)
        self._owner._cleanup()

    def clear(self) -> None:
        for item in list(self):
            self.remove(item)

    def __repr__(self) -> str:
        return f"ChildList[{self._cls.__name__}]({list(self)!r})"
