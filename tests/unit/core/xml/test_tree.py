"""The lossless tree: parsing, raw preservation, escaping and refusals."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from app.core.xml.parse import parse_document
from app.core.xml.tree import Comment, Element, Text, XMLParseError, escape_attr, serialize


def roundtrip(text: str) -> str:
    return parse_document(text).to_xml()


@pytest.mark.parametrize(
    "text",
    [
        "<a/>",
        "<a></a>",
        "<a x='1'  y=\"2\" />",
        "<a>\r\n  <b/>\r\n</a>\r\n",
        "<a><!-- c --><?pi  some data ?><![CDATA[<raw> & ]]>t&#x41;&amp;</a>",
        "<a q:x='1' xmlns:q='urn:q'><q:b q:y='&#10;&gt;'>text</q:b></a>",
        "<!-- before --><a/><!-- after -->\n\n",
        "<a b='>' c=\"'\" d='\"'/>",
    ],
)
def test_unchanged_documents_come_back_byte_for_byte(text: str) -> None:
    assert roundtrip(text) == text


def test_xml_declaration_is_dropped_and_its_encoding_honoured() -> None:
    data = "<?xml version='1.0' encoding='ISO-8859-1'?>\n<a>caf\xe9</a>".encode("latin-1")
    doc = parse_document(data)
    assert doc.root.text == "café"
    assert doc.to_xml() == "<a>café</a>"
    assert roundtrip("<?xml version='1.0'?>\n<a/>\n") == "<a/>\n"


def test_prefixes_stay_literal_and_are_never_renamed() -> None:
    doc = parse_document(
        "<d xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'><qemu:arg/></d>"
    )
    child = doc.root.find("qemu:arg")
    assert child is not None
    child.set("value", "-S")
    assert doc.to_xml() == (
        "<d xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'><qemu:arg value='-S'/></d>"
    )


def test_changed_attribute_rewrites_only_that_start_tag() -> None:
    doc = parse_document('<a  x="1"><b y="2"   z="3"/></a>')
    b = doc.root.find("b")
    assert b is not None
    b.set("y", "20")
    assert doc.to_xml() == "<a  x=\"1\"><b y='20' z='3'/></a>"
    b.set("y", "2")  # back to the parsed value: the original bytes come back
    assert doc.to_xml() == '<a  x="1"><b y="2"   z="3"/></a>'


def test_changed_text_is_escaped_and_restored_text_keeps_its_raw_form() -> None:
    doc = parse_document("<a>x &#x263A; <![CDATA[<y>]]></a>")
    doc.root.text = "1 < 2 & 'q'"
    assert serialize(doc.root) == "<a>1 &lt; 2 &amp; &apos;q&apos;</a>"
    doc.root.text = "x ☺ <y>"
    assert serialize(doc.root) == "<a>x &#x263A; <![CDATA[<y>]]></a>"


def test_self_closing_element_that_gains_children_gets_an_end_tag() -> None:
    doc = parse_document("<a><b x='1' /></a>")
    b = doc.root.find("b")
    assert b is not None
    b.append(Element("c"))
    assert serialize(doc.root) == "<a><b x='1' ><c/></b></a>"


def test_attribute_escaping_survives_reparsing_by_another_parser() -> None:
    value = "a\tb\nc\rd <&> 'single' \"double\""
    elem = Element("x", {"v": value})
    text = serialize(elem)
    assert ET.fromstring(text).get("v") == value
    assert parse_document(text).root.get("v") == value
    assert escape_attr("\n") == "&#10;"


def test_text_escaping_keeps_carriage_returns() -> None:
    elem = Element("x")
    elem.text = "line\r\nnext ]]> end"
    assert ET.fromstring(serialize(elem)).text == "line\r\nnext ]]> end"


@pytest.mark.parametrize("bad", ["\x00", "a\x01b", "\x0b", "\ufffe", "\ud800"])
def test_characters_xml_cannot_hold_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="cannot be stored"):
        Element("x", {"a": bad})
    with pytest.raises(ValueError, match="cannot be stored"):
        Element("x").text = bad
    with pytest.raises(ValueError):
        Text("ok").value = bad


def test_comment_content_is_checked() -> None:
    with pytest.raises(ValueError):
        Comment("a -- b")
    assert Comment(" fine ").value == " fine "


@pytest.mark.parametrize(
    "text",
    [
        "",
        "<a>",
        "<a></b>",
        "<a x='1' x='2'/>",
        "<a/><b/>",
        "<a>&undefined;</a>",
        "<!DOCTYPE a [<!ENTITY e 'boom'>]><a>&e;</a>",
    ],
)
def test_malformed_or_dtd_input_is_refused(text: str) -> None:
    with pytest.raises(XMLParseError):
        parse_document(text)


def test_bytes_with_bad_encoding_are_refused() -> None:
    with pytest.raises(XMLParseError, match="decode"):
        parse_document(b"<a>\xff\xfe</a>")


def test_parsed_and_created_elements_are_told_apart() -> None:
    doc = parse_document("<a><b/></a>")
    b = doc.root.find("b")
    assert b is not None and b.parsed
    assert not Element("c").parsed


def test_text_of_a_container_ignores_layout_whitespace() -> None:
    doc = parse_document("<a>\n  <b/>\n</a>")
    assert doc.root.text == ""
    doc.root.text = "v"
    assert serialize(doc.root) == "<a>v\n  <b/>\n</a>"
    doc.root.text = ""
    assert serialize(doc.root) == "<a>\n  <b/>\n</a>"
