"""A workbook's cells (XLSX/XLSM, XLS, ODS) through python-calamine: the workbook opened, its
visible sheets, one sheet's cells; a big XLSX worksheet parsed in pieces on every core.

Nothing here checks the upload limits on the file as a whole (`workbook_limits` does, before a
workbook is opened); what calamine finds is checked as it comes: a sheet's extent before its
cells become Python objects, its cells' lengths as soon as they are text.
"""

from __future__ import annotations

import io
import itertools
import threading
from pathlib import Path

import python_calamine

from seen_core import interpreter as bulk
from seen_core.errors import SheetError
from seen_core.i18n import _
from seen_core.read import xlsx_pieces
from seen_core.read.cells import text_columns
from seen_core.read.limits import LimitError, Limits, check_cell_lengths, check_extent

# (row, column) where a piece starts, where it ends, and its cells as text in columns
_Piece = tuple[tuple[int, int], tuple[int, int], list[list[str]]]


def open_workbook(file_name: str, data: bytes) -> python_calamine.CalamineWorkbook:
    """The workbook, or a SheetError of one sentence (damaged, password-protected)."""
    try:
        return python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except python_calamine.PasswordError:
        raise SheetError(
            _(
                "'{file}' is password-protected; save it without a password and upload it again."
            ).format(file=file_name)
        ) from None
    except Exception:  # calamine raises several types for broken files
        raise SheetError(
            _("'{file}' could not be opened: it is damaged or not really an {kind} file.").format(
                file=file_name, kind=Path(file_name).suffix.lstrip(".").upper()
            )
        ) from None


def visible_sheets(workbook: python_calamine.CalamineWorkbook) -> list[str]:
    """The worksheets a user sees, in order (all sheets, if none is visible)."""
    names = [
        m.name
        for m in workbook.sheets_metadata
        if m.typ == python_calamine.SheetTypeEnum.WorkSheet
        and m.visible == python_calamine.SheetVisibleEnum.Visible
    ]
    return names or list(workbook.sheet_names)


def sheet_grid(
    workbook: python_calamine.CalamineWorkbook, file_name: str, name: str, limits: Limits
) -> list[list[object]]:
    """The sheet's rows of cells as calamine gives them, from A1, its extent checked first."""
    try:
        loaded = workbook.get_sheet_by_name(name)
    except Exception:
        raise SheetError(
            _("The sheet '{sheet}' in '{file}' could not be read.").format(
                sheet=name, file=file_name
            )
        ) from None
    # The extent calamine found, checked before every cell becomes a Python object.
    if loaded.end is not None:
        rows, columns = loaded.end[0] + 1, loaded.end[1] + 1
        check_extent(
            _("The sheet '{sheet}' in '{file}'").format(sheet=name, file=file_name),
            rows,
            columns,
            limits,
        )
    try:
        return loaded.to_python(skip_empty_area=False)
    except Exception:
        raise SheetError(
            _("The sheet '{sheet}' in '{file}' could not be read.").format(
                sheet=name, file=file_name
            )
        ) from None


def read_in_pieces(
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
    where = _("The sheet '{sheet}' in '{file}'").format(sheet=name, file=file_name)
    parsed: list[_Piece | None] = [None] * len(books)
    names: list[list[str]] = []  # the sheets the user could pick, and all of them
    refused: dict[int, LimitError] = {}  # by piece: the first piece's refusal is the one said

    def parse(index: int) -> None:
        try:
            book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(books[index]))
            books[index] = b""  # calamine holds a copy of its own
            if index == 0:
                names.extend([visible_sheets(book), list(book.sheet_names)])
            loaded = book.get_sheet_by_name(name)
            start, end = loaded.start, loaded.end
            if start is None or end is None:
                return  # a piece with no cells: parse the sheet whole rather than guess
            check_extent(where, end[0] + 1, end[1] + 1, limits)
            grid = loaded.to_python(skip_empty_area=True)
            del book, loaded
            columns = text_columns(grid)
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


def _joined(pieces: list[_Piece], width: int) -> list[list[str]]:
    """Columns from A and rows from 1, from pieces that each start at their own (row, column):
    what calamine gives for the whole sheet, with blank cells where no piece reaches."""
    columns: list[list[str]] = [[] for _column in range(width)]
    row = 0
    for (top, left), _end, cells in pieces:
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
