"""Spreadsheet column letters: 'A' is the first column, 'Z' the 26th, 'AA' the 27th.

The one place they are worked out, for the upload limits, the sheets read and the report.
"""

from __future__ import annotations

import functools


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
