"""A receiver sheet read into cells of text, as the user sees them: which reader a file needs,
the sheet of a workbook that holds the people, the header row under any title rows, unique
column names, blank rows dropped and counted, and each person's spreadsheet row number.

Every read is held to the upload limits (`limits.Limits`). `read_sheet` parses in this process,
for files one trusts; `isolated.read_sheet_isolated` parses in a process of its own with a
memory and a time limit, so a file made to exhaust memory or abort its reader ends only that
parse.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from seen_core.errors import SheetError
from seen_core.i18n import _
from seen_core.interpreter import gc_paused
from seen_core.read import workbook
from seen_core.read.cells import column_letter, columns_of, text_columns
from seen_core.read.csv_file import read_csv
from seen_core.read.limits import LimitError, Limits, check_cell_lengths, check_upload_size
from seen_core.read.text_table import TextTable
from seen_core.read.workbook_limits import Part, check_contents, check_workbook

if TYPE_CHECKING:
    import pandas as pd
    import python_calamine

WORKBOOK_TYPES = (".xlsx", ".xlsm", ".xls", ".ods")
FILE_TYPES = (".csv", ".txt", *WORKBOOK_TYPES)
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


# --- file types ----------------------------------------------------------------------------------


def file_kind(file_name: str, data: bytes, limits: Limits) -> str:
    """Which reader the file needs: 'csv' or 'workbook'; a SheetError of one sentence for a
    file no reader takes (empty, over the upload size, of another type, password-protected)."""
    suffix = Path(file_name).suffix.lower()
    if not data:
        raise SheetError(_("'{file}' is empty.").format(file=file_name))
    check_upload_size(file_name, len(data), limits)
    if suffix not in FILE_TYPES:
        shown = (
            _("a {suffix} file").format(suffix=suffix)
            if suffix
            else _("a file without an extension")
        )
        raise SheetError(
            _("'{file}' is {kind}; SEEN Sender reads CSV, XLSX, XLSM, XLS and ODS files.").format(
                file=file_name, kind=shown
            )
        )
    if suffix in (".xlsx", ".xlsm", ".ods") and data.startswith(_OLE_MAGIC):
        raise SheetError(
            _(
                "'{file}' is password-protected; save it without a password and upload it again."
            ).format(file=file_name)
        )
    if suffix in WORKBOOK_TYPES:
        return "workbook"
    if data.startswith((_ZIP_MAGIC, _OLE_MAGIC)):
        raise SheetError(
            _(
                "'{file}' is a workbook with a CSV name; rename it to .xlsx or .xls and upload it "
                "again."
            ).format(file=file_name)
        )
    return "csv"


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


# --- reading ------------------------------------------------------------------------------------


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
    use `isolated.read_sheet_isolated`.
    """
    limits = limits or Limits.from_env()
    with gc_paused():
        sheet_names, sheet_name, columns = read_grid(file_name, data, sheet, limits)
        sha256 = hashlib.sha256(data).hexdigest()
        return sheet_from_columns(file_name, sha256, sheet_names, sheet_name, columns, header_row)


def read_grid(
    file_name: str,
    data: bytes,
    sheet: str | None,
    limits: Limits,
    to_look_into: list[Part] | None = None,
) -> tuple[list[str], str | None, list[list[str]]]:
    """(sheet names, the sheet read, its cells as text in columns): the parse itself, without
    pandas. The columns are all as long (the sheet's height).

    `to_look_into`: a workbook's package was checked already (`workbook_limits.check_package`,
    where the upload arrived), leaving these parts to look into here; None: all of it here.
    """
    kind = file_kind(file_name, data, limits)
    if kind == "csv":
        sheet_names: list[str] = []
        sheet_name = None
        columns = columns_of(read_csv(file_name, data, limits))  # the reader checked lengths
    else:
        if to_look_into is None:  # before calamine unpacks anything
            check_workbook(file_name, data, limits)
        else:
            check_contents(file_name, data, to_look_into, limits)
        found = workbook.read_in_pieces(file_name, data, sheet, limits)  # lengths checked there
        if found is None:
            found = _read_whole(file_name, data, sheet, limits)
            check_cell_lengths(
                _("The sheet '{sheet}' in '{file}'").format(sheet=found[1], file=file_name),
                found[2],
                limits,
            )
        sheet_names, sheet_name, columns = found
    return sheet_names, sheet_name, columns


def _read_whole(
    file_name: str, data: bytes, sheet: str | None, limits: Limits
) -> tuple[list[str], str, list[list[str]]]:
    book = workbook.open_workbook(file_name, data)
    sheet_names = workbook.visible_sheets(book)
    raw = None
    if sheet is None:
        sheet_name, raw = _pick_sheet(book, file_name, limits)
    elif sheet in book.sheet_names:
        sheet_name = sheet
    else:
        raise SheetError(
            _("'{file}' has no sheet named '{sheet}'; it has: {sheets}.").format(
                file=file_name, sheet=sheet, sheets=", ".join(sheet_names)
            )
        )
    if raw is None:
        raw = workbook.sheet_grid(book, file_name, sheet_name, limits)
    return sheet_names, sheet_name, text_columns(raw)


def _pick_sheet(
    book: python_calamine.CalamineWorkbook, file_name: str, limits: Limits
) -> tuple[str, list[list[object]] | None]:
    """The sheet with the people, and its cells: of the sheets with anyone below their header,
    the one whose header names the most SEEN fields, then the one with the most people. A
    sheet that only looks empty (its cells blank, as formulas giving "" leave them) never
    wins over one with people; among equals, the first. A sheet that cannot be parsed is
    passed over, unless none can.

    calamine parses a whole sheet to give any of it, so the winner's cells are kept, not read twice.
    """
    from seen_core.check.mapping import known_header

    names = workbook.visible_sheets(book)
    if len(names) == 1:
        return names[0], None
    best, best_grid, best_score = names[0], None, None
    unreadable: SheetError | None = None
    for name in names:
        try:
            grid = workbook.sheet_grid(book, file_name, name, limits)
        except LimitError:
            raise
        except SheetError as error:  # one sheet calamine cannot parse: the others may do
            unreadable = unreadable or error
            continue
        top = _top_rows(text_columns(grid[:HEADER_SEARCH_ROWS]), HEADER_SEARCH_ROWS)
        header = detect_header_row(top) if top else 0
        named = sum(1 for c in top[header] if known_header(c)) if top else 0
        people = sum(1 for row in grid[header + 1 :] if any(map(_holds_something, row)))
        score = (people > 0, named, people)
        if best_score is None or score > best_score:
            best, best_grid, best_score = name, grid, score
    if best_score is None and unreadable is not None:
        raise unreadable
    return best, best_grid


def _holds_something(cell: object) -> bool:
    return bool(cell.strip()) if type(cell) is str else cell is not None


def sheet_from_columns(
    file_name: str,
    sha256: str,
    sheet_names: list[str],
    sheet_name: str | None,
    columns: list[list[str]],
    header_row: int | None,
) -> Sheet:
    """The sheet from its cells, given as columns of text (`read_grid`'s)."""
    if not any(value.strip() for column in columns for value in column):
        where = (
            _("The sheet '{sheet}' in '{file}'").format(sheet=sheet_name, file=file_name)
            if sheet_name
            else f"'{file_name}'"
        )
        raise SheetError(_("{where} has no data.").format(where=where))
    height = len(columns[0])
    if header_row is None:
        header_index = detect_header_row(_top_rows(columns, HEADER_SEARCH_ROWS))
    else:
        if not 1 <= header_row <= height:
            raise SheetError(
                _("Row {row} is outside the sheet, which has {rows} rows.").format(
                    row=header_row, rows=height
                )
            )
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
