"""A sheet's people as text, a column at a time: what the rules and the payloads read.

The app edits its sheet as a pandas DataFrame (Streamlit's editor works on one). A command
only reads, checks and prints, and loading pandas alone takes about 0.6 s, longer than the
check of 20,000 rows. So the rules (`checks`) and the payloads (`receivers`) read a table
through one small interface, without pandas:

- `TextTable`: the columns as lists of text, beside the spreadsheet row number of each person.
  A sheet as read (`Sheet.text`); its DataFrame is made from it when the app first asks.
- `FrameText`: a DataFrame read the same way, a column taken out as a list when first read,
  a few rows picked by pandas itself (the app's re-check of one edited cell).

`text_of` gives the one for either.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd


class _Positions:
    """Where a table's spreadsheet rows (`rows`, in file order) are in its columns."""

    rows: list[int]

    def positions(self, rows: Sequence[int]) -> list[int]:
        """Where these spreadsheet rows are in the columns. KeyError for a row not here."""
        at = self._at
        try:
            return list(map(at.__getitem__, rows))
        except KeyError:
            missing = [row for row in rows if row not in at]
            raise KeyError(f"rows not in the sheet: {missing[:5]}") from None

    @cached_property
    def _at(self) -> dict[int, int]:
        return {row: at for at, row in enumerate(self.rows)}


class TextTable(_Positions):
    """People as text: `rows` their spreadsheet row numbers, `values` each column's cells in
    the same order (every list as long as `rows`), the columns in the sheet's order."""

    def __init__(self, rows: list[int], values: dict[str, list[str]]) -> None:
        self.rows = rows
        self.values = values

    @property
    def columns(self) -> list[str]:
        return list(self.values)

    def __len__(self) -> int:
        return len(self.rows)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TextTable):
            return NotImplemented
        return self.rows == other.rows and self.values == other.values

    __hash__ = None  # type: ignore[assignment]  # equal by value, and its lists can change

    def __repr__(self) -> str:
        return f"TextTable({len(self.rows)} rows, columns {self.columns})"

    def column(self, name: str, rows: Sequence[int] | None = None) -> list[str]:
        """The column's cells, of these spreadsheet rows (all when None). KeyError for a
        column or a row the table does not have."""
        values = self.values[name]
        return values if rows is None else list(map(values.__getitem__, self.positions(rows)))

    def frame(self) -> pd.DataFrame:
        """The same people as a DataFrame of text, indexed by spreadsheet row ("row")."""
        import pandas as pd

        index = pd.Index(self.rows, dtype="int64", name="row")
        if not self.rows:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in self.values}, index=index)
        return pd.DataFrame(self.values, index=index, dtype=object)

    @classmethod
    def of_frame(cls, frame: pd.DataFrame) -> TextTable:
        """A DataFrame's cells, taken out as lists now."""
        return cls(frame.index.tolist(), {c: frame[c].tolist() for c in frame.columns})


class FrameText(_Positions):
    """A DataFrame read as a `TextTable` is: a column becomes a list when first read."""

    FEW = 64  # rows; as many or fewer are picked by pandas, without the whole column

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame_read = frame
        self._values: dict[str, list[str]] = {}

    @property
    def columns(self) -> list[str]:
        return list(self.frame_read.columns)

    def __len__(self) -> int:
        return len(self.frame_read)

    @cached_property
    def rows(self) -> list[int]:
        return self.frame_read.index.tolist()

    def column(self, name: str, rows: Sequence[int] | None = None) -> list[str]:
        if rows is not None and len(rows) <= self.FEW:  # an edited cell's re-check
            return self.frame_read.loc[list(rows), name].tolist()
        if name not in self._values:
            self._values[name] = self.frame_read[name].tolist()
        values = self._values[name]
        return values if rows is None else list(map(values.__getitem__, self.positions(rows)))

    def frame(self) -> pd.DataFrame:
        return self.frame_read


class Blanked(_Positions):
    """Another table with some cells read as empty: `blank` is {column: {row: value}}, each
    cell empty while it still holds that value (a value the row is sent without, see
    `fixes.LeftOut`); the other table's cells themselves are never changed."""

    def __init__(self, base: TextTable | FrameText, blank: dict[str, dict[int, str]]) -> None:
        self.base = base
        self.blank = blank
        self._values: dict[str, list[str]] = {}

    @property
    def columns(self) -> list[str]:
        return self.base.columns

    def __len__(self) -> int:
        return len(self.base)

    @property
    def rows(self) -> list[int]:  # type: ignore[override]
        return self.base.rows

    def column(self, name: str, rows: Sequence[int] | None = None) -> list[str]:
        wanted = self.blank.get(name)
        if not wanted:
            return self.base.column(name, rows)
        if rows is not None:
            values = list(self.base.column(name, rows))
            for i, row in enumerate(rows):
                if row in wanted and values[i] == wanted[row]:
                    values[i] = ""
            return values
        if name not in self._values:
            values = list(self.base.column(name))
            at = self.base._at
            for row, value in wanted.items():
                i = at.get(row)
                if i is not None and values[i] == value:
                    values[i] = ""
            self._values[name] = values
        return self._values[name]

    def blanked(self, name: str) -> dict[int, str]:
        """Row → the value read as empty, in this column, for the cells that still hold it."""
        wanted = self.blank.get(name) or {}
        if not wanted:
            return {}
        rows = [row for row in wanted if row in self.base._at]
        cells = self.base.column(name, rows)
        return {row: cell for row, cell in zip(rows, cells, strict=True) if cell == wanted[row]}

    def frame(self) -> pd.DataFrame:
        frame = self.base.frame().copy(deep=False)
        for name in self.blank:
            if name in frame.columns:
                frame[name] = self.column(name)
        return frame


Rows = TextTable | FrameText | Blanked  # what the rules and the payloads read


def text_of(table: pd.DataFrame | TextTable | FrameText | Blanked) -> Rows:
    """The table as the rules read it (a DataFrame wrapped, without copying its cells)."""
    if isinstance(table, TextTable | FrameText | Blanked):
        return table
    return FrameText(table)
