"""Cells as people see them: a cell's value as text, a grid's cells as columns of text, and
column letters ('A' is the first column, 'Z' the 26th, 'AA' the 27th).

The one place these are worked out, for the upload limits, the sheets read and the report.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from decimal import Decimal
from typing import TypeVar

Cell = TypeVar("Cell")  # a cell as calamine gives it, or as text


@functools.lru_cache(maxsize=4096)
def column_letter(index: int) -> str:
    """The letters of the column at 0-based `index`: 'A' for 0, 'AA' for 26."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


@functools.lru_cache(maxsize=4096)
def column_index(letters: str) -> int:
    """The 0-based index of a column's letters (either case): 0 for 'A', 16,383 for 'XFD'."""
    index = 0
    for letter in letters.upper():
        index = index * 26 + ord(letter) - 64
    return index - 1


def cell_text(value: object) -> str:
    """The text a user sees in a cell: `4745860321` not `4745860321.0`, dates as YYYY-MM-DD."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return ""
        if value.is_integer():
            return str(int(value))
        text = repr(value)
        if "e" in text or "E" in text:  # never scientific notation
            text = format(Decimal(text), "f")
        return text
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds" if value.second else "minutes")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.isoformat(timespec="seconds" if value.second else "minutes")
    if isinstance(value, dt.timedelta):
        total = int(value.total_seconds())
        return f"{total // 3600}:{total % 3600 // 60:02d}:{total % 60:02d}"
    return str(value)


def columns_of(grid: list[list[Cell]]) -> list[list[Cell]]:
    """The grid's columns, each as long as the grid (rows shorter than the widest padded)."""
    width = max(map(len, grid), default=0)
    if len(set(map(len, grid))) > 1:  # CSV rows can differ; a workbook's never do
        grid = [row if len(row) == width else row + [""] * (width - len(row)) for row in grid]
    return [list(column) for column in zip(*grid, strict=True)]


def text_columns(grid: list[list[object]]) -> list[list[str]]:
    """Every cell of a grid as `cell_text` gives it, a column at a time (`columns_of` the grid):
    a column of text only (names, e-mails) is taken as it is; in the others, numbers and dates
    become text."""
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
