"""Upload limits: how large a file, a workbook's contents, a sheet and a cell may be, and the
one sentence that names each when a file goes beyond it.

A spreadsheet can be small on disk and enormous once read: parts that unpack a thousand-fold,
cells out at XFD1048576, a single string of a gigabyte. The reader of each kind of file checks
what it finds against these as early as it can (`workbook_limits` a workbook's parts before
any is parsed); what no check sees (a workbook crafted to lie about itself) is stopped by the
memory limit of the separate process that parses uploads (`isolated.read_sheet_isolated`).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields

from seen_core.errors import ConfigurationError, SheetError
from seen_core.i18n import _, decimal, number

MB = 1024 * 1024
EXCEL_ROWS = 1_048_576
EXCEL_COLUMNS = 16_384
EXCEL_CELL_CHARS = 32_767


class LimitError(SheetError):
    """A file goes beyond one of the upload limits; the message names the limit."""


@dataclass(frozen=True)
class Limits:
    """The most an uploaded file may hold. Defaults fit Excel's grid and 100,000-row sends.

    Each can be set in the environment (see `ENVIRONMENT`), e.g. `SEEN_MAX_UPLOAD_MB=100`.
    """

    upload_mb: int = 50  # the file as uploaded
    unpacked_mb: int = 500  # all parts of an XLSX/XLSM/ODS once unzipped
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
    return f"{decimal(size / MB)} MB" if size < 10 * MB else f"{number(size // MB)} MB"


def check_upload_size(file_name: str, size: int, limits: Limits) -> None:
    """Refuse a file larger than the upload limit, before it is read."""
    if size > limits.upload_bytes:
        raise LimitError(
            _("'{file}' is {size}, over the limit of {mb} MB for one upload.").format(
                file=file_name, size=_mb(size), mb=number(limits.upload_mb)
            )
        )


def unpacked_too_much(file_name: str, limits: Limits, size: int | None = None) -> LimitError:
    """The refusal of a workbook whose contents unpack to more than the limit (`size`: to how
    much, where known)."""
    if size is None:
        return LimitError(
            _(
                "'{file}' unpacks to more than the limit of {mb} MB for the contents of a workbook."
            ).format(file=file_name, mb=number(limits.unpacked_mb))
        )
    return LimitError(
        _(
            "'{file}' unpacks to {size}, over the limit of {mb} MB for the contents of a workbook."
        ).format(file=file_name, size=_mb(size), mb=number(limits.unpacked_mb))
    )


def check_extent(where: str, rows: int, columns: int, limits: Limits) -> None:
    """Refuse a sheet with more rows, columns or cells than the limits allow.

    `where` names the sheet for the user ("The sheet 'Ark1' in 'kunder.xlsx'").
    """
    if rows > limits.rows:
        raise LimitError(
            _("{where} has {rows} rows, over the limit of {most} rows.").format(
                where=where, rows=number(rows), most=number(limits.rows)
            )
        )
    if columns > limits.columns:
        raise LimitError(
            _("{where} has {columns} columns, over the limit of {most} columns.").format(
                where=where, columns=number(columns), most=number(limits.columns)
            )
        )
    if rows * columns > limits.cells:
        raise LimitError(
            _(
                "{where} has {rows} rows × {columns} columns = {cells} cells, over the limit of "
                "{most} cells."
            ).format(
                where=where,
                rows=number(rows),
                columns=number(columns),
                cells=number(rows * columns),
                most=number(limits.cells),
            )
        )


def too_many_cells(where: str, limits: Limits) -> LimitError:
    """The refusal of a sheet found to hold more cells than the limit, before it is parsed."""
    return LimitError(
        _("{where} holds more than {most} cells, the limit for one sheet.").format(
            where=where, most=number(limits.cells)
        )
    )


def cell_too_long(where: str, limits: Limits, row: int | None = None) -> LimitError:
    """The refusal of a cell longer than the limit (row: the spreadsheet row, when known)."""
    place = (
        _("Row {row} of {where}").format(row=number(row), where=f"{where[0].lower()}{where[1:]}")
        if row
        else where
    )
    return LimitError(
        _("{place} holds a cell of more than {most} characters, the limit for one cell.").format(
            place=place, most=number(limits.cell_chars)
        )
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
