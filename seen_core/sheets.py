"""Read a receiver sheet (CSV, XLSX/XLSM, XLS, ODS) into cells of text, as the user sees them."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd


class SheetError(ValueError):
    """The file cannot be read; the message is one sentence for the user."""


@dataclass
class Sheet:
    """One sheet of the user's file, every cell as text ("" when empty).

    `table` has the user's columns (made unique) in their order, and its index is the
    spreadsheet row number of each person (header on row 1 → first person is row 2).
    """

    file_name: str
    sha256: str
    sheet_names: list[str]  # [] for CSV
    sheet_name: str | None  # None for CSV
    header_row: int  # spreadsheet row number of the header
    columns: list[str]
    table: pd.DataFrame
    blank_rows: int = 0  # blank rows below the header that were dropped
    preview: list[list[str]] = field(default_factory=list)  # first rows of the raw grid, as text
