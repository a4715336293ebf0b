"""Cells as people see them: a cell's value as text, and column letters ('A' is the first
column, 'Z' the 26th, 'AA' the 27th).

The one place these are worked out, for the upload limits, the sheets read and the report.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from decimal import Decimal


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
