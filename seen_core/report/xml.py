"""SpreadsheetML as text: escaping, cells, attributes and the elements' namespace prefix.

The report writes and edits XML as text, never through a parser (see `seen_core.report`): these
are the few patterns it needs, in one place.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from html import escape

# Excel's grid and its limits on a cell's text and on hyperlinks per sheet.
EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_COLUMNS = 16_384
EXCEL_MAX_TEXT = 32_767
EXCEL_MAX_LINKS = 65_530

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


@dataclass(frozen=True)
class Dialect:
    """The namespaces a workbook is written in: ECMA-376's Transitional (what Excel saves by
    default) or Strict (Excel's "Strict Open XML Spreadsheet"). Parts the report adds are
    written in the workbook's own."""

    main: str  # SpreadsheetML's elements
    rel: str  # relationship ids (r:id) and, with a kind after it, relationship types

    def rel_type(self, kind: str) -> str:
        return f"{self.rel}/{kind}"


TRANSITIONAL = Dialect(MAIN_NS, REL_NS)
STRICT = Dialect(
    "http://purl.oclc.org/ooxml/spreadsheetml/main",
    "http://purl.oclc.org/ooxml/officeDocument/relationships",
)
DIALECTS = {d.main: d for d in (TRANSITIONAL, STRICT)}


class NotInPlace(Exception):
    """This XLSX has something the in-place editor does not handle; rebuild the workbook.

    Its text says why in a user's words ("its rows are written without numbers"), for the
    sentence that tells what the rebuilt workbook lacks.
    """


# --- text ----------------------------------------------------------------------------------------

_XML_SPECIAL = re.compile(
    r"[&<>\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]|_x[0-9A-Fa-f]{4}_"
)


def xml_text(text: str) -> str:
    """Text for a <t> element: escaped, control characters as Excel writes them (_x0007_)."""
    if len(text) > EXCEL_MAX_TEXT:
        text = text[:EXCEL_MAX_TEXT]
    if _XML_SPECIAL.search(text) is None:
        return text
    return _XML_SPECIAL.sub(_xml_special, text)


def xml_texts(texts: list[str]) -> list[str]:
    """`xml_text` of each text; the texts themselves when none needs it, found over them all
    joined by line breaks (nothing to escape, and no escaped sequence spans one)."""
    if not texts or max(map(len, texts)) > EXCEL_MAX_TEXT:
        return list(map(xml_text, texts))
    joined = "\n".join(texts)
    if not _plainly_text(joined) and _XML_SPECIAL.search(joined) is not None:
        return list(map(xml_text, texts))
    return texts


def _plainly_text(text: str) -> bool:
    """Whether `text` surely holds nothing `xml_text` changes, by scans in C: no markup
    character, no "_x", and printable but for line breaks (no control character, surrogate or
    non-character). False says only that the pattern must look (a tab, a no-break space)."""
    return (
        "&" not in text
        and "<" not in text
        and ">" not in text
        and "_x" not in text
        and text.replace("\n", " ").isprintable()
    )


def _xml_special(match: re.Match[str]) -> str:
    found = match.group()
    if found == "&":
        return "&amp;"
    if found == "<":
        return "&lt;"
    if found == ">":
        return "&gt;"
    if len(found) > 1:  # a literal _x0041_ in the user's text: its underscore is escaped
        return "_x005F" + found
    return f"_x{ord(found):04X}_"


def attr_text(text: str) -> str:
    """A cell's kind of text (a sheet's name) as an attribute's value."""
    return escape_attr(xml_text(text))


def escape_attr(text: str) -> str:
    """Text as an attribute's value in double quotes (a link, a font's name)."""
    return escape(text, quote=True)


# --- cells ---------------------------------------------------------------------------------------

# Whether any of a row's texts needs more than writing as it is, checked once for the row on
# its texts joined by a character no text needs; a false alarm only costs the careful way.
_JOIN = "\ufffc"

ESCAPE, SPACED = 1, 2  # what a group of texts needs: escaping, or edge spaces kept


def care_needed(texts: Iterable[str]) -> int:
    """What writing `texts` needs beyond putting them in <t> as they are (0: nothing)."""
    texts = list(texts)
    if not texts:
        return 0
    joined = _JOIN.join(texts)
    needs_escape = (
        max(map(len, texts)) > EXCEL_MAX_TEXT
        or not joined.isprintable()  # control characters, and some harmless ones
        or "&" in joined
        or "<" in joined
        or ">" in joined
        or "_x" in joined
    )
    spaced = (
        joined[:1] == " " or joined[-1:] == " " or _JOIN + " " in joined or " " + _JOIN in joined
    )
    return (ESCAPE if needs_escape else 0) | (SPACED if spaced else 0)


def inline_cell(ref: str, text: str, style: int, care: int) -> str:
    """A text cell, for text among texts that need `care` (see `care_needed`)."""
    if care & ESCAPE:
        return text_cell(ref, text, style)
    s = f' s="{style}"' if style else ""
    if care and (text[0] == " " or text[-1] == " "):
        return f'<c r="{ref}"{s} t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'
    return f'<c r="{ref}"{s} t="inlineStr"><is><t>{text}</t></is></c>'


def text_cell(ref: str, text: str, style: int = 0) -> str:
    """An inline-string cell: always text, never a formula, whatever it starts with."""
    s = f' s="{style}"' if style else ""
    body = xml_text(text)
    space = ' xml:space="preserve"' if body[:1].isspace() or body[-1:].isspace() else ""
    return f'<c r="{ref}"{s} t="inlineStr"><is><t{space}>{body}</t></is></c>'


def number_cell(ref: str, number: str, style: int = 0) -> str:
    s = f' s="{style}"' if style else ""
    return f'<c r="{ref}"{s}><v>{number}</v></c>'


def prefixed(cell: str, prefix: str) -> str:
    """A cell we wrote, in a sheet that writes its SpreadsheetML elements with a prefix."""
    return re.sub(r"<(/?)(c|is|t|v)\b", rf"<\1{prefix}\2", cell)


# --- numbers and dates ---------------------------------------------------------------------------

# A cell of a CSV that Excel itself would read as a number without changing what it shows:
# no leading zero (postcodes, IDs), no + (phone numbers), at most 15 digits (Excel's precision).
_CSV_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?")


def number_text(value: float | int) -> str | None:
    """A number as SpreadsheetML writes it, or None for what Excel cannot hold (NaN, inf)."""
    if type(value) is int:
        return str(value) if abs(value) < 10**15 else None
    if math.isnan(value) or math.isinf(value):
        return None
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def plain_number(text: str) -> str | None:
    """`text` as a number cell's value if it is a plain number Excel shows the same way."""
    if text.isdigit() and text.isascii():  # the usual case, without the regular expression
        return text if len(text) <= 15 and (text[0] != "0" or len(text) == 1) else None
    if len(text) > 17 or _CSV_NUMBER.fullmatch(text) is None:
        return None
    if len(text) > 15 and len(text) - text.startswith("-") - ("." in text) > 15:
        return None  # more digits than Excel keeps
    return text


_EPOCH = dt.datetime(1899, 12, 30)


def excel_serial(value: dt.date | dt.datetime | dt.time) -> float | None:
    """Excel's serial number of a date or time (None before 1900-03-01, where Excel miscounts)."""
    if isinstance(value, dt.time):
        return (value.hour * 3600 + value.minute * 60 + value.second) / 86400
    if not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day)
    if value.tzinfo is not None:
        value = value.replace(tzinfo=None)
    if value < dt.datetime(1900, 3, 1):
        return None
    delta = value - _EPOCH
    return delta.days + delta.seconds / 86400


# --- attributes and elements ---------------------------------------------------------------------


def _attribute(name: str, value: str) -> str:
    """The pattern of one attribute in a start tag, `value` its value's pattern, either quote."""
    return rf"\s{name}\s*=\s*[\"']{value}[\"']"


# Attributes of rows and cells, found in the sheet's bytes and in a cell's text.
ROW_NUMBER = re.compile(_attribute("r", r"(\d+)").encode())
CELL_REF = re.compile(_attribute("r", r"([A-Z]+)\d+").encode())
SPANS = re.compile(_attribute("spans", r"[^\"']*").encode())
CELL_STYLE = re.compile(_attribute("s", r"(\d+)").encode())
STYLE_ATTR = re.compile(_attribute("s", r"(\d+)"))
TYPE_ATTR = re.compile(_attribute("t", r"(\w+)"))
CELL_COLUMN = re.compile(r"\sr\s*=\s*[\"']([A-Z]+)")
REL_ID = re.compile(r'\bId\s*=\s*["\']([^"\']+)["\']')

_ATTR = re.compile(r'([\w:.-]+)\s*=\s*(?:"([^"]*)"|\'([^\']*)\')')


def _unescaped(value: str) -> str:
    """An attribute's value with the five entities XML predefines replaced, as
    `xml.sax.saxutils.unescape` with &quot; and &apos; does (without loading it: it loads
    urllib.request, 0.025 s); the ampersand last."""
    if "&" not in value:
        return value
    for entity, char in (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&apos;", "'")):
        value = value.replace(entity, char)
    return value.replace("&amp;", "&")


def attrs(tag: str) -> dict[str, str]:
    """The attributes of a start tag, unescaped."""
    return {m[1]: _unescaped(m[2] if m[2] is not None else m[3])
            for m in _ATTR.finditer(tag)}  # fmt: skip


def set_attrs(tag: str, **values: str) -> str:
    """The element `tag` (raw XML) with its start tag's attributes set to `values`."""
    end = tag.index(">")
    start, rest = tag[:end], tag[end:]
    closing = ""
    if start.endswith("/"):
        start, closing = start[:-1], "/"
    for name, value in values.items():
        pattern = re.compile(rf"(\s{name}\s*=\s*)([\"'])[^\"']*\2")
        if pattern.search(start):
            start = pattern.sub(rf'\g<1>"{value}"', start, count=1)
        else:
            start += f' {name}="{value}"'
    return start + closing + rest


def insert_before_close(text: str, element: str, insert: str) -> str:
    """`insert` just before `</element>` (with any prefix), opening a self-closed element."""
    closes = list(re.finditer(rf"</(?:\w+:)?{element}\s*>", text))
    if closes:
        close = closes[-1]
        return text[: close.start()] + insert + text[close.start() :]
    empty = re.search(rf"<((?:\w+:)?{element})\b([^>]*?)/>", text)
    if empty is None:
        raise NotInPlace
    return (
        text[: empty.start()]
        + f"<{empty.group(1)}{empty.group(2)}>{insert}</{empty.group(1)}>"
        + text[empty.end() :]
    )


def root_prefix(text: str, root: str) -> str:
    """The namespace prefix the part uses for SpreadsheetML ('' or 'x:'), from its root tag."""
    match = re.search(rf"<(\w+:)?{root}\b([^>]*)>", text)
    if match is None:
        raise NotInPlace
    prefix = match.group(1) or ""
    namespace = attrs(match.group(2)).get("xmlns:" + prefix[:-1] if prefix else "xmlns")
    if namespace != MAIN_NS:
        raise NotInPlace  # Strict OOXML and other dialects: rebuilt instead
    return prefix


def namespace_prefix(text: str, namespace: str) -> str | None:
    """The prefix `text` declares for `namespace` ('r' for relationships, say), if any."""
    match = re.search(rf'xmlns:(\w+)\s*=\s*["\']{re.escape(namespace)}["\']', text)
    return match.group(1) if match else None


def declare(text: str, root: str, prefix: str, namespace: str) -> str:
    """`text` with `prefix` declared for `namespace` on its `root` element."""
    return re.sub(rf"(<(?:\w+:)?{root}\b)", rf'\1 xmlns:{prefix}="{namespace}"', text, count=1)


# --- a part read with its namespaces -------------------------------------------------------------

_TAG_END = re.compile(rb"""(?:[^>"']|"[^"]*"|'[^']*')*>""")
_UTF16_DECLARATION = re.compile(
    rb"""^(<\?xml[^>]*?encoding\s*=\s*["'])utf-16(?:[lb]e)?(["'])""", re.I
)


def utf8_xml(data: bytes) -> bytes:
    """An XML part as UTF-8 (a part may be UTF-16, with or without a byte order mark)."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        text = data.decode("utf-16")
    elif data[:4] in (b"<\x00?\x00", b"\x00<\x00?"):
        text = data.decode("utf-16-le" if data[0] == 0x3C else "utf-16-be")
    else:
        return data
    return _UTF16_DECLARATION.sub(rb"\1UTF-8\2", text.encode("utf-8"), count=1)


@dataclass(eq=False)
class Element:
    """One element of a `Part`: its name resolved to a namespace, and where it stands."""

    ns: str  # the namespace of its name ("" for none)
    local: str
    qname: str  # as written: "sheet", "x:sheet"
    start: int  # offset of its "<"
    open_end: int  # offset just after its start tag's ">"
    close: int  # offset of its end tag's "<" (open_end when it has none: <a/>)
    end: int  # offset just after the element
    attrs: dict[str, str]  # attributes as written (qualified names), values unescaped
    scope: dict[str, str]  # prefix ("" for the default) → namespace, inside the element
    parent: Element | None = field(default=None, repr=False)

    @property
    def empty(self) -> bool:
        """Whether it is written as one tag (<a/>), with no end tag."""
        return self.end == self.open_end

    def attr(self, ns: str, local: str) -> str | None:
        """The value of the attribute `local` in namespace `ns` ("" for an unprefixed one)."""
        if not ns:
            return self.attrs.get(local)
        for name, value in self.attrs.items():
            prefix, _, rest = name.partition(":")
            if rest == local and self.scope.get(prefix) == ns:
                return value
        return None


class Part:
    """A small XML part (a workbook's list of sheets, relationships, content types, styles,
    comments) read with expat, so that every element is found by its namespace whatever
    prefix it is written with and wherever that prefix is declared, then edited as text:
    what the report does not change stays byte for byte."""

    def __init__(self, data: bytes) -> None:
        self.data = utf8_xml(data)
        self.elements: list[Element] = []
        self._edits: list[tuple[int, int, int, bytes]] = []
        self._children: dict[int, tuple[Element, list[str]]] = {}
        self._parse()

    def _parse(self) -> None:
        from xml.parsers import expat

        data = self.data
        parser = expat.ParserCreate()
        stack: list[Element] = []
        elements = self.elements

        def start(name: str, attributes: dict[str, str]) -> None:
            at = parser.CurrentByteIndex
            tag = _TAG_END.match(data, at)
            if tag is None:
                raise NotInPlace("a part of it is not well-formed XML")
            parent = stack[-1] if stack else None
            scope = parent.scope if parent else {"xml": "http://www.w3.org/XML/1998/namespace"}
            declared = {
                (k[6:] if k.startswith("xmlns:") else ""): v
                for k, v in attributes.items()
                if k == "xmlns" or k.startswith("xmlns:")
            }
            if declared:
                scope = {**scope, **declared}
            prefix, _, local = name.rpartition(":")
            element = Element(scope.get(prefix, ""), local, name, at, tag.end(), -1, -1,
                              attributes, scope, parent)  # fmt: skip
            stack.append(element)
            elements.append(element)

        def end(name: str) -> None:
            element = stack.pop()
            at = parser.CurrentByteIndex
            if data[element.open_end - 2 : element.open_end] == b"/>" and at == element.open_end:
                element.close = element.end = at
            else:
                element.close = at
                element.end = data.index(b">", at) + 1

        def no_dtd(*_args: object) -> None:
            raise NotInPlace("a part of it declares a document type (SpreadsheetML never does)")

        parser.StartElementHandler = start
        parser.EndElementHandler = end
        parser.StartDoctypeDeclHandler = no_dtd
        try:
            parser.Parse(data, True)
        except expat.ExpatError:
            raise NotInPlace("a part of it is not well-formed XML") from None

    @property
    def root(self) -> Element:
        return self.elements[0]

    def find(self, ns: str, local: str, within: Element | None = None) -> list[Element]:
        """The elements named `local` in namespace `ns`, in document order (inside `within`)."""
        found = [e for e in self.elements if e.local == local and e.ns == ns]
        if within is not None:
            found = [e for e in found if within.start < e.start < within.end]
        return found

    def first(self, ns: str, local: str, within: Element | None = None) -> Element | None:
        found = self.find(ns, local, within)
        return found[0] if found else None

    def text_of(self, element: Element) -> str:
        """The element as written, start tag to end tag."""
        return self.data[element.start : element.end].decode("utf-8")

    def inner(self, element: Element) -> str:
        return self.data[element.open_end : element.close].decode("utf-8")

    # edits ----------------------------------------------------------------------------------

    def replace(self, start: int, end: int, text: str) -> None:
        self._edits.append((start, end, len(self._edits), text.encode("utf-8")))

    def append(self, parent: Element, xml: str) -> None:
        """`xml` as the last child of `parent` (an empty element gets an end tag)."""
        self._children.setdefault(id(parent), (parent, []))[1].append(xml)

    def set_attr(self, element: Element, name: str, value: str) -> None:
        """The attribute `name` (as written, "count") of `element` set to `value`."""
        tag = self.data[element.start : element.open_end]
        found = re.search(rb"\s" + re.escape(name.encode()) + rb"""\s*=\s*(["'])[^"']*\1""", tag)
        if found is not None:
            at = element.start + found.start() + 1
            self.replace(at, element.start + found.end(), f'{name}="{escape_attr(value)}"')
        else:
            at = element.open_end - (2 if element.empty else 1)
            self.replace(at, at, f' {name}="{escape_attr(value)}"')

    def remove(self, element: Element) -> None:
        self.replace(element.start, element.end, "")

    def to_bytes(self) -> bytes:
        if not self.changed():
            return self.data
        edits = list(self._edits)
        for parent, children in self._children.values():
            xml = "".join(children)
            if parent.empty:
                at = parent.open_end - 2
                edits.append((at, parent.open_end, -1, f">{xml}</{parent.qname}>".encode()))
            else:
                edits.append((parent.close, parent.close, 1 << 30, xml.encode()))
        out, done = [], 0
        for start, end, _, text in sorted(edits, key=lambda e: (e[0], e[1] > e[0], e[2])):
            if start < done:
                raise AssertionError("overlapping edits of one part")
            out += [self.data[done:start], text]
            done = end
        out.append(self.data[done:])
        return b"".join(out)

    def changed(self) -> bool:
        return bool(self._edits or self._children)


def element_name(scope: dict[str, str], ns: str, local: str) -> tuple[str, str]:
    """How to write an element `local` of namespace `ns` where `scope` is in force: its
    qualified name, and the declaration it needs on itself ("" when none): ("sheet", ""),
    ("x:sheet", ""), or ("sheet", ' xmlns="…"'). Its children are written with its prefix."""
    if scope.get("") == ns:
        return local, ""
    for prefix, bound in scope.items():
        if prefix and prefix != "xml" and bound == ns:
            return f"{prefix}:{local}", ""
    return local, f' xmlns="{ns}"'


def prefix_of(qname: str) -> str:
    """ "x:" for "x:sheet", "" for "sheet"."""
    prefix, colon, _ = qname.rpartition(":")
    return prefix + colon


def attribute_prefix(scope: dict[str, str], ns: str, preferred: str = "r") -> tuple[str, str]:
    """The prefix for an attribute in namespace `ns` ("r" for r:id) where `scope` is in
    force, and the declaration it needs on its element ("" when the prefix is bound)."""
    for prefix, bound in scope.items():
        if prefix and bound == ns:
            return prefix, ""
    prefix, number = preferred, 1
    while prefix in scope:
        number += 1
        prefix = f"{preferred}{number}"
    return prefix, f' xmlns:{prefix}="{ns}"'
