"""XMLObject and the descriptors that read and write XML in place.

An XMLObject wraps one element of a parsed tree (or, lazily, the place where an element
would be). Class attributes such as ``memory = XMLSize("./memory")`` or
``type = XMLProperty("./@type")`` read from the tree on every access and write into it in
place, so anything the model does not know stays where it was. Reading never changes the
tree. Writing None removes the value, and any element that the model created implicitly
on the way (to hold a value) and that is now empty.
"""

from __future__ import annotations

from typing import Any, ClassVar, Generic, Self, TypeVar, overload

from .kinds import STR, Kind, as_kind, bool_on_off, scale_to_kib, unit_factor
from .layout import line_indent, remove_element
from .parse import parse_document
from .paths import XPath, compile_path, delete, ensure, find, prune, read, remove_at, walk, write
from .tree import Element, check_xml_chars, serialize

__all__ = [
    "XMLDescriptor",
    "XMLFlag",
    "XMLObject",
    "XMLProperty",
    "XMLSize",
    "XMLState",
]

T = TypeVar("T")
O = TypeVar("O", bound="XMLObject")  # noqa: E741


class XMLObject:
    """A view of one element. Construct with no element to build a new, detached one."""

    TAG: ClassVar[str] = ""

    _node: Element | None
    _parent: XMLObject | None
    _xpath: XPath | None

    def __init__(self, node: Element | None = None, /, **props: Any) -> None:
        if node is None:
            if not self.TAG:
                raise TypeError(f"{type(self).__name__} needs an element")
            node = Element(self.TAG)
        elif self.TAG and node.tag != self.TAG:
            raise ValueError(f"{type(self).__name__} wraps <{self.TAG}>, not <{node.tag}>")
        object.__setattr__(self, "_node", node)
        object.__setattr__(self, "_parent", None)
        object.__setattr__(self, "_xpath", None)
        for name, value in props.items():
            setattr(self, name, value)

    @classmethod
    def _lazy(cls, parent: XMLObject, xpath: XPath) -> Self:
        obj = cls.__new__(cls)
        object.__setattr__(obj, "_node", None)
        object.__setattr__(obj, "_parent", parent)
        object.__setattr__(obj, "_xpath", xpath)
        return obj

    def __setattr__(self, name: str, value: Any) -> None:
        # Refuse typos such as `disk.sorce_file = ...`, which would silently do nothing.
        if not hasattr(type(self), name):
            raise AttributeError(f"{type(self).__name__} has no property {name!r}")
        object.__setattr__(self, name, value)

    # -- element access --------------------------------------------------------------
    def _element(self, create: bool = False) -> Element | None:
        if self._node is not None:
            return self._node
        assert self._parent is not None and self._xpath is not None
        base = self._parent._element(create)
        if base is None:
            return None
        if create:
            return ensure(base, self._xpath.steps)
        return find(base, self._xpath.steps)

    def _cleanup(self) -> None:
        """Drop this lazy object's element (and its parents') if created and now empty."""
        if self._parent is None or self._xpath is None:
            return
        base = self._parent._element()
        if base is None:
            return
        chain = walk(base, self._xpath.steps)
        if chain is None:
            return
        prune(chain, self._xpath.steps)
        self._parent._cleanup()

    @property
    def node(self) -> Element | None:
        """The wrapped element, or None while a lazy child is absent."""
        return self._element()

    @property
    def exists(self) -> bool:
        return self._element() is not None

    def remove(self) -> None:
        """Take this element out of its tree (with its content)."""
        elem = self._element()
        if elem is None or elem.parent is None:
            return
        remove_element(elem)
        self._cleanup()

    def to_xml(self) -> str:
        """This element as XML text, indented as if it stood alone."""
        elem = self._element()
        if elem is None:
            raise LookupError(f"no <{self._xpath.source if self._xpath else self.TAG}> here")
        return serialize(elem, line_indent(elem)[1:])

    @classmethod
    def from_xml(cls, text: str | bytes) -> Self:
        """Parse a standalone fragment whose root element is this class's TAG."""
        return cls(parse_document(text).root)

    @classmethod
    def properties(cls) -> dict[str, XMLDescriptor]:
        """Every descriptor of this class by attribute name, base classes first."""
        found: dict[str, XMLDescriptor] = {}
        for klass in reversed(cls.__mro__):
            for name, value in vars(klass).items():
                if isinstance(value, XMLDescriptor):
                    found[name] = value
        return found

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, XMLObject):
            return NotImplemented
        mine = self._element()
        return mine is not None and mine is other._element()

    def __hash__(self) -> int:
        return id(self._element())

    def __repr__(self) -> str:
        elem = self._element()
        if elem is None:
            return f"<{type(self).__name__} (absent)>"
        return f"<{type(self).__name__} <{elem.tag}> {elem.attrs}>"


class XMLDescriptor:
    """Base of all descriptors; `name` is the attribute name it was given in its class."""

    name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name


class XMLProperty(XMLDescriptor, Generic[T]):
    """A value at `path`: an attribute (``./x/@y``) or an element's text (``./x``).

    Element text that is empty reads as None, and writing ``""`` to it removes it.
    Attributes keep ``""`` as a value of its own.
    """

    def __init__(
        self, path: str, kind: Kind[T] | type = STR, *, prune: bool = False, doc: str = ""
    ) -> None:
        self.xpath = compile_path(path)
        self.kind: Kind[T] = as_kind(kind)
        self.prune = prune
        self.__doc__ = doc or f"{path} ({self.kind.name})"

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> Self: ...
    @overload
    def __get__(self, obj: XMLObject, owner: type | None = None) -> T | None: ...
    def __get__(self, obj: XMLObject | None, owner: type | None = None) -> T | Self | None:
        if obj is None:
            return self
        elem = obj._element()
        if elem is None:
            return None
        text = read(elem, self.xpath)
        if text is None:
            return None
        try:
            return self.kind.parse(text)
        except ValueError as exc:
            raise ValueError(f"{type(obj).__name__}.{self.name}: {exc}") from None

    def __set__(self, obj: XMLObject, value: T | None) -> None:
        if value == "" and self.xpath.attr is None:
            value = None  # element text: empty means absent
        if value is None:
            elem = obj._element()
            if elem is not None:
                delete(elem, self.xpath, force_prune=self.prune)
                obj._cleanup()
            return
        text = check_xml_chars(self.kind.format(value))  # refuse before creating anything
        target = obj._element(create=True)
        assert target is not None
        write(target, self.xpath, text)


class XMLSize(XMLDescriptor):
    """A size element such as ``<memory unit='MiB'>512</memory>``, always given in KiB.

    Reading honours the unit attribute (default `default_unit`); writing stores KiB and
    sets ``unit='KiB'`` unless the element was parsed without a unit and defaults to KiB.
    """

    def __init__(self, path: str, *, unit_attr: str = "unit", default_unit: str = "KiB") -> None:
        self.xpath = compile_path(path)
        if self.xpath.attr is not None:
            raise ValueError("XMLSize works on element text, not attributes")
        self.unit_attr = unit_attr
        self.default_unit = default_unit
        self.__doc__ = f"{path} in KiB"

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> Self: ...
    @overload
    def __get__(self, obj: XMLObject, owner: type | None = None) -> int | None: ...
    def __get__(self, obj: XMLObject | None, owner: type | None = None) -> int | Self | None:
        if obj is None:
            return self
        base = obj._element()
        elem = None if base is None else find(base, self.xpath.steps)
        if elem is None:
            return None
        unit = elem.get(self.unit_attr) or self.default_unit
        try:
            return scale_to_kib(int(elem.text.strip()), unit)
        except ValueError as exc:
            raise ValueError(f"{type(obj).__name__}.{self.name}: {exc}") from None

    def __set__(self, obj: XMLObject, value: int | None) -> None:
        if value is None:
            base = obj._element()
            if base is not None:
                remove_at(base, self.xpath.steps)
                obj._cleanup()
            return
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"expected int KiB, got {type(value).__name__}")
        if value < 0:
            raise ValueError(f"size cannot be negative: {value}")
        base = obj._element(create=True)
        assert base is not None
        elem = ensure(base, self.xpath.steps)
        elem.text = str(value)
        keep_default = elem.parsed and elem.get(self.unit_attr) is None
        if not (keep_default and unit_factor(self.default_unit) == 1024):
            elem.set(self.unit_attr, "KiB")


class XMLFlag(XMLDescriptor):
    """True while an element exists (``<acpi/>``, ``<readonly/>``); False removes it."""

    def __init__(self, path: str) -> None:
        self.xpath = compile_path(path)
        self.__doc__ = f"{path} present"

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> Self: ...
    @overload
    def __get__(self, obj: XMLObject, owner: type | None = None) -> bool: ...
    def __get__(self, obj: XMLObject | None, owner: type | None = None) -> bool | Self:
        if obj is None:
            return self
        base = obj._element()
        return base is not None and find(base, self.xpath.steps) is not None

    def __set__(self, obj: XMLObject, value: bool | None) -> None:
        if value:
            base = obj._element(create=True)
            assert base is not None
            ensure(base, self.xpath.steps).implicit = False
            return
        base = obj._element()
        if base is not None:
            remove_at(base, self.xpath.steps)
            obj._cleanup()


class XMLState(XMLDescriptor):
    """An element whose presence means on unless it says ``state='off'`` (``<smm/>``).

    None means absent. True/False write the state attribute; None removes the element.
    """

    def __init__(self, path: str, attr: str = "state", kind: Kind[bool] = bool_on_off) -> None:
        self.xpath = compile_path(path)
        self.attr = attr
        self.kind = kind
        self.__doc__ = f"{path}/@{attr} ({kind.name}); present without it means on"

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> Self: ...
    @overload
    def __get__(self, obj: XMLObject, owner: type | None = None) -> bool | None: ...
    def __get__(self, obj: XMLObject | None, owner: type | None = None) -> bool | Self | None:
        if obj is None:
            return self
        base = obj._element()
        elem = None if base is None else find(base, self.xpath.steps)
        if elem is None:
            return None
        value = elem.get(self.attr)
        return True if value is None else self.kind.parse(value)

    def __set__(self, obj: XMLObject, value: bool | None) -> None:
        if value is None:
            base = obj._element()
            if base is not None:
                remove_at(base, self.xpath.steps)
                obj._cleanup()
            return
        text = self.kind.format(value)
        base = obj._element(create=True)
        assert base is not None
        elem = ensure(base, self.xpath.steps)
        elem.implicit = False
        elem.set(self.attr, text)
