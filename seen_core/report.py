"""The report the user downloads: their sheet plus a SEEN status per row, as XLSX or CSV."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from seen_core.problems import Problem
from seen_core.sheets import Sheet

STATUSES = ("ready", "created", "rejected", "invalid", "failed", "unknown", "not_sent")
STATUS_COLUMN = "SEEN status"
MESSAGE_COLUMN = "SEEN message"
DEFAULT_SHEET_NAME = "Receivers"
SUMMARY_SHEET_NAME = "Summary"
PROBLEMS_SHEET_NAME = "Problems"

# Excel's grid: rows and columns beyond these are silently dropped by XlsxWriter.
EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_COLUMNS = 16_384

# Background and font colours of Excel's own "Good", "Bad" and "Neutral" cell styles, so the
# colours read the way Excel users already know them.
_STATUS_COLOURS: dict[str, tuple[str, str]] = {
    "ready": ("#DDEBF7", "#1F3864"),
    "created": ("#C6EFCE", "#006100"),
    "rejected": ("#FFC7CE", "#9C0006"),
    "invalid": ("#FFC7CE", "#9C0006"),
    "failed": ("#FFC7CE", "#9C0006"),
    "unknown": ("#FFEB9C", "#9C5700"),
    "not_sent": ("#E7E6E6", "#3A3A3A"),
}

# Widths are measured on the first rows only: a second pass over 100k rows costs more than a
# slightly narrow column is worth.
_WIDTH_SAMPLE_ROWS = 500
_MIN_WIDTH, _MAX_WIDTH = 6, 60

_ILLEGAL_SHEET_CHARS = str.maketrans({"[": "(", "]": ")", ":": "-", "/": "-", "\\": "-"})
_SHEET_NAME_MAX = 31

# CSV formula injection (OWASP): Excel runs a cell starting with = + - @ (or tab/CR before one)
# as a formula, so such cells get a leading ' in the CSV. A plain number or phone number
# (`+4712345678`, `-5`, `+47 123 45 678`, `3,5`) is left as it is: it has no letters, so it
# cannot name a function, a cell reference or a DDE command, and a quote would spoil the phone
# numbers the user sends to SEEN. `+1+2` or `-1-2` still get the quote (operators inside).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?\d[\d ]*(?:[.,]\d+)?")


def check_outcomes(
    table_index: Iterable[int], problems: Iterable[Problem]
) -> dict[int, tuple[str, str]]:
    """Before a send: each row's status and message from the problems found by the checks.

    A row with an error is ("invalid", its error messages joined by "; "); any other row is
    ("ready", its warning messages, or ""). A problem of the whole sheet (row None) that is an
    error makes every row invalid, since nothing can be sent until it is fixed; a sheet-wide
    warning is not repeated on every row (it belongs in the Problems sheet).
    """
    rows = list(table_index)
    errors: dict[int, list[str]] = {row: [] for row in rows}
    warnings: dict[int, list[str]] = {row: [] for row in rows}
    sheet_errors: list[str] = []
    for problem in problems:
        if problem.row is None:
            if problem.severity == "error":
                _add_once(sheet_errors, problem.message)
            continue
        target = errors if problem.severity == "error" else warnings
        if problem.row in target:
            _add_once(target[problem.row], problem.message)

    outcomes: dict[int, tuple[str, str]] = {}
    for row in rows:
        row_errors = errors[row] + [m for m in sheet_errors if m not in errors[row]]
        if row_errors:
            outcomes[row] = ("invalid", "; ".join(row_errors))
        else:
            outcomes[row] = ("ready", "; ".join(warnings[row]))
    return outcomes


def count_statuses(outcomes: Mapping[int, tuple[str, str]]) -> dict[str, int]:
    """Rows per status: every status of STATUSES (0 when absent), then any other status seen."""
    counts = dict.fromkeys(STATUSES, 0)
    for status, _message in outcomes.values():
        counts[status] = counts.get(status, 0) + 1
    return counts


def workbook_bytes(
    sheet: Sheet,
    outcomes: Mapping[int, tuple[str, str]],
    problems: Sequence[Problem] = (),
    summary: Mapping[str, object] | None = None,
) -> bytes:
    """The annotated XLSX: the user's sheet with `SEEN status` and `SEEN message`, rows coloured.

    Each person stays on the row number they had in the user's sheet (the header too), so the
    row numbers in messages and in the Problems sheet point at the same row here. A `Summary`
    sheet is added when `summary` is given, a `Problems` sheet when there are problems.
    Every piece of the user's text is written as a string: nothing becomes a formula, a number
    or a link.
    """
    columns = list(sheet.columns)
    if len(columns) + 2 > EXCEL_MAX_COLUMNS:
        raise ValueError(f"The sheet has {len(columns)} columns, more than Excel can hold.")
    table = sheet.table
    row_numbers = _spreadsheet_rows(sheet)
    if row_numbers is None:
        # Row numbers that cannot be kept (repeated, or above the header): write the rows
        # one after another under a header on row 1, in the table's order.
        header_at = 0
        row_numbers = list(range(2, len(table) + 2))
        order = range(len(table))
    else:
        header_at = sheet.header_row - 1
        order = sorted(range(len(table)), key=row_numbers.__getitem__)
    if row_numbers and max(row_numbers) > EXCEL_MAX_ROWS:
        raise ValueError(f"The sheet has more rows than Excel can hold ({EXCEL_MAX_ROWS:,}).")

    names = _sheet_names(sheet.sheet_name, summary is not None, bool(problems))
    output = io.BytesIO()
    # constant_memory streams each row to a temporary file as soon as the next one starts, so
    # a 100k-row report does not hold every cell in memory; it needs rows in ascending order.
    workbook = xlsxwriter.Workbook(
        output,
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
        },
    )
    header_format = workbook.add_format({"bold": True, "bottom": 1, "bg_color": "#F2F2F2"})
    status_formats = {
        status: workbook.add_format({"bg_color": bg, "font_color": fg})
        for status, (bg, fg) in _STATUS_COLOURS.items()
    }

    worksheet = workbook.add_worksheet(names[0])
    values_by_column = [table[column].tolist() for column in columns]
    index = table.index.tolist()
    widths = _column_widths(
        [*columns, STATUS_COLUMN, MESSAGE_COLUMN],
        [
            *(values[:_WIDTH_SAMPLE_ROWS] for values in values_by_column),
            [outcomes.get(row, ("", ""))[0] for row in index[:_WIDTH_SAMPLE_ROWS]],
            [outcomes.get(row, ("", ""))[1] for row in index[:_WIDTH_SAMPLE_ROWS]],
        ],
    )
    for col, width in enumerate(widths):
        worksheet.set_column(col, col, width)

    if header_at > 0:
        # Rows above the header were the user's title rows; say what this file is instead of
        # leaving them blank.
        worksheet.write_string(
            0, 0, f"{sheet.file_name}: checked by SEEN Sender; rows keep their original numbers."
        )
    for col, name in enumerate([*columns, STATUS_COLUMN, MESSAGE_COLUMN]):
        worksheet.write_string(header_at, col, _text(name), header_format)

    status_col = len(columns)
    write_string = worksheet.write_string
    write_blank = worksheet.write_blank
    for position in order:
        row_at = row_numbers[position] - 1
        status, message = outcomes.get(index[position], ("", ""))
        cell_format = status_formats.get(status)
        for col, values in enumerate(values_by_column):
            value = values[position]
            if type(value) is not str:
                value = _text(value)
            if value:
                write_string(row_at, col, value, cell_format)
            elif cell_format is not None:
                # An empty cell still takes the row's colour.
                write_blank(row_at, col, None, cell_format)
        if status:
            write_string(row_at, status_col, status, cell_format)
        if message:
            write_string(row_at, status_col + 1, message, cell_format)
        elif cell_format is not None:
            write_blank(row_at, status_col + 1, None, cell_format)

    last_row = max(row_numbers, default=header_at + 1) - 1
    worksheet.freeze_panes(header_at + 1, 0)
    worksheet.autofilter(header_at, 0, max(last_row, header_at), status_col + 1)

    if summary is not None:
        _write_summary(workbook.add_worksheet(names[1]), header_format, sheet, outcomes, summary)
    if problems:
        _write_problems(workbook.add_worksheet(names[-1]), header_format, problems)

    workbook.close()
    return output.getvalue()


def csv_bytes(sheet: Sheet, outcomes: Mapping[int, tuple[str, str]]) -> bytes:
    """The annotated CSV: UTF-8 with BOM (Excel then reads æ, ø, å right), comma-separated.

    Rows are in the table's order; text that Excel would run as a formula gets a leading '.
    """
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow([_csv_safe(_text(c)) for c in [*sheet.columns, STATUS_COLUMN, MESSAGE_COLUMN]])
    for row, *values in sheet.table[list(sheet.columns)].itertuples(index=True, name=None):
        status, message = outcomes.get(row, ("", ""))
        writer.writerow(
            [_csv_safe(v if type(v) is str else _text(v)) for v in (*values, status, message)]
        )
    return buffer.getvalue().encode("utf-8-sig")


def legal_sheet_name(name: str | None, taken: Iterable[str] = ()) -> str:
    """A worksheet name Excel accepts, close to `name`, not among `taken` (case ignored)."""
    cleaned = (name or "").translate(_ILLEGAL_SHEET_CHARS).replace("*", "_").replace("?", "_")
    # Excel refuses a name that starts or ends with an apostrophe, and reserves "History".
    cleaned = cleaned.strip().strip("'").strip() or DEFAULT_SHEET_NAME
    if cleaned.casefold() == "history":
        cleaned = f"{cleaned} (sheet)"
    cleaned = cleaned[:_SHEET_NAME_MAX].rstrip("'")
    taken_folded = {t.casefold() for t in taken}
    candidate, number = cleaned, 2
    while candidate.casefold() in taken_folded:
        suffix = f" ({number})"
        candidate = cleaned[: _SHEET_NAME_MAX - len(suffix)].rstrip("'") + suffix
        number += 1
    return candidate


def _sheet_names(user_sheet: str | None, with_summary: bool, with_problems: bool) -> list[str]:
    """Names for the sheets written, in order; ours keep their names, the user's gives way."""
    ours = [
        *([SUMMARY_SHEET_NAME] if with_summary else []),
        *([PROBLEMS_SHEET_NAME] if with_problems else []),
    ]
    return [legal_sheet_name(user_sheet, taken=ours), *ours]


def _spreadsheet_rows(sheet: Sheet) -> list[int] | None:
    """The row number of each person, or None when they cannot all keep their number."""
    try:
        rows = [int(r) for r in sheet.table.index]
    except (TypeError, ValueError):
        return None
    if len(set(rows)) != len(rows) or any(r <= sheet.header_row for r in rows):
        return None
    if sheet.header_row < 1:
        return None
    return rows


def _column_widths(headers: Sequence[str], samples: Sequence[Sequence[object]]) -> list[int]:
    widths = []
    for header, values in zip(headers, samples, strict=True):
        longest = max((len(str(v)) for v in values), default=0)
        widths.append(min(max(len(str(header)) + 3, longest + 2, _MIN_WIDTH), _MAX_WIDTH))
    return widths


def _write_summary(
    worksheet: Worksheet,
    header_format: Format,
    sheet: Sheet,
    outcomes: Mapping[int, tuple[str, str]],
    summary: Mapping[str, object],
) -> None:
    entries: list[tuple[str, object]] = [
        ("File", sheet.file_name),
        ("Sheet", sheet.sheet_name or ""),
        ("SHA-256", sheet.sha256),
    ]
    entries += [(_label(key), value) for key, value in summary.items()]
    entries.append(("Rows", len(sheet.table)))
    entries += [(status, count) for status, count in count_statuses(outcomes).items()]
    without_status = sum(1 for row in sheet.table.index if row not in outcomes)
    if without_status:
        entries.append(("no status", without_status))

    worksheet.set_column(0, 0, 14)
    worksheet.set_column(1, 1, 68)
    worksheet.write_string(0, 0, "Item", header_format)
    worksheet.write_string(0, 1, "Value", header_format)
    for row_at, (key, value) in enumerate(entries, start=1):
        worksheet.write_string(row_at, 0, key)
        # Counts we computed are numbers so Excel can add them up; anything else is text.
        if isinstance(value, int) and not isinstance(value, bool):
            worksheet.write_number(row_at, 1, value)
        else:
            worksheet.write_string(row_at, 1, _text(value))
    worksheet.freeze_panes(1, 0)


def _write_problems(
    worksheet: Worksheet, header_format: Format, problems: Sequence[Problem]
) -> None:
    headers = ("Row", "Column", "Field", "Code", "Severity", "Message")
    for col, (header, width) in enumerate(zip(headers, (7, 20, 16, 24, 10, 70), strict=True)):
        worksheet.set_column(col, col, width)
        worksheet.write_string(0, col, header, header_format)
    for row_at, problem in enumerate(problems[: EXCEL_MAX_ROWS - 1], start=1):
        # Row numbers are ours, written as numbers so the sheet sorts and filters by row.
        if problem.row is not None:
            worksheet.write_number(row_at, 0, problem.row)
        for col, value in enumerate(
            (problem.column, problem.field, problem.code, problem.severity, problem.message),
            start=1,
        ):
            if value:
                worksheet.write_string(row_at, col, _text(value))
    worksheet.freeze_panes(1, 0)
    worksheet.autofilter(0, 0, max(len(problems), 1), len(headers) - 1)


def _label(key: str) -> str:
    text = str(key).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def _text(value: object) -> str:
    """A cell as text: "" for nothing, ISO dates, str() for the rest."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value != value:  # NaN from pandas means an empty cell
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    return str(value)


def _csv_safe(value: str) -> str:
    if value.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def _add_once(messages: list[str], message: str) -> None:
    if message not in messages:
        messages.append(message)
