"""Upload limits: how large a file, a workbook's parts, a sheet and a cell may be, checked early.

A spreadsheet can be small on disk and enormous once read: a zip part that unpacks a
thousand-fold, a sheet that declares cells up to XFD1048576, a single string of a gigabyte.
These checks look at a workbook's zip directory and stream the few parts that matter, before
any reader builds the sheet in memory. What they cannot see (a workbook crafted to lie about
itself) is stopped by the memory limit of the separate process that parses uploads
(`isolated.read_sheet_isolated`).
"""

from __future__ import annotations

import html
import io
import itertools
import os
import posixpath
import re
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from pathlib import Path

from seen_core.errors import ConfigurationError, SheetError
from seen_core.read.cells import column_index

MB = 1024 * 1024
EXCEL_ROWS = 1_048_576
EXCEL_COLUMNS = 16_384
EXCEL_CELL_CHARS = 32_767

_CHUNK = 4 * MB
_SMALL_PART = MB  # parts smaller than this are not judged by their compression ratio


# What zipfile raises for a damaged, encrypted or oddly compressed part.
_DAMAGED = (zipfile.BadZipFile, zlib.error, OSError, EOFError, RuntimeError, NotImplementedError)


class LimitError(SheetError):
    """A file goes beyond one of the upload limits; the message names the limit."""


@dataclass(frozen=True)
class Limits:
    """The most an uploaded file may hold. Defaults fit Excel's grid and 100,000-row sends.

    Each can be set in the environment (see `ENVIRONMENT`), e.g. `SEEN_MAX_UPLOAD_MB=100`.
    """

    upload_mb: int = 50  # the file as uploaded
    unpacked_mb: int = 500  # all parts of an XLSX/XLSM/ODS once unzipped
    compression_ratio: int = 100  # unpacked ÷ packed size of one part (ordinary sheets: 5–30)
    rows: int = EXCEL_ROWS  # rows of one sheet, title and header rows included
    columns: int = EXCEL_COLUMNS
    cells: int = 10_000_000  # rows × columns of one sheet: 100,000 rows × 100 columns
    cell_chars: int = EXCEL_CELL_CHARS  # characters in one cell, as in Excel
    parse_memory_mb: int = 2048  # the process that parses an upload (read_sheet_isolated)
    parse_seconds: float = 120  # ... and the time it may take

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Limits:
        """The defaults, with any limit set in the environment (`SEEN_MAX_ROWS=200000`, ...)."""
        environ = os.environ if environ is None else environ
        values: dict[str, float] = {}
        for name, variable in ENVIRONMENT.items():
            text = environ.get(variable, "").strip().replace("_", "")
            if not text:
                continue
            if not text.isdigit() or int(text) < 1:
                raise ConfigurationError(
                    f"{variable} must be a whole number above 0, not '{environ[variable]}'."
                )
            values[name] = int(text)
        return cls(**values)  # type: ignore[arg-type]

    @property
    def upload_bytes(self) -> int:
        return self.upload_mb * MB

    @property
    def unpacked_bytes(self) -> int:
        return self.unpacked_mb * MB


ENVIRONMENT: dict[str, str] = {
    "upload_mb": "SEEN_MAX_UPLOAD_MB",
    "unpacked_mb": "SEEN_MAX_UNPACKED_MB",
    "compression_ratio": "SEEN_MAX_COMPRESSION_RATIO",
    "rows": "SEEN_MAX_ROWS",
    "columns": "SEEN_MAX_COLUMNS",
    "cells": "SEEN_MAX_CELLS",
    "cell_chars": "SEEN_MAX_CELL_CHARS",
    "parse_memory_mb": "SEEN_PARSE_MEMORY_MB",
    "parse_seconds": "SEEN_PARSE_SECONDS",
}
assert set(ENVIRONMENT) == {f.name for f in fields(Limits)}


# --- one sentence per limit ----------------------------------------------------------------------


def _mb(size: int) -> str:
    if size < MB:
        return f"{size / 1024:,.0f} KB"
    return f"{size / MB:,.1f} MB" if size < 10 * MB else f"{size // MB:,} MB"


def check_upload_size(file_name: str, size: int, limits: Limits) -> None:
    """Refuse a file larger than the upload limit, before it is read."""
    if size > limits.upload_bytes:
        raise LimitError(
            f"'{file_name}' is {_mb(size)}, over the limit of {limits.upload_mb:,} MB "
            "for one upload."
        )


def check_extent(
    where: str, rows: int, columns: int, limits: Limits, *, declared: bool = False
) -> None:
    """Refuse a sheet with more rows, columns or cells than the limits allow.

    `where` names the sheet for the user ("The sheet 'Ark1' in 'kunder.xlsx'").
    """
    has = "declares a size of" if declared else "has"
    if rows > limits.rows:
        raise LimitError(f"{where} {has} {rows:,} rows, over the limit of {limits.rows:,} rows.")
    if columns > limits.columns:
        raise LimitError(
            f"{where} {has} {columns:,} columns, over the limit of {limits.columns:,} columns."
        )
    if rows * columns > limits.cells:
        raise LimitError(
            f"{where} {has} {rows:,} rows × {columns:,} columns = {rows * columns:,} cells, "
            f"over the limit of {limits.cells:,} cells."
        )


def cell_too_long(where: str, limits: Limits, row: int | None = None) -> LimitError:
    """The refusal of a cell longer than the limit (row: the spreadsheet row, when known)."""
    place = f"Row {row:,} of {where[0].lower()}{where[1:]}" if row else where
    return LimitError(
        f"{place} holds a cell of more than {limits.cell_chars:,} characters, "
        "the limit for one cell."
    )


def check_cell_lengths(
    where: str, columns: list[list[str]], limits: Limits, first_row: int = 0
) -> None:
    """Refuse cells of text, given as columns, where one cell is longer than the limit.
    `first_row`: the 0-based sheet row the columns start at (a piece of a sheet)."""
    most = limits.cell_chars
    if max(map(len, itertools.chain.from_iterable(columns)), default=0) <= most:  # one pass in C
        return
    row = min(
        next(i for i, value in enumerate(column) if len(value) > most)
        for column in columns
        if max(map(len, column), default=0) > most
    )
    raise cell_too_long(where, limits, first_row + row + 1)


# --- workbooks: the zip directory, declared and actual extents, long strings --------------------

_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\s[^>]*?\bref\s*=\s*[\"']([^\"']*)[\"']")
_SHEET_DATA = re.compile(rb"<(?:\w+:)?sheetData[\s>/]")
_REF = re.compile(rb"\br\s*=\s*[\"']\$?([A-Za-z]{0,4})\$?(\d{1,9})[\"']")
_CELL_REF = re.compile(r"\$?([A-Za-z]{1,4})\$?(\d{1,9})")
_SHEET_ENTRY = re.compile(r"<(?:\w+:)?sheet\s[^>]*>")
_ATTRIBUTE = re.compile(r"([\w:]+)\s*=\s*[\"']([^\"']*)[\"']")
_RELATIONSHIP = re.compile(r"<(?:\w+:)?Relationship\s[^>]*>")


def _declared_extent(ref: str) -> tuple[int, int] | None:
    """(rows, columns) up to the last cell of a `<dimension ref="A1:H100">`, or None."""
    last = ref.strip().split(":")[-1]
    match = _CELL_REF.fullmatch(last)
    if not match:
        return None
    return int(match[2]), column_index(match[1]) + 1


def _stream(book: zipfile.ZipFile, info: zipfile.ZipInfo) -> Iterator[bytes]:
    with book.open(info) as part:
        while chunk := part.read(_CHUNK):
            yield chunk


def _attributes(tag: str) -> dict[str, str]:
    return {name.split(":")[-1]: html.unescape(value) for name, value in _ATTRIBUTE.findall(tag)}


def _xlsx_sheet_parts(book: zipfile.ZipFile, names: set[str]) -> dict[str, str]:
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


def check_workbook(file_name: str, data: bytes, limits: Limits) -> None:
    """Check an XLSX/XLSM/ODS against the limits without building any sheet.

    Looks at the zip directory (unpacked size, compression ratio of each part), then streams
    the parts a reader would hold in memory at once: each worksheet's declared extent
    (`<dimension ref=…>`, at its head) or, where a worksheet declares none, the extent its
    cells reach; the shared strings for a cell longer than the limit; an ODS's tables with
    their repeated rows and columns. A file that is not a zip is left to the reader, which
    says it is damaged.
    """
    try:
        book = zipfile.ZipFile(io.BytesIO(data))
        infos = book.infolist()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        return
    with book:
        total = sum(info.file_size for info in infos)
        if total > limits.unpacked_bytes:
            raise LimitError(
                f"'{file_name}' unpacks to {_mb(total)}, over the limit of "
                f"{limits.unpacked_mb:,} MB for the contents of a workbook."
            )
        for info in infos:
            if info.file_size >= _SMALL_PART and info.file_size > limits.compression_ratio * max(
                info.compress_size, 1
            ):
                raise LimitError(
                    f"'{file_name}' holds a part packed "
                    f"{info.file_size // max(info.compress_size, 1):,}-fold, over the limit of "
                    f"{limits.compression_ratio:,}-fold; an ordinary spreadsheet is packed "
                    "less than 30-fold."
                )
        names = {info.filename for info in infos}
        try:
            if "content.xml" in names and "xl/workbook.xml" not in names:
                _check_ods(file_name, book, book.getinfo("content.xml"), limits)
                return
            for part, sheet in _xlsx_sheet_parts(book, names).items():
                _check_worksheet(f"The sheet '{sheet}' in '{file_name}'", book, part, limits)
            if "xl/sharedStrings.xml" in names:
                _check_shared_strings(file_name, book, book.getinfo("xl/sharedStrings.xml"), limits)
        except (
            zipfile.BadZipFile,
            zlib.error,
            OSError,
            EOFError,
            RuntimeError,
            NotImplementedError,
        ):
            return  # damaged or encrypted: the reader gives its own sentence


def _check_worksheet(where: str, book: zipfile.ZipFile, part: str, limits: Limits) -> None:
    with book.open(part) as stream:
        head = stream.read(64 * 1024)
        while True:
            declared = _DIMENSION.search(head)
            if declared:
                extent = _declared_extent(declared[1].decode("ascii", "replace"))
                if extent:
                    check_extent(where, *extent, limits, declared=True)
                    return
                break
            more = b"" if _SHEET_DATA.search(head) or len(head) > _CHUNK else stream.read(_CHUNK)
            if not more:
                break
            head += more
        # No usable dimension: find how far the cells reach (slower, but such files are rare).
        rows = columns = 0
        pending = head
        while True:
            chunk = stream.read(_CHUNK)
            pending += chunk
            cut = pending.rfind(b"<") if chunk else len(pending)
            cut = len(pending) if cut < 0 else cut
            found = _REF.findall(pending, 0, cut)
            if found:
                letters = {f[0] for f in found if f[0]}
                columns = max(columns, *(column_index(x.decode()) + 1 for x in letters), 0)
                rows = max(rows, *(int(f[1]) for f in found))
                check_extent(where, rows, columns, limits)
            pending = pending[cut:]
            if not chunk:
                return


def _check_shared_strings(
    file_name: str, book: zipfile.ZipFile, info: zipfile.ZipInfo, limits: Limits
) -> None:
    # A string's XML is at most a few bytes per character (UTF-8, an escape, a run's markup);
    # a stretch of the part with no string boundary longer than that is a cell over the limit.
    most = limits.cell_chars * 8 + 4096
    read = last_boundary = 0
    for chunk in _stream(book, info):
        boundary = chunk.rfind(b"si>")
        if boundary >= 0:
            last_boundary = read + boundary
        read += len(chunk)
        if read - last_boundary > most + _CHUNK:
            raise cell_too_long(f"'{file_name}'", limits)
        if read > limits.unpacked_bytes:  # the zip directory understated this part
            raise LimitError(
                f"'{file_name}' unpacks to more than the limit of {limits.unpacked_mb:,} MB "
                "for the contents of a workbook."
            )


_ODS_TAG = re.compile(
    rb"<(/?)table:(table-row|table-cell|covered-table-cell|table)(?=[\s/>])([^>]*?)(/?)>", re.DOTALL
)
_ODS_REPEAT = re.compile(rb"number-(?:rows|columns)-repeated\s*=\s*[\"'](\d{1,12})[\"']")
_ODS_NAME = re.compile(rb"table:name\s*=\s*[\"']([^\"']*)[\"']")


def _check_ods(
    file_name: str, book: zipfile.ZipFile, info: zipfile.ZipInfo, limits: Limits
) -> None:
    """The extent of each ODS table as a reader expands it: repeated rows and columns that hold
    a value count as often as they are repeated; trailing empty repeats (every ODS has them)
    do not."""
    name = ""
    row = rows = columns = 0  # rows read so far, and the extent of the cells with a value
    column = row_end = 0  # in the current row: columns read, and the end of the last value
    repeat_row = 1
    pending = b""
    for chunk in itertools.chain(_stream(book, info), [b"<"]):
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
