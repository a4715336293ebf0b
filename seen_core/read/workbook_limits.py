"""A workbook (XLSX/XLSM, ODS) held to the upload limits before any sheet is parsed, by what
it holds rather than by what it declares.

Two steps. `check_package` is cheap and runs where the upload arrives: what the zip directory
says all parts unpack to, each worksheet's declared size where it can be trusted, the shared
strings' longest string. It names the parts whose contents must be looked into instead:
worksheets that declare no size, a size over the limits (a comment or a format in the grid's
last cell makes Excel declare A1:XFD1048576), or are packed so tightly (over 100-fold) that
what they declare means little; tightly packed shared strings; an ODS's tables.
`check_contents` looks into them, in the process that parses an upload: the cells that hold a
value and how far they reach, and the bytes the parts really unpack to.
"""

from __future__ import annotations

import html
import io
import itertools
import posixpath
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

from isal import isal_zlib

from seen_core.read.cells import column_index
from seen_core.read.limits import (
    MB,
    Limits,
    cell_too_long,
    check_extent,
    too_many_cells,
    unpacked_too_much,
)

_CHUNK = 4 * MB
_SMALL_PART = MB  # a part smaller than this is trusted however tightly it is packed
_TIGHT = 100  # unpacked ÷ packed size over which a part is looked into (ordinary sheets: 5–30)
_SHARED_STRINGS = "xl/sharedStrings.xml"
_ODS_CONTENT = "content.xml"

# What reading a damaged, encrypted or oddly compressed part raises.
_DAMAGED = (
    zipfile.BadZipFile,
    zlib.error,
    isal_zlib.error,
    OSError,
    EOFError,
    RuntimeError,
    NotImplementedError,
    KeyError,
)

# A part to look into: (its name in the zip, the sheet's name for the user; "" for others).
Part = tuple[str, str]


def check_workbook(file_name: str, data: bytes, limits: Limits) -> None:
    """Both steps, here: for a file read in this process."""
    check_contents(file_name, data, check_package(file_name, data, limits), limits)


def check_package(file_name: str, data: bytes, limits: Limits) -> list[Part]:
    """The cheap checks (LimitError), and the parts whose contents `check_contents` is to look
    into. A file that is not a zip, or is damaged, is left to the reader, which says so."""
    try:
        book = zipfile.ZipFile(io.BytesIO(data))
        infos = book.infolist()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        return []
    with book:
        total = sum(info.file_size for info in infos)
        if total > limits.unpacked_bytes:
            raise unpacked_too_much(file_name, limits, total)
        names = {info.filename for info in infos}
        try:
            if _ODS_CONTENT in names and "xl/workbook.xml" not in names:
                return [(_ODS_CONTENT, "")]
            parts = [
                (part, sheet)
                for part, sheet in sheet_parts(book, names).items()
                if not _trusted(book.getinfo(part), book, limits)
            ]
            if _SHARED_STRINGS in names:
                strings = book.getinfo(_SHARED_STRINGS)
                if _tight(strings):
                    parts.append((_SHARED_STRINGS, ""))
                else:
                    most = limits.unpacked_bytes - (total - strings.file_size)
                    chunks = _unpacked(data, book, strings, most, file_name, limits)
                    _check_long_strings(file_name, chunks, limits)
        except _DAMAGED:
            return []
        return parts


def check_contents(file_name: str, data: bytes, parts: list[Part], limits: Limits) -> None:
    """What these parts hold (LimitError): a worksheet's cells with a value, how many and how
    far they reach; the shared strings' longest; an ODS's tables as a reader expands them;
    and for each, what it really unpacks to."""
    if not parts:
        return
    try:
        book = zipfile.ZipFile(io.BytesIO(data))
        infos = {info.filename: info for info in book.infolist()}
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        return
    with book:
        declared = sum(info.file_size for info in infos.values())
        try:
            for part, sheet in parts:
                info = infos[part]
                # The most this part may unpack to, with the others as their directory says.
                most = limits.unpacked_bytes - (declared - info.file_size)

                def chunks(info: zipfile.ZipInfo = info, most: int = most) -> Iterator[bytes]:
                    return _unpacked(data, book, info, most, file_name, limits)

                if part == _ODS_CONTENT:
                    _check_ods(file_name, chunks(), limits)
                elif part == _SHARED_STRINGS:
                    _check_long_strings(file_name, chunks(), limits)
                else:
                    _check_cells(f"The sheet '{sheet}' in '{file_name}'", chunks, limits)
        except _DAMAGED:
            return  # damaged or encrypted: the reader gives its own sentence


# --- the package: which parts can be trusted -----------------------------------------------------

_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\s[^>]*?\bref\s*=\s*[\"']([^\"']*)[\"']")
_SHEET_DATA = re.compile(rb"<(?:\w+:)?sheetData[\s>/]")
_CELL_REF = re.compile(r"\$?([A-Za-z]{1,4})\$?(\d{1,9})")
_SHEET_ENTRY = re.compile(r"<(?:\w+:)?sheet\s[^>]*>")
_ATTRIBUTE = re.compile(r"([\w:]+)\s*=\s*[\"']([^\"']*)[\"']")
_RELATIONSHIP = re.compile(r"<(?:\w+:)?Relationship\s[^>]*>")


def sheet_parts(book: zipfile.ZipFile, names: set[str]) -> dict[str, str]:
    """Worksheet part → sheet name, from workbook.xml and its relationships (best effort)."""
    parts: dict[str, str] = {}
    try:
        workbook = book.read("xl/workbook.xml")[: 4 * MB].decode("utf-8", "replace")
        rels = book.read("xl/_rels/workbook.xml.rels")[: 4 * MB].decode("utf-8", "replace")
    except (KeyError, zipfile.BadZipFile, OSError, EOFError):
        workbook = rels = ""
    targets = {}
    for tag in _RELATIONSHIP.findall(rels):
        found = _attributes(tag)
        if "Id" in found and "Target" in found:
            target = found["Target"]
            target = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
            targets[found["Id"]] = posixpath.normpath(target)
    for tag in _SHEET_ENTRY.findall(workbook):
        found = _attributes(tag)
        part = targets.get(found.get("id", ""))
        if part in names:
            parts[part] = found.get("name", part)
    for name in names:  # a worksheet part the relationships did not name is checked all the same
        if re.fullmatch(r"xl/worksheets/[^/]+\.xml", name) and name not in parts:
            parts[name] = Path(name).stem
    return parts


def _attributes(tag: str) -> dict[str, str]:
    return {name.split(":")[-1]: html.unescape(value) for name, value in _ATTRIBUTE.findall(tag)}


def _tight(info: zipfile.ZipInfo) -> bool:
    return info.file_size >= _SMALL_PART and info.file_size > _TIGHT * max(info.compress_size, 1)


def _trusted(info: zipfile.ZipInfo, book: zipfile.ZipFile, limits: Limits) -> bool:
    """Whether a worksheet's declared size can stand for what it holds: it declares one, within
    the limits, and is not packed so tightly that it could hold far more."""
    if _tight(info):
        return False
    with book.open(info) as stream:
        head = stream.read(64 * 1024)
        while not (declared := _DIMENSION.search(head)):
            more = b"" if _SHEET_DATA.search(head) or len(head) > _CHUNK else stream.read(_CHUNK)
            if not more:
                return False
            head += more
    match = _CELL_REF.fullmatch(declared[1].decode("ascii", "replace").strip().split(":")[-1])
    if not match:
        return False
    rows, columns = int(match[2]), column_index(match[1]) + 1
    return rows <= limits.rows and columns <= limits.columns and rows * columns <= limits.cells


# --- the contents: what the parts hold -----------------------------------------------------------


def packed_part(data: bytes, info: zipfile.ZipInfo) -> memoryview | None:
    """A part's bytes as packed in `data`, or None where they cannot be found as they are
    (encrypted, an unknown method, a local header that is not where the directory says)."""
    if info.flag_bits & 0x1 or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        return None
    at = info.header_offset
    if data[at : at + 4] != b"PK\x03\x04":
        return None
    name_length, extra_length = struct.unpack_from("<HH", data, at + 26)
    begin = at + 30 + name_length + extra_length
    packed = memoryview(data)[begin : begin + info.compress_size]
    return packed if len(packed) == info.compress_size else None


def _unpacked(
    data: bytes,
    book: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    most: int,
    file_name: str,
    limits: Limits,
) -> Iterator[bytes]:
    """The part's bytes as they unpack, in chunks of up to 4 MB; inflated here from the packed
    bytes, so what counts is what the part holds whatever the directory says of it. Over
    `most` bytes: LimitError."""
    packed = packed_part(data, info)
    if packed is None:
        chunks = _streamed(book, info)
    elif info.compress_type == zipfile.ZIP_STORED:
        chunks = (bytes(packed[at : at + _CHUNK]) for at in range(0, len(packed), _CHUNK))
    else:
        chunks = _inflated(packed)
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > most:
            raise unpacked_too_much(file_name, limits)
        yield chunk


def _streamed(book: zipfile.ZipFile, info: zipfile.ZipInfo) -> Iterator[bytes]:
    with book.open(info) as part:
        while chunk := part.read(_CHUNK):
            yield chunk


def _inflated(packed: memoryview) -> Iterator[bytes]:
    inflater = isal_zlib.decompressobj(-15)
    for at in range(0, len(packed), MB):
        rest: bytes | memoryview = packed[at : at + MB]
        while rest and not inflater.eof:
            chunk = inflater.decompress(rest, _CHUNK)
            rest = inflater.unconsumed_tail
            if chunk:
                yield chunk
        if inflater.eof:
            return
    if tail := inflater.flush():
        yield tail


def _check_long_strings(file_name: str, chunks: Iterator[bytes], limits: Limits) -> None:
    """The shared strings: a string's XML is at most a few bytes per character (UTF-8, an
    escape, a run's markup), so a stretch with no string boundary longer than that is a cell
    over the limit."""
    most = limits.cell_chars * 8 + 4096
    read = last_boundary = 0
    for chunk in chunks:
        boundary = chunk.rfind(b"si>")
        if boundary >= 0:
            last_boundary = read + boundary
        read += len(chunk)
        if read - last_boundary > most + _CHUNK:
            raise cell_too_long(f"'{file_name}'", limits)


# Where a worksheet's tags are prefixed (`<x:c>`), and a cell with a value (`<v>`, or `<is>` for
# text written in the cell): one calamine keeps, however far out it is.
_ROOT = re.compile(rb"<(\w+:)?worksheet[\s>]")
# A cell with a value and a reference (every cell, as most programs write them): its column
# letters and row. A formula may come before the value.
_VALUED_CELL = re.compile(
    rb"<(?:\w+:)?c\s[^>]*?\br\s*=\s*[\"']\$?([A-Za-z]{1,3})\$?(\d{1,7})[\"'][^>]*?(?<!/)>"
    rb"(?:\s*<(?:\w+:)?f\b(?:[^>]*/>|[^>]*>[^<]*</(?:\w+:)?f>))?\s*<(?:\w+:)?(?:v|is)\b"
)
_ROW_NUMBER = re.compile(rb"\sr\s*=\s*[\"'](\d{1,12})")


class _Tags:
    """A worksheet's tags as bytes, with its prefix."""

    def __init__(self, prefix: bytes) -> None:
        self.row = b"<" + prefix + b"row"
        self.cells = (b"<" + prefix + b"c ", b"<" + prefix + b"c>", b"<" + prefix + b"c/")
        self.cell = b"<" + prefix + b"c"  # within a row, only a cell starts so
        self.values = (b"<" + prefix + b"v", b"<" + prefix + b"is")
        self.closed = b"</" + prefix + b"c>"  # a cell that is not empty: a value or a formula


def _check_cells(where: str, chunks: Callable[[], Iterator[bytes]], limits: Limits) -> None:
    """A worksheet held to the limits by its cells that hold a value: first how many there are
    (counted in C, so that a sheet of millions is refused before any is looked at one by one),
    then how far they reach: the rows and columns calamine would make of them."""
    tags = _Tags(b"")
    count = 0
    for number, chunk in enumerate(chunks()):
        if number == 0 and (root := _ROOT.search(chunk)) and root[1]:
            tags = _Tags(root[1])
        count += chunk.count(tags.closed)
        if count > limits.cells:
            raise too_many_cells(where, limits)
    rows = columns = 0  # how far the cells with a value reach
    row = column = 0  # the row and cell last passed, for a cell without a reference
    pending = b""
    for chunk in itertools.chain(chunks(), [b""]):
        pending += chunk
        # Up to the last row or cell that starts here: a cell and its value stay together.
        cut = max(pending.rfind(tag) for tag in (tags.row, *tags.cells)) if chunk else len(pending)
        if cut <= 0:
            cut = len(pending) if len(pending) > 2 * _CHUNK else 0
        piece, pending = pending[:cut], pending[cut:]
        values = sum(map(piece.count, tags.values))
        # (Only where some cell can have a reference: a cell without one is slow to rule out.)
        refs = piece.count(b' r="') + piece.count(b" r='") - piece.count(tags.row)
        found = _VALUED_CELL.findall(piece) if values and refs > 0 else []
        if found:
            rows = max(rows, *map(int, (number for _, number in found)))
            columns = max(columns, *(column_index(x.decode()) + 1 for x in {c for c, _ in found}))
        if len(found) < values:  # cells without a reference: where each is, one by one
            row, column, reach = _by_place(piece, row, column, tags)
            rows, columns = max(rows, reach[0]), max(columns, reach[1])
        elif (last := piece.rfind(tags.row)) >= 0:
            head = _ROW_NUMBER.search(piece, last, piece.find(b">", last))
            row = int(head[1]) if head else row + piece.count(tags.row)
            column = 0
        check_extent(where, rows, columns, limits)


def _by_place(piece: bytes, row: int, column: int, tags: _Tags) -> tuple[int, int, tuple[int, int]]:
    """Rows and cells in turn, a row at a time, for cells without a reference: a row is one
    after the row before unless it says its number, a cell one after the cell before. Gives
    the row and column last passed, and how far cells that are not empty reach (a formula
    without a value counts too, so this may say a little more than calamine keeps)."""
    rows = columns = 0
    for number, part in enumerate(piece.split(tags.row)):
        if number:  # a row starts: its number, then its cells
            end = part.find(b">") + 1
            head = _ROW_NUMBER.search(part, 0, end)
            row, column = (int(head[1]) if head else row + 1), 0
            part = part[end:]
        last = part.rfind(tags.closed)
        if last >= 0:
            rows = max(rows, row)
            columns = max(columns, column + part.count(tags.cell, 0, last))
        column += part.count(tags.cell)
    return row, column, (rows, columns)


_ODS_TAG = re.compile(
    rb"<(/?)table:(table-row|table-cell|covered-table-cell|table)(?=[\s/>])([^>]*?)(/?)>", re.DOTALL
)
_ODS_REPEAT = re.compile(rb"number-(?:rows|columns)-repeated\s*=\s*[\"'](\d{1,12})[\"']")
_ODS_NAME = re.compile(rb"table:name\s*=\s*[\"']([^\"']*)[\"']")


def _check_ods(file_name: str, chunks: Iterator[bytes], limits: Limits) -> None:
    """The extent of each ODS table as a reader expands it: repeated rows and columns that hold
    a value count as often as they are repeated; trailing empty repeats (every ODS has them)
    do not."""
    name = ""
    row = rows = columns = 0  # rows read so far, and the extent of the cells with a value
    column = row_end = 0  # in the current row: columns read, and the end of the last value
    repeat_row = 1
    pending = b""
    for chunk in itertools.chain(chunks, [b"<"]):
        pending += chunk
        cut = pending.rfind(b"<")
        for closing, kind, attributes, empty in _ODS_TAG.findall(pending, 0, cut):
            repeated = _ODS_REPEAT.search(attributes)
            times = int(repeated[1]) if repeated else 1
            if kind == b"table":
                if not closing:
                    named = _ODS_NAME.search(attributes)
                    name = html.unescape(named[1].decode("utf-8", "replace")) if named else ""
                    row = rows = columns = 0
            elif kind == b"table-row":
                if closing:
                    if row_end:
                        rows = row + repeat_row
                        columns = max(columns, row_end)
                    row += repeat_row
                    where = f"The sheet '{name}' in '{file_name}'"
                    check_extent(where, rows, columns, limits)
                else:
                    repeat_row, column, row_end = times, 0, 0
                    if empty:  # <table:table-row/>: a row with no cells
                        row += times
            elif not closing:  # a cell, or a covered cell under a merged one
                column += times
                if not empty or b"value-type" in attributes:
                    row_end = column
        pending = pending[cut:]
