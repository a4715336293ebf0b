"""Read a receiver sheet (CSV, XLSX/XLSM, XLS, ODS) into cells of text, as the user sees them.

Every read is held to the upload limits (`limits.Limits`). `read_sheet` parses in this process,
for files one trusts; `read_sheet_isolated` parses in a process of its own with a memory and a
time limit, so a file made to exhaust memory or abort its reader ends only that parse.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import itertools
import logging
import math
import pickle
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import python_calamine

from seen_core import interpreter as bulk
from seen_core.errors import SheetError
from seen_core.interpreter import gc_paused
from seen_core.read import xlsx_pieces
from seen_core.read.cells import cell_text, column_letter
from seen_core.read.limits import (
    LimitError,
    Limits,
    cell_too_long,
    check_cell_lengths,
    check_extent,
    check_upload_size,
    check_workbook,
)
from seen_core.read.text_table import TextTable

if TYPE_CHECKING:
    import pandas as pd

Cell = TypeVar("Cell")  # a cell as calamine gives it, or as text

WORKBOOK_TYPES = (".xlsx", ".xlsm", ".xls", ".ods")
FILE_TYPES = (".csv", ".txt", *WORKBOOK_TYPES)
DELIMITERS = (",", ";", "\t", "|")
HEADER_SEARCH_ROWS = 30  # title rows above the header are rarely more than a handful
PREVIEW_ROWS = 12

_MAKING_TABLES = threading.Lock()

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # XLS, and also password-protected XLSX


@dataclass
class Sheet:
    """One sheet of the user's file, every cell as text ("" when empty).

    `text` has the user's columns (made unique) in their order, and the spreadsheet row
    number of each person (header on row 1 → first person is row 2); `table` is the same as
    a DataFrame indexed by row number, made when first asked for (a command never does).
    """

    file_name: str
    sha256: str
    sheet_names: list[str]  # [] for CSV
    sheet_name: str | None  # None for CSV
    header_row: int  # spreadsheet row number of the header
    columns: list[str]
    text: TextTable
    blank_rows: int = 0  # blank rows below the header that were dropped
    preview: list[list[str]] = field(default_factory=list)  # first rows of the raw grid, as text

    @property
    def table(self) -> pd.DataFrame:
        made = self.__dict__.get("_table")
        if made is None:
            with _MAKING_TABLES:  # once, whichever thread asks first: the app compares tables
                made = self.__dict__.get("_table")  # by identity (a change makes a new one)
                if made is None:
                    made = self.__dict__["_table"] = self.text.frame()
        return made

    @property
    def table_made(self) -> pd.DataFrame | None:
        """`table` if it was asked for already, else None (without making it)."""
        return self.__dict__.get("_table")

    @property
    def rows(self) -> int:
        return len(self.text)


# --- cells as text -------------------------------------------------------------------------------


def _text_columns(grid: list[list[object]]) -> list[list[str]]:
    """Every cell as text, a column at a time (`columns_of` the grid): a column of text only
    (names, e-mails) is taken as it is; in the others, numbers and dates become text."""
    return [_column_text(column) for column in columns_of(grid)]


def _column_text(column: list[object]) -> list[str]:
    kinds = set(map(type, column))
    if kinds == {str}:
        return column
    if kinds <= {str, float}:  # phone numbers and ids stored as numbers: whole numbers, mostly
        return [
            c if type(c) is str else str(int(c)) if c.is_integer() else cell_text(c) for c in column
        ]
    if kinds <= {str, dt.date}:  # a column of dates
        return [c if type(c) is str else c.isoformat() for c in column]
    return [c if type(c) is str else cell_text(c) for c in column]


# --- file types ----------------------------------------------------------------------------------


def _suffix(file_name: str) -> str:
    return Path(file_name).suffix.lower()


def _check_type(file_name: str, data: bytes, limits: Limits) -> str:
    """Which reader to use: 'csv' or 'workbook'. Raises SheetError with one sentence."""
    suffix = _suffix(file_name)
    if not data:
        raise SheetError(f"'{file_name}' is empty.")
    check_upload_size(file_name, len(data), limits)
    if suffix not in FILE_TYPES:
        shown = f"a {suffix} file" if suffix else "a file without an extension"
        raise SheetError(
            f"'{file_name}' is {shown}; SEEN Sender reads CSV, XLSX, XLSM, XLS and ODS files."
        )
    if suffix in (".xlsx", ".xlsm", ".ods") and data.startswith(_OLE_MAGIC):
        raise SheetError(
            f"'{file_name}' is password-protected; save it without a password and upload it again."
        )
    if suffix in WORKBOOK_TYPES:
        return "workbook"
    if data.startswith((_ZIP_MAGIC, _OLE_MAGIC)):
        raise SheetError(
            f"'{file_name}' is a workbook with a CSV name; "
            "rename it to .xlsx or .xls and upload it again."
        )
    return "csv"


# --- CSV ----------------------------------------------------------------------------------------


# A letter of a Western language in UTF-8 (æ ø å é ü …: C3 and a continuation byte), a no-break
# space or a sign such as « or °, or typographic punctuation (’ “ ” – — € …). Text in an 8-bit
# code holds none of these pairs by accident: there, Ã or Â before ¸, ™ or ’ is garbled text.
# (Each pattern starts with its lead byte: a search for a byte is fast, one for a set is not.)
_UTF8_WESTERN = tuple(
    map(re.compile, (rb"\xc3[\x80-\xbf]", rb"\xc2[\x80-\xbf]", rb"\xe2[\x80-\x82][\x80-\xbf]"))
)


def decode_text(data: bytes) -> str:
    """Decode CSV bytes: UTF-8 (± BOM), UTF-16 with BOM, else a detected Western 8-bit code;
    a file that mixes UTF-8 and Windows-1252 lines line by line (`decode_mixed`)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:  # a cut-off or fake BOM: let the checks below judge the bytes
            pass
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    mixed = decode_mixed(data)
    if mixed is not None:
        return mixed
    from charset_normalizer import from_bytes

    # Exports from Norwegian CRMs are Windows-1252 nearly always; let the detector choose only
    # among the Western single-byte codes, and prefer cp1252 where it and Latin-1 agree.
    best = from_bytes(
        data[:200_000], cp_isolation=["cp1252", "latin_1", "iso8859_15", "mac_roman", "cp850"]
    ).best()
    encoding = best.encoding if best is not None else "cp1252"
    if encoding in ("latin_1", "iso8859_15"):
        encoding = "cp1252"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        return data.decode("latin_1")


def decode_mixed(data: bytes) -> str | None:
    """Bytes that are not UTF-8 as a whole, but hold lines that are, decoded line by line: as
    UTF-8 where a line is valid UTF-8, else as Windows-1252 (Latin-1 for the five bytes that
    code leaves out). None when the bytes hold no Western letter in UTF-8: one 8-bit code then.

    Such files come from rows pasted or appended from another export: a UTF-8 "Bjørn" and a
    Windows-1252 "Bjørn" are then both read as "Bjørn".
    """
    if not any(pattern.search(data) for pattern in _UTF8_WESTERN):
        return None
    return "\n".join(map(_decode_line, data.removeprefix(b"\xef\xbb\xbf").split(b"\n")))


def _decode_line(line: bytes) -> str:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return line.decode("cp1252")
    except UnicodeDecodeError:
        return line.decode("latin_1")


def _looks_binary(text: str) -> bool:
    sample = text[:4096]
    if "\x00" in sample:
        return True
    controls = sum(1 for c in sample if ord(c) < 32 and c not in "\r\n\t\f")
    return controls > max(3, len(sample) // 100)


def sniff_delimiter(text: str) -> str:
    """The delimiter (`,` `;` tab `|`) that splits the most lines into the same number of fields."""
    lines = [line for line in text[:1_000_000].splitlines()[:60] if line.strip()]
    best, best_score = ",", (0, 0)
    for delimiter in DELIMITERS:
        try:
            widths = [len(r) for r in csv.reader(lines, delimiter=delimiter)]
        except csv.Error:  # e.g. a cell over the length limit: reading the file will say so
            continue
        widths = [w for w in widths if w > 1]
        if not widths:
            continue
        common = max(set(widths), key=widths.count)
        score = (widths.count(common), common)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _read_csv_grid(file_name: str, data: bytes, limits: Limits) -> list[list[str]]:
    text = decode_text(data)
    if _looks_binary(text):
        raise SheetError(f"'{file_name}' does not look like a CSV file: it holds binary data.")
    delimiter = sniff_delimiter(text)
    # The csv module's field limit is the cell limit, checked in C as it reads. It is a setting
    # of the whole process; this is the only CSV reader in SEEN Sender.
    csv.field_size_limit(limits.cell_chars)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    grid: list[list[str]] = []
    width, most_rows, most_columns, most_cells = 0, limits.rows, limits.columns, limits.cells
    try:
        for row in reader:  # rows, columns and cells counted as they come: memory stays bounded
            grid.append(row)
            if len(row) > width:
                width = len(row)
            if len(grid) > most_rows or width > most_columns or len(grid) * width > most_cells:
                check_extent(f"'{file_name}'", len(grid), width, limits)
    except csv.Error as error:
        if "field limit" in str(error):
            raise cell_too_long(f"'{file_name}'", limits, len(grid) + 1) from None
        raise SheetError(f"'{file_name}' could not be read as CSV: {error}.") from None
    return grid


# --- workbooks -----------------------------------------------------------------------------------


def _open_workbook(
    file_name: str, data: bytes, limits: Limits, checked: bool = False
) -> python_calamine.CalamineWorkbook:
    if not checked:
        check_workbook(file_name, data, limits)  # before calamine unpacks anything
    try:
        return python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except python_calamine.PasswordError:
        raise SheetError(
            f"'{file_name}' is password-protected; save it without a password and upload it again."
        ) from None
    except Exception:  # calamine raises several types for broken files
        raise SheetError(
            f"'{file_name}' could not be opened: it is damaged or not really an "
            f"{_suffix(file_name).lstrip('.').upper()} file."
        ) from None


def _sheet_grid(
    workbook: python_calamine.CalamineWorkbook, file_name: str, name: str, limits: Limits
) -> list[list[object]]:
    try:
        loaded = workbook.get_sheet_by_name(name)
    except Exception:
        raise SheetError(f"The sheet '{name}' in '{file_name}' could not be read.") from None
    # The extent calamine found, checked before every cell becomes a Python object.
    if loaded.end is not None:
        rows, columns = loaded.end[0] + 1, loaded.end[1] + 1
        check_extent(f"The sheet '{name}' in '{file_name}'", rows, columns, limits)
    try:
        return loaded.to_python(skip_empty_area=False)
    except Exception:
        raise SheetError(f"The sheet '{name}' in '{file_name}' could not be read.") from None


def _in_pieces(
    file_name: str, data: bytes, sheet: str | None, limits: Limits
) -> tuple[list[str], str, list[list[str]]] | None:
    """(sheet names, the sheet read, its cells as text in columns), the sheet parsed in
    pieces, a thread a core (calamine lets go of the interpreter's lock while it parses).
    `sheet` None: the workbook's only worksheet. Each piece's extent and cells' lengths are
    checked as it is read (LimitError).

    None where the sheet is not cut (`xlsx_pieces`), a piece does not parse, or the pieces'
    rows overlap: the caller opens the workbook and parses the sheet whole, which also gives
    any sentence for it. The whole workbook is not opened here (its shared strings alone take
    a third of a second to read for 100,000 rows): each piece holds its workbook part.
    """
    cut = xlsx_pieces.pieces_for(data, sheet)
    if cut is None:
        return None
    name, books = cut
    where = f"The sheet '{name}' in '{file_name}'"
    parsed: list[tuple[tuple[int, int], tuple[int, int], list[list[str]]] | None]
    parsed = [None] * len(books)
    names: list[list[str]] = []  # the sheets the user could pick, and all of them
    refused: dict[int, LimitError] = {}  # by piece: the first piece's refusal is the one said

    def parse(index: int) -> None:
        try:
            book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(books[index]))
            books[index] = b""  # calamine holds a copy of its own
            if index == 0:
                names.extend([_visible_sheets(book), list(book.sheet_names)])
            loaded = book.get_sheet_by_name(name)
            start, end = loaded.start, loaded.end
            if start is None or end is None:
                return  # a piece with no cells: parse the sheet whole rather than guess
            check_extent(where, end[0] + 1, end[1] + 1, limits)
            grid = loaded.to_python(skip_empty_area=True)
            del book, loaded
            columns = _text_columns(grid)
            del grid
            # Here, while the other thread parses, rather than over the joined sheet after.
            check_cell_lengths(where, columns, limits, start[0])
            parsed[index] = (start, end, columns)
        except LimitError as error:
            refused[index] = error
        except Exception:  # calamine raises several types; the whole parse says what is wrong
            return

    # One thread a core, each taking the next piece: while one makes a piece's text (holding
    # the interpreter's lock), the other parses. No more threads than that: each thread's
    # allocations stay in a malloc arena of its own, and four arenas kept 75 MB more.
    order = iter(range(len(books)))
    taking = threading.Lock()

    def work() -> None:
        while True:
            with taking:
                index = next(order, None)
            if index is None:
                return
            parse(index)

    threads = [
        threading.Thread(target=work, name=f"sheet pieces {n + 1}")
        for n in range(min(bulk.cores(), len(books)))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if refused:
        raise refused[min(refused)]
    pieces = [piece for piece in parsed if piece is not None]
    if (
        len(pieces) < len(parsed)
        or any(later[0][0] <= earlier[1][0] for earlier, later in itertools.pairwise(pieces))
        or not names
        or (names[0] != [name] if sheet is None else name not in names[1])
    ):
        return None
    width = max(end[1] for _, end, _ in pieces) + 1
    check_extent(where, pieces[-1][1][0] + 1, width, limits)
    return names[0], name, _joined(pieces, width)


def _joined(
    pieces: list[tuple[tuple[int, int], tuple[int, int], list[list[str]]]], width: int
) -> list[list[str]]:
    """Columns from A and rows from 1, from pieces that each start at their own (row, column):
    what calamine gives for the whole sheet, with blank cells where no piece reaches."""
    columns: list[list[str]] = [[] for _ in range(width)]
    row = 0
    for (top, left), _, cells in pieces:
        height = len(cells[0])
        for index, column in enumerate(columns):
            if top > row:
                column.extend([""] * (top - row))
            if left <= index < left + len(cells):
                column.extend(cells[index - left])
            else:
                column.extend([""] * height)
        row = top + height
    return columns


def _visible_sheets(workbook: python_calamine.CalamineWorkbook) -> list[str]:
    names = [
        m.name
        for m in workbook.sheets_metadata
        if m.typ == python_calamine.SheetTypeEnum.WorkSheet
        and m.visible == python_calamine.SheetVisibleEnum.Visible
    ]
    return names or list(workbook.sheet_names)


# --- header detection ----------------------------------------------------------------------------


def _is_text_label(cell: str) -> bool:
    cell = cell.strip()
    return bool(cell) and not re.fullmatch(r"[+\-]?[\d\s.,:/-]+", cell) and "@" not in cell


def detect_header_row(grid: Sequence[Sequence[str]]) -> int:
    """0-based index of the header row: the first wide row of labels, below any title rows."""
    from seen_core.check.mapping import known_header

    window = [list(r) for r in grid[:HEADER_SEARCH_ROWS]]
    filled = [sum(1 for c in r if c.strip()) for r in window]
    if not window or max(filled, default=0) == 0:
        return 0
    # A row naming two or more SEEN fields (Fornavn, E-post, ...) is the header.
    for i, row in enumerate(window):
        if sum(1 for c in row if known_header(c)) >= 2:
            return i
    widest = max(filled)
    for i, row in enumerate(window):
        labels = sum(1 for c in row if _is_text_label(c))
        if filled[i] >= max(2, math.ceil(widest * 0.6)) and labels == filled[i]:
            return i
    return next(i for i, n in enumerate(filled) if n)


def unique_headers(headers: Sequence[str]) -> list[str]:
    """Blank headers become `Column C` (by spreadsheet letter), repeated ones `Name (2)`."""
    result: list[str] = []
    seen: set[str] = set()
    for i, header in enumerate(headers):
        name = " ".join(header.split()) or f"Column {column_letter(i)}"
        candidate, n = name, 1
        while candidate.casefold() in seen:
            n += 1
            candidate = f"{name} ({n})"
        seen.add(candidate.casefold())
        result.append(candidate)
    return result


def columns_of(grid: list[list[Cell]]) -> list[list[Cell]]:
    """The grid's columns, each as long as the grid (rows shorter than the widest padded)."""
    width = max(map(len, grid), default=0)
    if len(set(map(len, grid))) > 1:  # CSV rows can differ; a workbook's never do
        grid = [row if len(row) == width else row + [""] * (width - len(row)) for row in grid]
    return [list(column) for column in zip(*grid, strict=True)]


# Characters that join a column's cells into one string for the way from the reader process:
# the first that no cell of the column holds (NUL nearly always).
_JOINERS = ("\x00", "\x1f", "\x1e", "\ufdd0")


def pack_columns(columns: list[list[str]]) -> tuple[int, list[tuple[str, str] | list[str]]]:
    """The columns for a pickle: each joined into one string where a character no cell holds
    can be found (1 string to pickle and split again, instead of 100,000 to unpickle)."""
    height = len(columns[0]) if columns else 0
    packed: list[tuple[str, str] | list[str]] = []
    for column in columns:
        for joiner in _JOINERS:
            text = joiner.join(column)
            if text.count(joiner) == height - 1:
                packed.append((joiner, text))
                break
        else:
            packed.append(column)
    return height, packed


def unpack_columns(packed: tuple[int, list[tuple[str, str] | list[str]]]) -> list[list[str]]:
    height, columns = packed
    if not height:
        return [[] for _ in columns]
    return [c[1].split(c[0]) if isinstance(c, tuple) else c for c in columns]


def _top_rows(columns: list[list[str]], count: int) -> list[list[str]]:
    return [list(row) for row in zip(*(column[:count] for column in columns), strict=True)]


def _table(columns: list[list[str]], header_index: int) -> tuple[list[str], TextTable, int]:
    """The people below the header, a column at a time: blank rows left out (and counted),
    trailing columns with neither header nor data dropped, each row's spreadsheet number."""
    header = [column[header_index] if header_index < len(column) else "" for column in columns]
    body = [column[header_index + 1 :] for column in columns]
    width = len(columns)
    while width and not header[width - 1].strip() and not any(map(str.strip, body[width - 1])):
        width -= 1
    names = unique_headers(header[:width])
    body = body[:width]
    height = len(body[0]) if body else 0
    # Blank rows: those blank in the first column, then in each next one (a set that shrinks
    # fast, so only the first column is read whole).
    blank = [i for i, value in enumerate(body[0]) if not value.strip()] if body else []
    for column in body[1:]:
        if not blank:
            break
        blank = [i for i in blank if not column[i].strip()]
    first_number = header_index + 2  # spreadsheet rows count from 1, and the header is one of them
    numbers = list(range(first_number, first_number + height))
    if blank:
        kept = [True] * height
        for i in blank:
            kept[i] = False
        numbers = list(itertools.compress(numbers, kept))
        body = [list(itertools.compress(column, kept)) for column in body]
    return names, TextTable(numbers, dict(zip(names, body, strict=True))), len(blank)


# --- public --------------------------------------------------------------------------------------


def pick_sheet(file_name: str, data: bytes, *, limits: Limits | None = None) -> str | None:
    """The sheet that holds the receivers: the one whose header names the most SEEN fields."""
    limits = limits or Limits.from_env()
    if _check_type(file_name, data, limits) == "csv":
        return None
    workbook = _open_workbook(file_name, data, limits)
    return _pick_sheet(workbook, file_name, limits)[0]


def _pick_sheet(
    workbook: python_calamine.CalamineWorkbook, file_name: str, limits: Limits
) -> tuple[str, list[list[object]] | None]:
    """The sheet with the most SEEN fields in its header (then the most rows), and its cells.

    calamine parses a whole sheet to give any of it, so the winner's cells are kept, not read twice.
    """
    from seen_core.check.mapping import known_header

    names = _visible_sheets(workbook)
    if len(names) == 1:
        return names[0], None
    best, best_grid, best_score = names[0], None, (-1, -1)
    for name in names:
        grid = _sheet_grid(workbook, file_name, name, limits)
        if not grid:
            continue
        top = _top_rows(_text_columns(grid[:HEADER_SEARCH_ROWS]), HEADER_SEARCH_ROWS)
        header = top[detect_header_row(top)]
        score = (sum(1 for c in header if known_header(c)), len(grid))
        if score > best_score:
            best, best_grid, best_score = name, grid, score
    return best, best_grid


def read_sheet(
    file_name: str,
    data: bytes,
    *,
    sheet: str | None = None,
    header_row: int | None = None,
    limits: Limits | None = None,
) -> Sheet:
    """Read one sheet of the file as text cells, finding the header under any title rows.

    `header_row` is the spreadsheet row number (1-based) of the header, to override detection.
    `limits` defaults to `Limits.from_env()`. Parses in this process: for files from others,
    use `read_sheet_isolated`.
    """
    limits = limits or Limits.from_env()
    with gc_paused():
        return _read_sheet(file_name, data, sheet, header_row, limits)


def _read_sheet(
    file_name: str, data: bytes, sheet: str | None, header_row: int | None, limits: Limits
) -> Sheet:
    sheet_names, sheet_name, columns = read_grid(file_name, data, sheet, limits)
    return _sheet_from_grid(
        file_name, hashlib.sha256(data).hexdigest(), sheet_names, sheet_name, columns, header_row
    )


def read_grid(
    file_name: str, data: bytes, sheet: str | None, limits: Limits, checked: bool = False
) -> tuple[list[str], str | None, list[list[str]]]:
    """(sheet names, the sheet read, its cells as text in columns): the parse itself, without
    pandas. The columns are all as long (the sheet's height).

    `checked`: `check_workbook` has passed already (the isolated reader checks before it starts).
    """
    kind = _check_type(file_name, data, limits)
    if kind == "csv":
        sheet_names: list[str] = []
        sheet_name = None
        columns = columns_of(_read_csv_grid(file_name, data, limits))  # the reader checked lengths
    else:
        if not checked:
            check_workbook(file_name, data, limits)  # before calamine unpacks anything
        found = _in_pieces(file_name, data, sheet, limits)  # its cells' lengths checked there
        if found is None:
            found = _read_whole(file_name, data, sheet, limits)
            check_cell_lengths(f"The sheet '{found[1]}' in '{file_name}'", found[2], limits)
        sheet_names, sheet_name, columns = found
    return sheet_names, sheet_name, columns


def _read_whole(
    file_name: str, data: bytes, sheet: str | None, limits: Limits
) -> tuple[list[str], str, list[list[str]]]:
    workbook = _open_workbook(file_name, data, limits, checked=True)
    sheet_names = _visible_sheets(workbook)
    raw = None
    if sheet is None:
        sheet_name, raw = _pick_sheet(workbook, file_name, limits)
    elif sheet in workbook.sheet_names:
        sheet_name = sheet
    else:
        raise SheetError(
            f"'{file_name}' has no sheet named '{sheet}'; it has: {', '.join(sheet_names)}."
        )
    if raw is None:
        raw = _sheet_grid(workbook, file_name, sheet_name, limits)
    return sheet_names, sheet_name, _text_columns(raw)


def _sheet_from_grid(
    file_name: str,
    sha256: str,
    sheet_names: list[str],
    sheet_name: str | None,
    columns: list[list[str]],
    header_row: int | None,
) -> Sheet:
    """The sheet from its cells, given as columns of text (`columns_of` the grid)."""
    if not any(value.strip() for column in columns for value in column):
        where = f"The sheet '{sheet_name}' in '{file_name}'" if sheet_name else f"'{file_name}'"
        raise SheetError(f"{where} has no data.")
    height = len(columns[0])
    if header_row is None:
        header_index = detect_header_row(_top_rows(columns, HEADER_SEARCH_ROWS))
    else:
        if not 1 <= header_row <= height:
            raise SheetError(f"Row {header_row} is outside the sheet, which has {height} rows.")
        header_index = header_row - 1
    names, text, blank = _table(columns, header_index)
    return Sheet(
        file_name=file_name,
        sha256=sha256,
        sheet_names=sheet_names,
        sheet_name=sheet_name,
        header_row=header_index + 1,
        columns=names,
        text=text,
        blank_rows=blank,
        preview=_top_rows(columns, PREVIEW_ROWS),
    )


# --- parsing in a process of its own ------------------------------------------------------------

_log = logging.getLogger(__name__)
_ROOT = Path(__file__).resolve().parents[2]  # where `python -m seen_core.read.reader` is found
_spare: subprocess.Popen[bytes] | None = None  # a reader started ahead, see keep_reader_ready
_spare_lock = threading.Lock()
_keep_spare = False
SPARE_AFTER = 10.0  # seconds from taking the spare reader to starting the next one


def _start_reader(warm: bool = False) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "seen_core.read.reader", *(["--warm"] if warm else [])],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=_ROOT,
        env=bulk.helper_environment(),  # it parses files from others: no token, nothing else
    )


def keep_reader_ready() -> None:
    """From now on keep one reader process started ahead, so that an upload does not wait for
    an interpreter to start (about 0.1 s), with the checks loaded for a check ahead. For a
    long-running server such as the app. Once an upload takes it, the next one is started
    `SPARE_AFTER` seconds later (an upload in between gets a reader started for it)."""
    global _keep_spare, _spare
    with _spare_lock:
        _keep_spare = True
        if _spare is None or _spare.poll() is not None:
            _spare = _start_reader(warm=True)


def _take_reader() -> subprocess.Popen[bytes]:
    global _spare
    with _spare_lock:
        reader, _spare = _spare, None
        if reader is None or reader.poll() is not None:
            reader = _start_reader()
        if _keep_spare:
            # The next spare starts later: its start and its loading of the checks (about
            # 1.5 s of CPU) would take a core from the upload that took this one.
            later = threading.Timer(SPARE_AFTER, _start_spare)
            later.daemon = True
            later.start()
    return reader


def _start_spare() -> None:
    global _spare
    with _spare_lock:
        if _keep_spare and (_spare is None or _spare.poll() is not None):
            _spare = _start_reader(warm=True)


class _Answers:
    """The frames a reader process writes (8-byte length, then a pickle), taken in by a thread
    of their own as they come, so that the reader never waits on a full pipe; the process is
    waited for once its output ends."""

    def __init__(self, reader: subprocess.Popen[bytes]) -> None:
        self.reader = reader
        self._frames: queue.Queue[bytes | None] = queue.Queue()
        threading.Thread(target=self._take, name="seen-reader-answers", daemon=True).start()

    def _take(self) -> None:
        out = self.reader.stdout
        assert out is not None
        try:
            while len(head := out.read(8)) == 8:
                size = int.from_bytes(head, "big")
                body = out.read(size)
                if len(body) < size:
                    break
                self._frames.put(body)
        finally:
            self._frames.put(None)
            self.reader.wait()

    def next(self, timeout: float) -> bytes | None:
        """The next frame, or None when the reader ended without one; queue.Empty when none
        came within `timeout` seconds."""
        return self._frames.get(timeout=max(timeout, 0.0))

    def stop(self) -> None:
        if self.reader.poll() is None:
            self.reader.kill()


class Pending:
    """An answer that a reader process is still working out after the cells (a check ahead):
    `wait` gives it, or None when the reader could not give it in time."""

    def __init__(self, answers: _Answers, deadline: float) -> None:
        self._answers, self._deadline = answers, deadline
        self._lock = threading.Lock()
        self._value: object | None = None
        self._done = False

    def cancel(self) -> None:
        """Not wanted after all: the reader is stopped."""
        with self._lock:
            self._done = True
            self._answers.stop()

    def wait(self) -> object | None:
        with self._lock:
            if not self._done:
                self._done = True
                try:
                    frame = self._answers.next(self._deadline - time.monotonic())
                except queue.Empty:
                    frame = None
                    self._answers.stop()
                try:
                    kind, value = pickle.loads(frame) if frame is not None else (None, None)
                except Exception:
                    kind, value = None, None
                self._value = value if kind == "checked" else None
            return self._value


def read_sheet_isolated(
    file_name: str,
    data: bytes,
    *,
    sheet: str | None = None,
    header_row: int | None = None,
    limits: Limits | None = None,
) -> Sheet:
    """`read_sheet` with the parse in a process of its own, under a memory and a time limit.

    An out-of-memory, a reader's abort or a parse past the time limit ends that process only,
    and comes back as a SheetError of one sentence; so does everything `read_sheet` refuses.
    The cheap checks (size, a workbook's parts and declared extent) run here first, so a
    refused file costs no process at all. Safe to call from several threads at once.
    """
    return _read_isolated(file_name, data, sheet, header_row, limits, None)[0]


def read_sheet_checking_ahead(
    file_name: str,
    data: bytes,
    options: dict,
    *,
    header_row: int | None = None,
    limits: Limits | None = None,
) -> tuple[Sheet, Pending]:
    """`read_sheet_isolated`, and then, in the same reader process, the first check of the
    sheet: its suggested mapping under these check options (`CheckOptions` as a dict).

    The sheet comes back as soon as it is read; `Pending.wait()` gives (mapping as a dict,
    CheckOptions, CheckResult) once the reader has checked it, on another core than the
    caller's, or None. For the app: its pages go on while the check is made elsewhere.
    """
    sheet, pending = _read_isolated(file_name, data, None, header_row, limits, options)
    assert pending is not None
    return sheet, pending


def _read_isolated(
    file_name: str,
    data: bytes,
    sheet: str | None,
    header_row: int | None,
    limits: Limits | None,
    ahead: dict | None,
) -> tuple[Sheet, Pending | None]:
    limits = limits or Limits.from_env()
    if _check_type(file_name, data, limits) == "workbook":
        check_workbook(file_name, data, limits)
    request = pickle.dumps(
        (file_name, data, sheet, limits, header_row, ahead), protocol=pickle.HIGHEST_PROTOCOL
    )
    deadline = time.monotonic() + limits.parse_seconds
    reader = _take_reader()
    answers = _Answers(reader)
    try:
        assert reader.stdin is not None
        try:
            reader.stdin.write(request)
            reader.stdin.close()
        except BrokenPipeError:  # the reader ended before it took the request
            pass
        del request
        try:
            frame = answers.next(deadline - time.monotonic())
        except queue.Empty:
            raise _over_time(file_name, limits) from None
        with gc_paused():
            kind, value = _outcome(file_name, frame, answers)
            del frame
            if kind == "grid":
                sheet_names, sheet_name, packed = value
                sha256 = hashlib.sha256(data).hexdigest()
                found = _sheet_from_grid(
                    file_name, sha256, sheet_names, sheet_name, unpack_columns(packed), header_row
                )
                return found, (Pending(answers, deadline) if ahead is not None else None)
    except BaseException:
        answers.stop()  # an exception of our own, or no sheet: leave no process behind
        raise
    answers.stop()
    if kind == "error":
        raise value
    if kind == "memory":
        raise LimitError(
            f"'{file_name}' could not be read within the server's memory limit of "
            f"{limits.parse_memory_mb:,} MB; split it into smaller files."
        )
    if kind == "time":
        raise _over_time(file_name, limits)
    raise SheetError(f"'{file_name}' could not be read; save it again from Excel and try again.")


def _over_time(file_name: str, limits: Limits) -> LimitError:
    return LimitError(
        f"'{file_name}' could not be read within the server's time limit of "
        f"{limits.parse_seconds:,} seconds; split it into smaller files."
    )


def _outcome(file_name: str, frame: bytes | None, answers: _Answers) -> tuple[str, object]:
    """What the reader sent: ("grid", (names, name, packed columns)) or ("error", SheetError)
    or ("memory", None); or, when it ended without a usable answer, what its end means:
    ("memory", None), ("time", None) or ("broken", None)."""
    if frame is not None:
        try:
            outcome = pickle.loads(frame)
        except Exception:
            outcome = None
        if outcome and (outcome[0] in ("grid", "memory") or isinstance(outcome[1], SheetError)):
            return outcome
    answers.stop()
    returncode = answers.reader.wait()
    _log.warning("Reading %r ended with exit code %s", file_name, returncode)
    if returncode == -signal.SIGXCPU:  # its CPU-time limit, a backstop to our deadline
        return ("time", None)
    # An abort (SIGABRT) is how calamine fails an allocation; SIGKILL is the kernel's
    # out-of-memory killer.
    if returncode in (-signal.SIGABRT, -signal.SIGKILL, -signal.SIGSEGV):
        return ("memory", None)
    return ("broken", None)
