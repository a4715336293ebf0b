"""Problems found in a sheet: data with stable codes and spreadsheet row numbers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a row (or with the whole sheet when `row` is None).

    `row` is the row number the user sees in Excel (header on row 1 → first person on row 2);
    `column` is the user's column header; `field` the SEEN field or `extra_args` key.
    """

    row: int | None
    column: str | None
    field: str | None
    code: str
    severity: Severity
    message: str

    def as_dict(self) -> dict[str, object]:
        return {
            "row": self.row,
            "column": self.column,
            "field": self.field,
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
        }
