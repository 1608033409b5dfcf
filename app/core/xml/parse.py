"""Parsing XML text into the lossless tree of `tree.py`.

Parsing uses the standard library's expat binding directly, which is what both
ElementTree and minidom use underneath: expat's byte offsets let the tree keep the raw
text of every start tag and text run. Namespace processing is off on purpose, so
prefixes are kept literally and never renamed. DTDs are refused (libvirt has none, and
entity definitions are an attack surface).
"""

from __future__ import annotations

import re
import xml.parsers.expat
from typing import Final

from .tree import Comment, Document, Element, ProcessingInstruction, Text, XMLParseError

__all__ = ["XMLParseError", "parse_document"]

_XML_DECL: Final = re.compile(r"^\ufeff?\s*<\?xml\s[^>]*\?>\s*")
_DECL_ENCODING: Final = re.compile(rb"^\s*<\?xml\s[^>]*encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")


def _decode(data: str | bytes) -> str:
    if isinstance(data, str):
        return data
    match = _DECL_ENCODING.match(data)
    encoding = match.group(1).decode("ascii") if match else "utf-8"
    try:
        return data.decode(encoding)
    except (LookupError, UnicodeDecodeError) as exc:
        raise XMLParseError(f"cannot decode XML as {encoding}: {exc}") from exc


def _start_tag_end(src: bytes, start: int) -> int:
    """Index just past the '>' that closes the start tag beginning at `start`."""
    quote = 0
    for i in range(start + 1, len(src)):
        ch = src[i]
        if quote:
            if ch == quote:
                quote = 0
        elif ch in (0x22, 0x27):
            quote = ch
        elif ch == 0x3E:
            return i + 1
    raise XMLParseError("unterminated start tag")  # pragma: no cover - expat catches it


class _Builder:
    """Turns expat events into Element/Text/Comment nodes, remembering raw source."""

    def __init__(self, src: bytes) -> None:
        self.src = src
        self.stack: list[Element] = []
        self.root: Element | None = None
        self.root_start = 0
        self.root_end = 0
        self.text_start: int | None = None
        self.text_parts: list[str] = []
        self.parser = xml.parsers.expat.ParserCreate(encoding="utf-8")
        p = self.parser
        p.ordered_attributes = True
        p.StartElementHandler = self.start
        p.EndElementHandler = self.end
        p.CharacterDataHandler = self.data
        p.CommentHandler = self.comment
        p.ProcessingInstructionHandler = self.pi
        p.StartCdataSectionHandler = self.cdata
        p.EndCdataSectionHandler = self.cdata
        p.StartDoctypeDeclHandler = self.doctype

    def doctype(self, *_args: object) -> None:
        raise XMLParseError("a DOCTYPE is not allowed in domain XML")

    def flush(self, end: int) -> None:
        if self.text_start is None:
            return
        raw = self.src[self.text_start : end].decode("utf-8")
        node = Text("".join(self.text_parts), raw)
        self.stack[-1].append(node)
        self.text_start = None
        self.text_parts = []

    def data(self, value: str) -> None:
        if not self.stack:
            return
        if self.text_start is None:
            self.text_start = self.parser.CurrentByteIndex
        self.text_parts.append(value)

    def cdata(self) -> None:
        if self.stack and self.text_start is None:
            self.text_start = self.parser.CurrentByteIndex

    def start(self, tag: str, attrs: list[str]) -> None:
        at = self.parser.CurrentByteIndex
        self.flush(at)
        elem = Element(tag)
        for i in range(0, len(attrs), 2):
            elem.attrs[attrs[i]] = attrs[i + 1]
        end = _start_tag_end(self.src, at)
        head = self.src[at:end].decode("utf-8")
        raw_open = head[:-2] if head.endswith("/>") else head[:-1]
        pair_empty = not head.endswith("/>") and self.src.startswith(b"</", end)
        elem._mark_parsed(raw_open, pair_empty)
        if self.stack:
            self.stack[-1].append(elem)
        else:
            self.root = elem
            self.root_start = at
        self.stack.append(elem)

    def end(self, _tag: str) -> None:
        at = self.parser.CurrentByteIndex
        self.flush(at)
        self.stack.pop()
        if not self.stack:
            if self.src.startswith(b"</", at):
                self.root_end = self.src.index(b">", at) + 1
            else:
                self.root_end = at

    def comment(self, value: str) -> None:
        if self.stack:
            self.flush(self.parser.CurrentByteIndex)
            self.stack[-1].append(Comment(value))

    def pi(self, target: str, data: str) -> None:
        if self.stack:
            at = self.parser.CurrentByteIndex
            self.flush(at)
            end = self.src.index(b"?>", at) + 2
            self.stack[-1].append(ProcessingInstruction(self.src[at:end].decode("utf-8")))


def parse_document(data: str | bytes) -> Document:
    """Parse XML text into a Document; raises XMLParseError for malformed input."""
    text = _XML_DECL.sub("", _decode(data), count=1)
    src = text.encode("utf-8")
    builder = _Builder(src)
    try:
        builder.parser.Parse(src, True)
    except xml.parsers.expat.ExpatError as exc:
        raise XMLParseError(f"malformed XML: {exc}") from exc
    if builder.root is None:  # pragma: no cover - expat reports "no element found"
        raise XMLParseError("no root element")
    prolog = src[: builder.root_start].decode("utf-8")
    epilog = src[builder.root_end :].decode("utf-8")
    return Document(builder.root, prolog, epilog)
