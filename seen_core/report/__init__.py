"""The report the user downloads: their own workbook, with SEEN's answer beside each person.

An XLSX or XLSM upload comes back as the same file: only the parts that must change are
rewritten (the receivers' sheet, the styles, the workbook's list of sheets), and in the
receivers' sheet only the header row and the people's rows, where cells are appended. Every
other part of the package (other sheets, charts, pictures, macros, names) is copied as it was.
CSV, XLS and ODS uploads (and the rare XLSX this cannot edit) are first turned into a plain
workbook of the same cells, numbers as numbers, which then gets the same annotations.

Both are written as SpreadsheetML directly rather than through openpyxl or XlsxWriter: those
handle every cell as a Python object (8-10 s for 100,000 rows), and openpyxl loses what it does
not model (shapes, form controls, slicers). See docs/ARCHITECTURE.md for the report's place in
the flow.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import hashlib
import io
import itertools
import math
import re
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from html import escape as _escape_attr
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import unescape as _unescape_xml

import pandas as pd

from seen_core.bulk import gc_paused
from seen_core.errors import InputError
from seen_core.problems import Problem
from seen_core.statuses import Status

if TYPE_CHECKING:
    from seen_core.mapping import Mapping as FieldMapping
    from seen_core.sheets import Sheet

STATUSES = tuple(Status)  # every status, in the enum's order
STATUS_COLUMN = "SEEN status"
MESSAGE_COLUMN = "SEEN message"
SENT_AS_SUFFIX = " (sent as)"
VIDEO_COLUMNS = ("Video", "Video thumbnail", "E-mail thumbnail")
DEFAULT_SHEET_NAME = "Receivers"
SUMMARY_SHEET_NAME = "Summary"
PROBLEMS_SHEET_NAME = "Problems"
COMMENT_AUTHOR = "SEEN Sender"

# Excel's grid and its limits on a cell's text and on hyperlinks per sheet.
EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_COLUMNS = 16_384
EXCEL_MAX_TEXT = 32_767
EXCEL_MAX_LINKS = 65_530

# Fills of Excel's own "Bad", "Neutral", "Good" cell styles, so the colours read the way Excel
# users already know them. Only the status cell and the cell that was wrong are coloured.
_RED, _AMBER, _GREEN, _BLUE, _GREY = "FFFFC7CE", "FFFFEB9C", "FFC6EFCE", "FFDDEBF7", "FFE7E6E6"
_STATUS_FILLS = {
    Status.READY: _BLUE,
    Status.CREATED: _GREEN,
    Status.REJECTED: _RED,
    Status.INVALID: _RED,
    Status.FAILED: _RED,
    Status.UNKNOWN: _AMBER,
    Status.NOT_SENT: _GREY,
}
_NEED_ATTENTION = (Status.REJECTED, Status.INVALID, Status.FAILED, Status.UNKNOWN)

_WIDTH_SAMPLE_ROWS = 500  # widths are measured on the first rows only
_MIN_WIDTH, _MAX_WIDTH = 8, 60

_ILLEGAL_SHEET_CHARS = str.maketrans({"[": "(", "]": ")", ":": "-", "/": "-", "\\": "-"})
_SHEET_NAME_MAX = 31

# CSV formula injection (OWASP): Excel runs a cell starting with = + - @ (or tab/CR before one)
# as a formula, so such cells get a leading ' in the CSV. A plain number or phone number
# (`+4712345678`, `-5`, `+47 123 45 678`, `3,5`) is left as it is: it has no letters, so it
# cannot name a function, a cell reference or a DDE command, and a quote would spoil the phone
# numbers the user sends to SEEN. `+1+2` or `-1-2` still get the quote (operators inside).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?\d[\d ]*(?:[.,]\d+)?")

# A cell of a CSV that Excel itself would read as a number without changing what it shows:
# no leading zero (postcodes, IDs), no + (phone numbers), at most 15 digits (Excel's precision).
_CSV_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?")


# --- what a report is made of --------------------------------------------------------------------


@dataclass(frozen=True)
class ReportSummary:
    """The Summary sheet, in a campaign manager's words.

    `target` names where the people were meant to go ("campaign 'spring'", "workspace 'ws-1'");
    `sent_to` says where they went ("SEEN", "the sandbox (nothing reached SEEN)", "not sent
    (checked only)"). `when` is shown in `time_zone` (an IANA name such as "Europe/Oslo";
    None: this computer's zone), with the zone named. `details` are further lines, such as
    ("Send", "#3, stopped: SEEN refused the token"). `sha256` is computed from the upload
    when left empty.
    """

    target: str
    sent_to: str
    when: dt.datetime | None = None
    who: str | None = None
    sha256: str = ""
    details: Sequence[tuple[str, str]] = ()
    time_zone: str | None = None


@dataclass(frozen=True, eq=False)
class ReportInput:
    """Everything a report is built from.

    `source` is the upload as it came, untouched; `sheet_name` and `header_row` (1-based) say
    where `seen_core.sheets` read the receivers. `table` holds the sheet's cells as text after
    the user's fixes, indexed by spreadsheet row number, with `sheets`' column names in sheet
    order (columns the app added, such as a split name, go after the user's). `original` is
    the table as `sheets` read it, before any fix: cells changed in the app are found by
    comparing the two (without it, by reading `source` again, which takes longer).

    `sent_as` is row → {column: value as sent} for values that differ from the cell (E.164
    phone, trimmed text); `values_as_sent` builds it. `extra_keys` is column → the key its
    values were sent under, for columns sent as extra fields (`extra_args` in v1, properties
    in 2.0); `extra_keys_of` builds it. `videos` is row → (player link, thumbnail, e-mail
    thumbnail) for 2.0 sends whose links were fetched.
    """

    file_name: str
    source: bytes
    sheet_name: str | None
    header_row: int
    table: pd.DataFrame
    outcomes: Mapping[int, tuple[str, str]]
    summary: ReportSummary
    problems: Sequence[Problem] = ()
    sent_as: Mapping[int, Mapping[str, str]] = field(default_factory=dict)
    extra_keys: Mapping[str, str] = field(default_factory=dict)
    videos: Mapping[int, tuple[str | None, str | None, str | None]] = field(default_factory=dict)
    original: pd.DataFrame | None = None

    @classmethod
    def of_sheet(
        cls,
        sheet: Sheet,
        source: bytes,
        outcomes: Mapping[int, tuple[str, str]],
        summary: ReportSummary,
        *,
        table: pd.DataFrame | None = None,
        **more: Any,
    ) -> ReportInput:
        """The report of `sheet` as `sheets.read_sheet` read it from `source`, with `table` the
        cells after the user's fixes (the sheet's own table when None)."""
        return cls(
            file_name=sheet.file_name,
            source=source,
            sheet_name=sheet.sheet_name,
            header_row=sheet.header_row,
            table=sheet.table if table is None else table,
            outcomes=outcomes,
            summary=summary,
            original=sheet.table,
            **more,
        )


def annotated_workbook(report: ReportInput) -> bytes:
    """The report as XLSX: the user's workbook with SEEN's columns, marks, a Summary and Problems.

    An XLSX/XLSM upload comes back as itself with the receivers' sheet annotated; CSV, XLS and
    ODS come back as a new workbook of the same cells. Raises InputError when the sheet does
    not fit Excel's grid.
    """
    with gc_paused():
        return _annotated_workbook(_with_keepable_rows(report))


def _annotated_workbook(report: ReportInput) -> bytes:
    kind = _source_kind(report)
    # The user's own XLSX is edited, not rebuilt: its cells need not be read when the table as
    # read is at hand.
    grid = None if kind == "xlsx" and report.original is not None else _source_grid(report, kind)
    plan = _plan(report, grid)
    if kind == "xlsx":
        try:
            package = _Package.from_zip(report.source)
            _annotate(package, plan, report, rebuilt=False)
            return package.to_bytes()
        except _NotInPlace:
            # A workbook this editor does not know how to change: rebuild it from its cells.
            grid = _source_grid(report, "workbook")
    package = _plain_package(report, plan, grid)
    _annotate(package, plan, report, rebuilt=True)
    return package.to_bytes()


def annotated_csv(report: ReportInput) -> bytes:
    """The report as CSV (UTF-8 with BOM, comma-separated): the user's columns as fixed in the
    app, then SEEN status, SEEN message, the values as sent and any video links.

    Rows are in the table's order; text that Excel would run as a formula gets a leading '.
    """
    with gc_paused():
        return _annotated_csv(report)


def _annotated_csv(report: ReportInput) -> bytes:
    plan = _plan(report, None)
    columns = list(report.table.columns)
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow([_csv_safe(c) for c in [*columns, *(a.header for a in plan.added)]])
    for row, *values in report.table[columns].itertuples(index=True, name=None):
        extra = [a.values.get(row, "") for a in plan.added]
        writer.writerow([_csv_safe(v if type(v) is str else _text(v)) for v in (*values, *extra)])
    return buffer.getvalue().encode("utf-8-sig")


def values_as_sent(
    table: pd.DataFrame,
    payloads: Iterable[tuple[int, Mapping[str, Any]]],
    mapping: FieldMapping,
    *,
    id_field: str = "customer_id",
) -> dict[int, dict[str, str]]:
    """Row → {column: value as sent}, for the values that differ from their cell.

    `payloads` are (row, payload) as `receivers.payloads` gives them (v1, with `extra_args`)
    or flat 2.0 objects (with `id_field` for the customer ID column); `mapping` is the
    mapping they were built with.
    """
    present = set(table.columns)
    columns = {k: c for k, c in _columns_by_name(mapping, id_field).items() if c in present}
    index = table.index.tolist()
    cells = {c: dict(zip(index, table[c].tolist(), strict=True)) for c in set(columns.values())}
    found: dict[int, dict[str, str]] = {}
    with gc_paused():
        for row, payload in payloads:
            items = list(payload.items())
            extra = payload.get("extra_args")
            if isinstance(extra, Mapping):
                items += [(k, v) for k, v in extra.items() if k not in payload]
            for key, value in items:
                column = columns.get(key)
                if column is None or value is None:
                    continue
                sent = value if type(value) is str else _text(value)
                cell = cells[column].get(row, "")
                if sent != (cell if type(cell) is str else _text(cell)):
                    found.setdefault(row, {})[column] = sent
    return found


def extra_keys_of(mapping: FieldMapping) -> dict[str, str]:
    """Column → the extra key it is sent under (`mapping.Mapping.extra_args` turned round)."""
    return {column: key for key, column in mapping.extra_args.items()}


def _columns_by_name(mapping: FieldMapping, id_field: str) -> dict[str, str]:
    names: dict[str, str] = {}
    for name, column in mapping.fields.items():
        names[id_field if name == "customer_id" else name] = column
    for key, column in mapping.extra_args.items():
        names.setdefault(key, column)
    return names


# --- before a send, and counting -----------------------------------------------------------------


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
            outcomes[row] = (Status.INVALID, "; ".join(row_errors))
        else:
            outcomes[row] = (Status.READY, "; ".join(warnings[row]))
    return outcomes


def count_statuses(outcomes: Mapping[int, tuple[str, str]]) -> dict[str, int]:
    """Rows per status: every status of STATUSES (0 when absent), then any other status seen."""
    counts: dict[str, int] = dict.fromkeys(STATUSES, 0)
    for status, _message in outcomes.values():
        counts[status] = counts.get(status, 0) + 1
    return counts


# --- the earlier entry points, until every caller builds a ReportInput ---------------------------


def workbook_bytes(
    sheet: Sheet,
    outcomes: Mapping[int, tuple[str, str]],
    problems: Sequence[Problem] = (),
    summary: Mapping[str, object] | None = None,
) -> bytes:
    """The annotated XLSX of a `sheets.Sheet` without its upload: every cell written as text.

    Kept for callers that have no upload at hand; `annotated_workbook` with the upload keeps
    the user's own workbook, numbers and fixes.
    """
    return annotated_workbook(_legacy_input(sheet, outcomes, problems, summary))


def csv_bytes(sheet: Sheet, outcomes: Mapping[int, tuple[str, str]]) -> bytes:
    """The annotated CSV of a `sheets.Sheet` (see `annotated_csv`)."""
    return annotated_csv(_legacy_input(sheet, outcomes, (), None))


def _legacy_input(
    sheet: Sheet,
    outcomes: Mapping[int, tuple[str, str]],
    problems: Sequence[Problem],
    summary: Mapping[str, object] | None,
) -> ReportInput:
    given = {str(k).casefold().replace("_", " "): v for k, v in (summary or {}).items()}
    target = given.pop("target", None) or given.pop("campaign", None) or given.pop("workspace", "")
    checked_only = all(str(s) in (Status.READY, Status.INVALID) for s, _ in outcomes.values())
    sent_to = given.pop("sent to", None) or ("not sent (checked only)" if checked_only else "")
    given.pop("file", None)
    sha = given.pop("sha-256", None) or given.pop("sha256", None) or sheet.sha256
    details = [(_label(k), _text(v)) for k, v in given.items() if _text(v)]
    return ReportInput(
        file_name=sheet.file_name,
        source=b"",
        sheet_name=sheet.sheet_name,
        header_row=sheet.header_row,
        table=sheet.table[list(sheet.columns)],
        outcomes=outcomes,
        summary=ReportSummary(
            target=_text(target), sent_to=_text(sent_to), sha256=str(sha), details=details
        ),
        problems=problems,
    )


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


# --- the plan: what goes where, shared by the workbook and the CSV -------------------------------


@dataclass
class _Added:
    """A column the report adds after the user's: its header, its cells by row, how to show it."""

    header: str
    values: dict[int, str]
    kind: str = "text"  # "text", "status" (coloured by status) or "link"
    note: str | None = None  # a comment on the header cell


_Edits = dict[int, dict[str, tuple[str, str]]]  # row → column → (old text, new text)


@dataclass
class _Plan:
    header_row: int
    rows: list[int]  # the people's spreadsheet rows, ascending
    positions: dict[str, int]  # the user's columns: name → 0-based sheet column
    added: list[_Added]
    marks: dict[int, dict[str, tuple[str, list[str]]]]  # row → column → (severity, reasons)
    edits: _Edits
    header_notes: dict[str, str]  # column → note on its header cell
    statuses: dict[int, str]
    width: int  # the user's columns: the report's own start after them (or further right)


@dataclass
class _Grid:
    """The receivers' sheet of the upload as typed cells, and every sheet for a rebuild."""

    cells: list[list[object]]  # the receivers' sheet, row 1 first, column A first
    sheets: list[tuple[str, list[list[object]], bool]] = field(default_factory=list)
    receivers: int = 0  # index of the receivers' sheet among `sheets`
    from_csv: bool = False  # every cell is text; plain numbers count as numbers


def _plan(report: ReportInput, grid: _Grid | None) -> _Plan:
    table = report.table
    columns = [str(c) for c in table.columns]
    rows = sorted(int(r) for r in table.index)
    if grid is not None and grid.cells:
        header = grid.cells[report.header_row - 1] if report.header_row <= len(grid.cells) else []
        positions = _positions(columns, header)
    else:
        known = columns if report.original is None else [str(c) for c in report.original.columns]
        positions = {c: i for i, c in enumerate(known) if c in columns}
    ours = [c for c in columns if c not in positions]

    outcomes = report.outcomes
    statuses = {row: str(outcomes[row][0]) for row in rows if row in outcomes}
    messages = {row: outcomes[row][1] for row in rows if row in outcomes and outcomes[row][1]}

    marks: dict[int, dict[str, tuple[str, list[str]]]] = {}
    row_set = set(rows)
    for problem in report.problems:
        if problem.row not in row_set:
            continue
        if problem.column in positions or problem.column in ours:
            in_row = marks.setdefault(problem.row, {})
            severity, reasons = in_row.get(problem.column, ("warning", []))
            if problem.message not in reasons:
                reasons.append(problem.message)
            in_row[problem.column] = (
                "error" if "error" in (severity, problem.severity) else "warning",
                reasons,
            )
        else:  # a problem of the row, not of one cell (no e-mail or phone): say it beside the row
            message = messages.get(problem.row, "")
            if problem.message not in message:
                messages[problem.row] = (
                    f"{message}; {problem.message}" if message else problem.message
                )

    added: list[_Added] = [
        _Added(c, _column_texts(table, c), note="Added in SEEN Sender.") for c in ours
    ]
    added.append(_Added(STATUS_COLUMN, statuses, kind="status"))
    added.append(_Added(MESSAGE_COLUMN, messages))
    sent: dict[str, dict[int, str]] = {}
    for row, values in report.sent_as.items():
        for column, value in values.items():
            if column in positions or column in ours:
                sent.setdefault(column, {})[int(row)] = value
    for column in [c for c in columns if c in sent]:
        texts = _column_texts(table, column)
        differ = {r: v for r, v in sent[column].items() if v != texts.get(r, "")}
        if differ:
            added.append(_Added(column + SENT_AS_SUFFIX, differ))
    for position, header in enumerate(VIDEO_COLUMNS):
        links = {
            int(row): links[position]
            for row, links in report.videos.items()
            if len(links) > position and links[position]
        }
        if links:
            added.append(_Added(header, links, kind="link"))

    notes = {
        column: f"Sent to SEEN under the name {key!r}."
        for column, key in report.extra_keys.items()
        if (column in positions or column in ours) and key != column
    }
    if report.original is not None:
        edits = _edits_between(report.original, table, positions)
    elif grid is not None and grid.cells:
        edits = _edits(table, positions, grid)
    else:
        edits = {}
    width = max(positions.values(), default=-1) + 1
    return _Plan(
        header_row=report.header_row,
        rows=rows,
        positions=positions,
        added=added,
        marks=marks,
        edits=edits,
        header_notes=notes,
        statuses=statuses,
        width=width,
    )


def _positions(columns: list[str], header: list[object]) -> dict[str, int]:
    """Where each of the table's columns sits in the sheet (by the names `sheets` gives them).

    A column the upload has no header for (one the app added) is left out: the report adds it
    after the user's.
    """
    from seen_core.sheets import unique_headers

    texts = [_text(c) for c in header]
    texts += [""] * max(0, len(columns) - len(texts))
    names = unique_headers(texts)
    where = {name: i for i, name in enumerate(names)}
    return {column: where[column] for column in columns if column in where}


def _column_texts(table: pd.DataFrame, column: str) -> dict[int, str]:
    """Row → the column's cell as text, for the cells that hold something."""
    values = table[column].tolist()
    if any(type(v) is not str for v in values):
        values = [_text(v) for v in values]
    return {row: value for row, value in zip(table.index.tolist(), values, strict=True) if value}


def _edits_between(
    original: pd.DataFrame, table: pd.DataFrame, positions: dict[str, int]
) -> _Edits:
    """Cells whose text differs between the table as read and as fixed in the app."""
    found: _Edits = {}
    for column in positions:
        if column not in original.columns:
            continue
        before = original[column]
        if not before.index.equals(table.index):
            before = before.reindex(table.index, fill_value="")
        after = table[column]
        changed = (before.to_numpy() != after.to_numpy()).nonzero()[0]
        for row, old, new in zip(
            table.index[changed], before.iloc[changed], after.iloc[changed], strict=True
        ):
            old, new = _text(old), _text(new)
            if old != new:
                found.setdefault(int(row), {})[column] = (old, new)
    return found


def _edits(table: pd.DataFrame, positions: dict[str, int], grid: _Grid) -> _Edits:
    """Cells whose text in the table differs from the upload: the user's fixes in the app."""
    cells = grid.cells
    lines = [cells[r - 1] if 0 < r <= len(cells) else () for r in (int(r) for r in table.index)]
    found: _Edits = {}
    for column, position in positions.items():
        olds = [line[position] if position < len(line) else "" for line in lines]
        news = table[column].tolist()
        for i, (old_value, new) in enumerate(zip(olds, news, strict=True)):
            if type(old_value) is str:
                if old_value == new:
                    continue
                old = old_value
            elif type(old_value) is float and old_value.is_integer():
                old = str(int(old_value))  # the usual number: a phone or an ID
            else:
                old = _cell_text(old_value)
            if type(new) is not str:
                new = _text(new)
            if new != old:
                found.setdefault(int(table.index[i]), {})[column] = (old, new)
    return found


def _with_keepable_rows(report: ReportInput) -> ReportInput:
    """The report with each person on their own row, or numbered afresh under a header on row 1
    when their numbers cannot be kept (repeated, or above the header)."""
    try:
        rows = [int(r) for r in report.table.index]
    except (TypeError, ValueError):
        rows = []
        keep = False
    else:
        keep = (
            report.header_row >= 1
            and len(set(rows)) == len(rows)
            and all(r > report.header_row for r in rows)
        )
    if keep:
        if rows and max(rows) > EXCEL_MAX_ROWS:
            raise InputError(
                f"The sheet has more rows than Excel can hold ({EXCEL_MAX_ROWS:,}); "
                "download the report as CSV instead."
            )
        return report
    old = list(report.table.index)
    new = list(range(2, len(old) + 2))
    moved = dict(zip(old, new, strict=True))
    table = report.table.copy()
    table.index = pd.Index(new, name=report.table.index.name)
    return replace(
        report,
        source=b"",
        header_row=1,
        table=table,
        outcomes={moved[r]: v for r, v in report.outcomes.items() if r in moved},
        problems=[
            p._replace(row=moved.get(p.row)) if p.row is not None else p for p in report.problems
        ],
        sent_as={moved[r]: v for r, v in report.sent_as.items() if r in moved},
        videos={moved[r]: v for r, v in report.videos.items() if r in moved},
    )


# --- reading the upload again ---------------------------------------------------------------


def _source_kind(report: ReportInput) -> str:
    """'xlsx' (edited in place), 'workbook' (XLS, ODS: rebuilt), 'csv', or 'none' (no upload)."""
    if not report.source:
        return "none"
    suffix = Path(report.file_name).suffix.lower()
    if suffix in (".xlsx", ".xlsm") and report.source.startswith(b"PK\x03\x04"):
        return "xlsx"
    if suffix in (".xlsx", ".xlsm", ".xls", ".ods"):
        return "workbook"
    return "csv"


def _source_grid(report: ReportInput, kind: str) -> _Grid | None:
    if kind == "none":
        return None
    if kind == "csv":
        from seen_core.sheets import decode_text, sniff_delimiter

        text = decode_text(report.source)
        cells: list[list[object]] = list(
            csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text))
        )
        return _Grid(cells, [(report.sheet_name or DEFAULT_SHEET_NAME, cells, False)], 0, True)
    import python_calamine

    try:
        book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(report.source))
        metas = [
            m for m in book.sheets_metadata if m.typ == python_calamine.SheetTypeEnum.WorkSheet
        ]
        names = [m.name for m in metas]
        receivers = names.index(report.sheet_name) if report.sheet_name in names else 0
        if kind == "xlsx":  # edited in place: only the receivers' sheet is read
            metas = metas[receivers : receivers + 1]
            receivers = 0
        sheets = [
            (
                m.name,
                book.get_sheet_by_name(m.name).to_python(skip_empty_area=False),
                m.visible != python_calamine.SheetVisibleEnum.Visible,
            )
            for m in metas
        ]
    except Exception:  # the upload was read once already; failing now leaves no cells to keep
        return None
    if not sheets:
        return None
    return _Grid(sheets[receivers][1], sheets, receivers)


# --- text in SpreadsheetML -------------------------------------------------------------------

_XML_SPECIAL = re.compile(
    r"[&<>\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]|_x[0-9A-Fa-f]{4}_"
)


def _xml_text(text: str) -> str:
    """Text for a <t> element: escaped, control characters as Excel writes them (_x0007_)."""
    if len(text) > EXCEL_MAX_TEXT:
        text = text[:EXCEL_MAX_TEXT]
    if _XML_SPECIAL.search(text) is None:
        return text
    return _XML_SPECIAL.sub(_xml_special, text)


def _xml_special(match: re.Match[str]) -> str:
    found = match.group()
    if found == "&":
        return "&amp;"
    if found == "<":
        return "&lt;"
    if found == ">":
        return "&gt;"
    if len(found) > 1:  # a literal _x0041_ in the user's text: its underscore is escaped
        return "_x005F" + found
    return f"_x{ord(found):04X}_"


def _attr_text(text: str) -> str:
    return _escape_attr(_xml_text(text), quote=True)


_SPACES = frozenset(" \t\n\r")
# Whether any of a row's texts needs more than writing as it is, checked once for the row on
# its texts joined by a character no text needs; a false alarm only costs the careful way.
_JOIN = "\ufffc"


_ESCAPE, _SPACED = 1, 2  # what a group of texts needs: escaping, or edge spaces kept


def _care(texts: Iterable[str]) -> int:
    """What writing `texts` needs beyond putting them in <t> as they are (0: nothing)."""
    texts = list(texts)
    if not texts:
        return 0
    joined = _JOIN.join(texts)
    escape = (
        max(map(len, texts)) > EXCEL_MAX_TEXT
        or not joined.isprintable()  # control characters, and some harmless ones
        or "&" in joined
        or "<" in joined
        or ">" in joined
        or "_x" in joined
    )
    spaced = (
        joined[:1] == " " or joined[-1:] == " " or _JOIN + " " in joined or " " + _JOIN in joined
    )
    return (_ESCAPE if escape else 0) | (_SPACED if spaced else 0)


def _inline(ref: str, text: str, style: int, care: int) -> str:
    """A text cell, for text among texts that need `care` (see `_care`)."""
    if care & _ESCAPE:
        return _text_cell(ref, text, style)
    s = f' s="{style}"' if style else ""
    if care and (text[0] == " " or text[-1] == " "):
        return f'<c r="{ref}"{s} t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'
    return f'<c r="{ref}"{s} t="inlineStr"><is><t>{text}</t></is></c>'


def _text_cell(ref: str, text: str, style: int = 0) -> str:
    """An inline-string cell: always text, never a formula, whatever it starts with."""
    s = f' s="{style}"' if style else ""
    body = _xml_text(text)
    space = ' xml:space="preserve"' if body[:1].isspace() or body[-1:].isspace() else ""
    return f'<c r="{ref}"{s} t="inlineStr"><is><t{space}>{body}</t></is></c>'


def _number_cell(ref: str, number: str, style: int = 0) -> str:
    s = f' s="{style}"' if style else ""
    return f'<c r="{ref}"{s}><v>{number}</v></c>'


@functools.lru_cache(maxsize=4096)
def column_letter(index: int) -> str:
    """'A' for 0, 'AA' for 26."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _column_index(letters: str) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - 64
    return index - 1


def _number_text(value: float | int) -> str | None:
    """A number as SpreadsheetML writes it, or None for what Excel cannot hold (NaN, inf)."""
    if type(value) is int:
        return str(value) if abs(value) < 10**15 else None
    if math.isnan(value) or math.isinf(value):
        return None
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def _plain_number(text: str) -> str | None:
    """`text` as a number cell's value if it is a plain number Excel shows the same way."""
    if text.isdigit() and text.isascii():  # the usual case, without the regular expression
        return text if len(text) <= 15 and (text[0] != "0" or len(text) == 1) else None
    if len(text) > 17 or _CSV_NUMBER.fullmatch(text) is None:
        return None
    if len(text) > 15 and len(text) - text.startswith("-") - ("." in text) > 15:
        return None  # more digits than Excel keeps
    return text


_EPOCH = dt.datetime(1899, 12, 30)


def _serial(value: dt.date | dt.datetime | dt.time) -> float | None:
    """Excel's serial number of a date or time (None before 1900-03-01, where Excel miscounts)."""
    if isinstance(value, dt.time):
        return (value.hour * 3600 + value.minute * 60 + value.second) / 86400
    if not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day)
    if value.tzinfo is not None:
        value = value.replace(tzinfo=None)
    if value < dt.datetime(1900, 3, 1):
        return None
    delta = value - _EPOCH
    return delta.days + delta.seconds / 86400


# --- the package: the zip of XML parts an XLSX is ----------------------------------------------

_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
_REL_TYPE = _REL_NS + "/"
_CT_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
_CT_COMMENTS = "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"
_CT_VML = "application/vnd.openxmlformats-officedocument.vmlDrawing"
_CT_STYLES = "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"
_CT_WORKBOOK = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
_XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_BIG_PART = 2_000_000  # parts larger than this are compressed fast rather than small


class _NotInPlace(Exception):
    """This XLSX has something the in-place editor does not handle; rebuild the workbook."""


class _Package:
    """The parts of an XLSX, read lazily from the upload; changed parts are kept in memory."""

    def __init__(self, source: zipfile.ZipFile | None = None) -> None:
        self.source = source
        self.names: list[str] = [i.filename for i in source.infolist()] if source else []
        self.changed: dict[str, bytes] = {}
        self.deleted: set[str] = set()
        # A rebuilt workbook's receivers' sheet (part, name, index) and the rows to write in it.
        self.receivers: tuple[str, str, int] | None = None
        self.rows: tuple[list[list[object]], str] | None = None

    @classmethod
    def from_zip(cls, data: bytes) -> _Package:
        try:
            return cls(zipfile.ZipFile(io.BytesIO(data)))
        except zipfile.BadZipFile:
            raise _NotInPlace from None

    def has(self, name: str) -> bool:
        return name in self.changed or (name in self.names and name not in self.deleted)

    def read(self, name: str) -> bytes:
        if name in self.changed:
            return self.changed[name]
        if self.source is None or name not in self.names or name in self.deleted:
            raise _NotInPlace
        return self.source.read(name)

    def text(self, name: str) -> str:
        return self.read(name).decode("utf-8")

    def write(self, name: str, data: bytes | str) -> None:
        if name not in self.names:
            self.names.append(name)
        self.deleted.discard(name)
        self.changed[name] = data.encode("utf-8") if isinstance(data, str) else data

    def delete(self, name: str) -> None:
        self.deleted.add(name)
        self.changed.pop(name, None)

    def free_name(self, pattern: str) -> str:
        """The first `pattern.format(n)` (n = 1, 2, ...) that is not a part yet."""
        taken = {n.casefold() for n in self.names if n not in self.deleted}
        number = 1
        while pattern.format(number).casefold() in taken:
            number += 1
        return pattern.format(number)

    def to_bytes(self) -> bytes:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
            for name in self.names:
                if name in self.deleted:
                    continue
                data = self.changed[name] if name in self.changed else self.read(name)
                info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                package.writestr(info, data, compresslevel=1 if len(data) > _BIG_PART else 6)
        return out.getvalue()

    # relationships --------------------------------------------------------------------------

    @staticmethod
    def rels_name(part: str) -> str:
        path = PurePosixPath(part)
        return str(path.parent / "_rels" / (path.name + ".rels")).lstrip("./")

    def relationships(self, part: str) -> list[dict[str, str]]:
        """The relationships of `part` (or of the package for ""), targets resolved to parts."""
        name = "_rels/.rels" if not part else self.rels_name(part)
        if not self.has(name):
            return []
        found = []
        for tag in re.findall(r"<(?:\w+:)?Relationship\b[^>]*>", self.text(name)):
            attrs = _attrs(tag)
            target = attrs.get("Target", "")
            if attrs.get("TargetMode") != "External":
                target = _resolve(part, target)
            found.append({**attrs, "Target": target})
        return found

    def add_relationship(self, part: str, kind: str, target: str, external: bool = False) -> str:
        """Add a relationship from `part`; returns its new id. `target` as written in the rels."""
        name = self.rels_name(part)
        text = (
            self.text(name)
            if self.has(name)
            else f'{_XML_DECLARATION}<Relationships xmlns="{_PKG_REL_NS}"></Relationships>'
        )
        taken = set(re.findall(r'\bId\s*=\s*["\']([^"\']+)["\']', text))
        number = len(taken) + 1
        while f"rId{number}" in taken:
            number += 1
        rid = f"rId{number}"
        mode = ' TargetMode="External"' if external else ""
        entry = (
            f'<Relationship Id="{rid}" Type="{_REL_TYPE}{kind}" '
            f'Target="{_escape_attr(target, quote=True)}"{mode}/>'
        )
        self.write(name, _insert_before_close(text, "Relationships", entry))
        return rid

    def add_many_relationships(self, part: str, kind: str, targets: list[str]) -> list[str]:
        """Many external relationships at once (hyperlinks), without re-reading the rels each."""
        name = self.rels_name(part)
        text = (
            self.text(name)
            if self.has(name)
            else f'{_XML_DECLARATION}<Relationships xmlns="{_PKG_REL_NS}"></Relationships>'
        )
        taken = set(re.findall(r'\bId\s*=\s*["\']([^"\']+)["\']', text))
        ids, entries, number = [], [], 0
        for target in targets:
            number += 1
            while f"rIdSeen{number}" in taken:
                number += 1
            rid = f"rIdSeen{number}"
            ids.append(rid)
            entries.append(
                f'<Relationship Id="{rid}" Type="{_REL_TYPE}{kind}" '
                f'Target="{_escape_attr(target, quote=True)}" TargetMode="External"/>'
            )
        self.write(name, _insert_before_close(text, "Relationships", "".join(entries)))
        return ids

    def add_content_type(self, part: str, content_type: str) -> None:
        text = self.text("[Content_Types].xml")
        entry = f'<Override PartName="/{part}" ContentType="{content_type}"/>'
        self.write("[Content_Types].xml", _insert_before_close(text, "Types", entry))

    def add_default_type(self, extension: str, content_type: str) -> None:
        text = self.text("[Content_Types].xml")
        if re.search(rf'Extension\s*=\s*["\']{extension}["\']', text, re.I):
            return
        entry = f'<Default Extension="{extension}" ContentType="{content_type}"/>'
        self.write("[Content_Types].xml", _insert_before_close(text, "Types", entry))


_ATTR = re.compile(r'([\w:.-]+)\s*=\s*(?:"([^"]*)"|\'([^\']*)\')')


def _attrs(tag: str) -> dict[str, str]:
    return {m[1]: _unescape_xml(m[2] if m[2] is not None else m[3], {"&quot;": '"', "&apos;": "'"})
            for m in _ATTR.finditer(tag)}  # fmt: skip


def _resolve(part: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    base = PurePosixPath(part).parent
    parts: list[str] = []
    for piece in (base / target).parts:
        if piece == "..":
            if parts:
                parts.pop()
        elif piece != ".":
            parts.append(piece)
    return "/".join(parts)


def _relative(from_part: str, to_part: str) -> str:
    """The target `to_part` as written in the rels of `from_part` ('../comments1.xml')."""
    base = PurePosixPath(from_part).parent.parts
    target = PurePosixPath(to_part).parts
    common = 0
    while common < min(len(base), len(target)) and base[common] == target[common]:
        common += 1
    return "/".join([".."] * (len(base) - common) + list(target[common:]))


def _insert_before_close(text: str, element: str, insert: str) -> str:
    """`insert` just before `</element>` (with any prefix), opening a self-closed element."""
    closes = list(re.finditer(rf"</(?:\w+:)?{element}\s*>", text))
    if closes:
        close = closes[-1]
        return text[: close.start()] + insert + text[close.start() :]
    empty = re.search(rf"<((?:\w+:)?{element})\b([^>]*?)/>", text)
    if empty is None:
        raise _NotInPlace
    return (
        text[: empty.start()]
        + f"<{empty.group(1)}{empty.group(2)}>{insert}</{empty.group(1)}>"
        + text[empty.end() :]
    )


def _prefix(text: str, root: str) -> str:
    """The namespace prefix the part uses for SpreadsheetML ('' or 'x:'), from its root tag."""
    match = re.search(rf"<(\w+:)?{root}\b([^>]*)>", text)
    if match is None:
        raise _NotInPlace
    prefix = match.group(1) or ""
    namespace = _attrs(match.group(2)).get("xmlns:" + prefix[:-1] if prefix else "xmlns")
    if namespace != _MAIN_NS:
        raise _NotInPlace  # Strict OOXML and other dialects: rebuilt instead
    return prefix


# --- the plain workbook a CSV, XLS or ODS becomes ------------------------------------------------

_PLAIN_STYLES = (
    f'{_XML_DECLARATION}<styleSheet xmlns="{_MAIN_NS}">'
    '<numFmts count="3"><numFmt numFmtId="164" formatCode="yyyy\\-mm\\-dd"/>'
    '<numFmt numFmtId="165" formatCode="yyyy\\-mm\\-dd\\ hh:mm"/>'
    '<numFmt numFmtId="166" formatCode="hh:mm"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="5"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="166" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
_BOLD, _DATE, _DATETIME, _TIME = 1, 2, 3, 4


def _plain_package(report: ReportInput, plan: _Plan, grid: _Grid | None) -> _Package:
    """A new workbook holding the upload's cells (numbers as numbers where the upload had
    numbers), the receivers' sheet with its title rows and each person on their own row."""
    if grid is None or not grid.cells:
        receivers_name = legal_sheet_name(report.sheet_name)
        sheets = [(receivers_name, _grid_from_table(report, plan.positions), False)]
        receivers = 0
        typed = False
    else:
        taken: list[str] = []
        sheets = []
        for name, cells, hidden in grid.sheets:
            legal = legal_sheet_name(name, taken)
            taken.append(legal)
            sheets.append((legal, cells, hidden))
        receivers = grid.receivers
        typed = True
    last_row = max(plan.rows, default=plan.header_row)
    if last_row > EXCEL_MAX_ROWS or len(sheets[receivers][1]) > EXCEL_MAX_ROWS:
        raise InputError(
            f"The sheet has more rows than Excel can hold ({EXCEL_MAX_ROWS:,}); "
            "download the report as CSV instead."
        )
    numbers = "csv" if grid is not None and grid.from_csv else "typed" if typed else "text"

    package = _Package()
    package.write("[Content_Types].xml", "")  # written last, when every part is known
    package.write(
        "_rels/.rels",
        f'{_XML_DECLARATION}<Relationships xmlns="{_PKG_REL_NS}"><Relationship Id="rId1" '
        f'Type="{_REL_TYPE}officeDocument" Target="xl/workbook.xml"/></Relationships>',
    )
    entries, rels, overrides = [], [], []
    for number, (name, cells, hidden) in enumerate(sheets, start=1):
        part = f"xl/worksheets/sheet{number}.xml"
        is_receivers = number - 1 == receivers
        header = plan.header_row if is_receivers else None
        package.write(part, _plain_sheet(cells, header, numbers, is_receivers))
        state = ' state="hidden"' if hidden and not is_receivers else ""
        entries.append(
            f'<sheet name="{_attr_text(name)}" sheetId="{number}"{state} r:id="rId{number}"/>'
        )
        rels.append(
            f'<Relationship Id="rId{number}" Type="{_REL_TYPE}worksheet" '
            f'Target="worksheets/sheet{number}.xml"/>'
        )
        overrides.append(f'<Override PartName="/{part}" ContentType="{_CT_WORKSHEET}"/>')
    styles_id = len(sheets) + 1
    rels.append(f'<Relationship Id="rId{styles_id}" Type="{_REL_TYPE}styles" Target="styles.xml"/>')
    package.write(
        "xl/workbook.xml",
        f'{_XML_DECLARATION}<workbook xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}">'
        f'<bookViews><workbookView activeTab="{receivers}"/></bookViews>'
        f"<sheets>{''.join(entries)}</sheets></workbook>",
    )
    package.write(
        "xl/_rels/workbook.xml.rels",
        f'{_XML_DECLARATION}<Relationships xmlns="{_PKG_REL_NS}">{"".join(rels)}</Relationships>',
    )
    package.write("xl/styles.xml", _PLAIN_STYLES)
    package.write(
        "[Content_Types].xml",
        f'{_XML_DECLARATION}<Types xmlns="{_CT_NS}">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{_CT_WORKBOOK}"/>'
        f'<Override PartName="/xl/styles.xml" ContentType="{_CT_STYLES}"/>'
        f"{''.join(overrides)}</Types>",
    )
    package.receivers = (f"xl/worksheets/sheet{receivers + 1}.xml", sheets[receivers][0], receivers)
    package.rows = (sheets[receivers][1], numbers)
    return package


def _grid_from_table(report: ReportInput, positions: dict[str, int]) -> list[list[object]]:
    """The receivers' sheet rebuilt from the table alone: the user's columns where they stood,
    each person on their row (the columns the app added come with SEEN's)."""
    table = report.table
    rows = [int(r) for r in table.index]
    width = max(positions.values(), default=-1) + 1
    cells: list[list[object]] = [[] for _ in range(max(rows, default=report.header_row))]
    header: list[object] = [""] * width
    for column, position in positions.items():
        header[position] = column
    cells[report.header_row - 1] = header
    if list(positions) == list(table.columns) and list(positions.values()) == list(range(width)):
        lines = table.to_numpy(dtype=object).tolist()  # the usual case: the table as it stands
    else:
        lines = [[""] * width for _ in rows]
        for column, position in positions.items():
            for line, value in zip(lines, table[column].tolist(), strict=True):
                line[position] = value
    for row, line in zip(rows, lines, strict=True):
        cells[row - 1] = line  # texts; anything else is written as its text
    return cells


def _plain_sheet(
    cells: list[list[object]], header_row: int | None, numbers: str, receivers: bool
) -> str:
    """One worksheet of the upload's cells (see `_grid_cells` for `numbers`). The receivers'
    sheet is left without rows: the report writes them, annotated, in one go."""
    widths: list[int] = []
    for line in cells[:_WIDTH_SAMPLE_ROWS]:
        widths += [0] * (len(line) - len(widths))
        for c, value in enumerate(line):
            if value not in ("", None):
                widths[c] = max(widths[c], len(value if type(value) is str else _cell_text(value)))
    rows = []
    if not receivers:
        for r, line in enumerate(_grid_cells(cells, numbers, None), start=1):
            xml = "".join(line)
            if xml:
                rows.append(f'<row r="{r}">{xml}</row>')
    cols = "".join(
        f'<col min="{i + 1}" max="{i + 1}" width="{_width(w)}" customWidth="1"/>'
        for i, w in enumerate(widths)
        if w
    )
    view = ""
    if header_row is not None:
        view = (
            f'<pane ySplit="{header_row}" topLeftCell="A{header_row + 1}" '
            'activePane="bottomLeft" state="frozen"/>'
        )
    selected = ' tabSelected="1"' if receivers else ""
    return (
        f'{_XML_DECLARATION}<worksheet xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}">'
        f'<sheetViews><sheetView{selected} workbookViewId="0">{view}</sheetView></sheetViews>'
        '<sheetFormatPr defaultRowHeight="15"/>'
        f"{f'<cols>{cols}</cols>' if cols else ''}"
        f"<sheetData>{''.join(rows)}</sheetData>"
        '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
        "</worksheet>"
    )


_NUMBER_START = frozenset("-0123456789")


def _grid_cells(
    grid: list[list[object]], numbers: str, header_row: int | None
) -> list[tuple[str, ...]]:
    """Each row's cells of a rebuilt sheet, as XML, one entry per column ("" for none), made
    column by column: in a column the same few questions have the same answers.

    `numbers`: 'typed' keeps the reader's types, 'csv' writes plain numbers as numbers, 'text'
    writes every cell as text. The header row is bold and never numbers.
    """
    columns = []
    for index, column in enumerate(itertools.zip_longest(*grid, fillvalue="")):
        try:
            care = _care(column)  # type: ignore[arg-type]
        except TypeError:  # numbers and dates among the texts
            care = _care([v for v in column if type(v) is str])
        columns.append(_column_cells(column, column_letter(index), numbers, care))
        if header_row is not None and header_row <= len(column):
            value = column[header_row - 1]
            text = value if type(value) is str else _cell_text(value)
            ref = f"{column_letter(index)}{header_row}"
            columns[-1][header_row - 1] = _text_cell(ref, text, _BOLD) if text else ""
    return list(zip(*columns, strict=True))


def _column_cells(column: Sequence[object], letter: str, numbers: str, care: int) -> list[str]:
    start = f'<c r="{letter}'
    csv_numbers = numbers == "csv"
    out = [""] * len(column)
    for i, value in enumerate(column):
        if type(value) is str:
            if not value:
                continue
            if csv_numbers and value[0] in _NUMBER_START:
                if value.isdigit():  # the usual number, without the regular expression
                    plain = len(value) <= 15 and value.isascii()
                    number = value if plain and (value[0] != "0" or len(value) == 1) else None
                else:
                    number = _plain_number(value)
                if number is not None:
                    out[i] = f'{start}{i + 1}"><v>{number}</v></c>'
                    continue
            if care:
                out[i] = _inline(f"{letter}{i + 1}", value, 0, care)
            else:
                out[i] = f'{start}{i + 1}" t="inlineStr"><is><t>{value}</t></is></c>'
        elif value is not None:
            if numbers == "text":
                text = _cell_text(value)
                out[i] = _text_cell(f"{letter}{i + 1}", text) if text else ""
            else:
                out[i] = _typed_cell(f"{letter}{i + 1}", value, 0)
    return out


def _typed_cell(ref: str, value: object, style: int) -> str:
    kind = type(value)
    if kind is float or kind is int:
        number = _number_text(value)  # type: ignore[arg-type]
        return _number_cell(ref, number, style) if number is not None else ""
    if kind is bool:
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'  # type: ignore[call-overload]
    if isinstance(value, dt.datetime | dt.date | dt.time):
        serial = _serial(value)
        if serial is not None:
            date_style = (
                _TIME
                if isinstance(value, dt.time)
                else _DATETIME
                if isinstance(value, dt.datetime) and value.time() != dt.time(0)
                else _DATE
            )
            return _number_cell(ref, _number_text(serial) or "0", date_style)
    text = _cell_text(value)
    return _text_cell(ref, text, style) if text else ""


def _width(characters: int) -> int:
    return min(max(characters + 2, _MIN_WIDTH), _MAX_WIDTH)


# --- annotating a workbook ---------------------------------------------------------------------


class _Styles:
    """The workbook's styles.xml, with the fills and fonts the report adds."""

    def __init__(self, text: str) -> None:
        self.prefix = _prefix(text, "styleSheet")
        self.text = text
        p = re.escape(self.prefix)
        section = re.search(rf"<{p}cellXfs\b[^>]*>(.*?)</{p}cellXfs>", text, re.S)
        if section is None:
            raise _NotInPlace
        self.xfs = re.findall(rf"<{p}xf\b[^>]*?(?:/>|>.*?</{p}xf>)", section.group(1), re.S)
        self.new_xfs: list[str] = []
        self.new_fills: list[str] = []
        self.new_fonts: list[str] = []
        self.fill_count = self._count("fills")
        self.font_count = self._count("fonts")
        self.cache: dict[tuple[object, ...], int] = {}
        font = re.search(rf"<{p}font\b[^>]*>(.*?)</{p}font>", text, re.S)
        first_font = font.group(1) if font else ""
        size = re.search(r'<(?:\w+:)?sz\s+val="([^"]+)"', first_font)
        name = re.search(r'<(?:\w+:)?name\s+val="([^"]+)"', first_font)
        self.font_size = size.group(1) if size else "11"
        self.font_name = name.group(1) if name else "Calibri"

    def _count(self, element: str) -> int:
        p = re.escape(self.prefix)
        section = re.search(rf"<{p}{element}\b[^>]*?(?:/>|>(.*?)</{p}{element}>)", self.text, re.S)
        if section is None:
            raise _NotInPlace
        inner = section.group(1) or ""
        return len(re.findall(rf"<{p}{element[:-1]}\b", inner))

    def with_fill(self, style: int, rgb: str) -> int:
        """The style `style` with a solid fill of colour `rgb` (for the cell that was wrong)."""
        key = ("fill", style, rgb)
        if key not in self.cache:
            fill_id = self._fill(rgb)
            xf = self.xfs[style] if 0 <= style < len(self.xfs) else self.xfs[0]
            self.cache[key] = self._xf(_set_attrs(xf, fillId=str(fill_id), applyFill="1"))
        return self.cache[key]

    def with_font(self, style: int, kind: str) -> int:
        """The style `style` in a bold ('bold') or hyperlink ('link') font."""
        key = ("font", style, kind)
        if key not in self.cache:
            font_id = self._font(kind)
            xf = self.xfs[style] if 0 <= style < len(self.xfs) else self.xfs[0]
            self.cache[key] = self._xf(_set_attrs(xf, fontId=str(font_id), applyFont="1"))
        return self.cache[key]

    def _fill(self, rgb: str) -> int:
        key = ("fill-id", rgb)
        if key not in self.cache:
            p = self.prefix
            self.new_fills.append(
                f'<{p}fill><{p}patternFill patternType="solid"><{p}fgColor rgb="{rgb}"/>'
                f'<{p}bgColor indexed="64"/></{p}patternFill></{p}fill>'
            )
            self.cache[key] = self.fill_count + len(self.new_fills) - 1
        return self.cache[key]

    def _font(self, kind: str) -> int:
        key = ("font-id", kind)
        if key not in self.cache:
            p = self.prefix
            look = f"<{p}b/>" if kind == "bold" else f"<{p}u/>"
            colour = f'<{p}color rgb="FF0563C1"/>' if kind == "link" else ""
            self.new_fonts.append(
                f'<{p}font>{look}<{p}sz val="{self.font_size}"/>{colour}'
                f'<{p}name val="{_escape_attr(self.font_name, quote=True)}"/></{p}font>'
            )
            self.cache[key] = self.font_count + len(self.new_fonts) - 1
        return self.cache[key]

    def _xf(self, xf: str) -> int:
        self.new_xfs.append(xf)
        return len(self.xfs) + len(self.new_xfs) - 1

    def to_xml(self) -> str:
        text = self.text
        for element, added, count in (
            ("fonts", self.new_fonts, self.font_count),
            ("fills", self.new_fills, self.fill_count),
            ("cellXfs", self.new_xfs, len(self.xfs)),
        ):
            if not added:
                continue
            text = _insert_before_close(text, element, "".join(added))
            text = re.sub(
                rf"(<{re.escape(self.prefix)}{element}\b[^>]*?\bcount\s*=\s*)([\"'])\d+\2",
                rf"\g<1>\g<2>{count + len(added)}\g<2>",
                text,
                count=1,
            )
        return text


def _set_attrs(tag: str, **values: str) -> str:
    """The element `tag` (raw XML) with its start tag's attributes set to `values`."""
    end = tag.index(">")
    start, rest = tag[:end], tag[end:]
    closing = ""
    if start.endswith("/"):
        start, closing = start[:-1], "/"
    for name, value in values.items():
        pattern = re.compile(rf"(\s{name}\s*=\s*)([\"'])[^\"']*\2")
        if pattern.search(start):
            start = pattern.sub(rf'\g<1>"{value}"', start, count=1)
        else:
            start += f' {name}="{value}"'
    return start + closing + rest


def _annotate(package: _Package, plan: _Plan, report: ReportInput, *, rebuilt: bool) -> None:
    """Write the plan into the receivers' sheet of `package` and add Summary and Problems."""
    workbook_part = next(
        (r["Target"] for r in package.relationships("") if r["Type"].endswith("/officeDocument")),
        None,
    )
    if workbook_part is None:
        raise _NotInPlace
    workbook = package.text(workbook_part)
    book_prefix = _prefix(workbook, "workbook")
    book_rels = {r["Id"]: r for r in package.relationships(workbook_part)}
    sheets = _workbook_sheets(workbook, book_prefix)
    if package.receivers is not None:
        sheet_part = package.receivers[0]
    else:
        wanted = [s for s in sheets if s["name"] == report.sheet_name] or sheets[:1]
        if not wanted or wanted[0]["rid"] not in book_rels:
            raise _NotInPlace
        sheet_part = book_rels[wanted[0]["rid"]]["Target"]
        if not book_rels[wanted[0]["rid"]]["Type"].endswith("/worksheet"):
            raise _NotInPlace
    styles_part = next(
        (r["Target"] for r in book_rels.values() if r["Type"].endswith("/styles")), None
    )
    if styles_part is None:
        raise _NotInPlace
    styles = _Styles(package.text(styles_part))

    sheet = _SheetEditor(package, sheet_part, plan, styles, rebuilt=rebuilt)
    sheet.annotate(*(package.rows or ()))

    # Our own sheets, after the user's, under names the user's sheets do not use.
    taken = [s["name"] for s in sheets]
    summary_name = legal_sheet_name(SUMMARY_SHEET_NAME, taken)
    problems_name = legal_sheet_name(PROBLEMS_SHEET_NAME, [*taken, summary_name])
    bold = styles.with_font(0, "bold")
    summary_rows, summary_widths = _summary_rows(report, plan)
    problem_rows, problem_widths = _problem_rows(report)
    next_id = max((int(s["sheetId"]) for s in sheets if s["sheetId"].isdigit()), default=0) + 1
    r_prefix = _namespace_prefix(workbook, _REL_NS)
    if r_prefix is None:
        workbook = _declare(workbook, "workbook", "r", _REL_NS)
        r_prefix = "r"
    entries = []
    for offset, (name, rows, widths) in enumerate(
        [
            (summary_name, summary_rows, summary_widths),
            (problems_name, problem_rows, problem_widths),
        ]
    ):
        part = package.free_name("xl/worksheets/sheet{}.xml")
        package.write(part, _our_sheet(rows, widths, bold))
        package.add_content_type(part, _CT_WORKSHEET)
        rid = package.add_relationship(workbook_part, "worksheet", _relative(workbook_part, part))
        entries.append(
            f'<{book_prefix}sheet name="{_attr_text(name)}" sheetId="{next_id + offset}" '
            f'{r_prefix}:id="{rid}"/>'
        )
    workbook = _insert_before_close(workbook, "sheets", "".join(entries))
    if package.receivers is not None and sheet.filter_ref:
        # The filter over the rebuilt sheet, named the way Excel names its own filters.
        _part, name, index = package.receivers
        quoted = "'" + name.replace("'", "''") + "'"
        workbook = workbook.replace(
            "</sheets>",
            '</sheets><definedNames><definedName name="_xlnm._FilterDatabase" '
            f'localSheetId="{index}" hidden="1">{_xml_text(quoted)}!{sheet.filter_ref}'
            "</definedName></definedNames>",
            1,
        )
    package.write(workbook_part, workbook)
    package.write(styles_part, styles.to_xml())
    if sheet.dropped_formulas:
        _drop_calc_chain(package, workbook_part)


def _workbook_sheets(workbook: str, prefix: str) -> list[dict[str, str]]:
    r_prefix = _namespace_prefix(workbook, _REL_NS) or "r"
    found = []
    for tag in re.findall(rf"<{re.escape(prefix)}sheet\b[^>]*>", workbook):
        attrs = _attrs(tag)
        found.append(
            {
                "name": attrs.get("name", ""),
                "sheetId": attrs.get("sheetId", "0"),
                "rid": attrs.get(f"{r_prefix}:id", ""),
            }
        )
    return found


def _namespace_prefix(text: str, namespace: str) -> str | None:
    match = re.search(rf'xmlns:(\w+)\s*=\s*["\']{re.escape(namespace)}["\']', text)
    return match.group(1) if match else None


def _declare(text: str, root: str, prefix: str, namespace: str) -> str:
    return re.sub(rf"(<(?:\w+:)?{root}\b)", rf'\1 xmlns:{prefix}="{namespace}"', text, count=1)


def _drop_calc_chain(package: _Package, workbook_part: str) -> None:
    """Excel rebuilds the calculation chain; a stale one (a formula we replaced) is an error."""
    for rel in package.relationships(workbook_part):
        if rel["Type"].endswith("/calcChain"):
            package.delete(rel["Target"])
            rels = package.rels_name(workbook_part)
            text = package.text(rels)
            text = re.sub(rf"<(\w+:)?Relationship\b[^>]*\bId=\"{rel['Id']}\"[^>]*/>", "", text)
            package.write(rels, text)
            types = package.text("[Content_Types].xml")
            types = re.sub(
                rf"<(\w+:)?Override\b[^>]*/{re.escape(rel['Target'])}\"[^>]*/>", "", types
            )
            package.write("[Content_Types].xml", types)


# The order of a worksheet's elements after <sheetData> (ECMA-376 CT_Worksheet): to add one,
# it goes before the first element that must follow it.
_WORKSHEET_TAIL = [
    "sheetCalcPr",
    "sheetProtection",
    "protectedRanges",
    "scenarios",
    "autoFilter",
    "sortState",
    "dataConsolidate",
    "customSheetViews",
    "mergeCells",
    "phoneticPr",
    "conditionalFormatting",
    "dataValidations",
    "hyperlinks",
    "printOptions",
    "pageMargins",
    "pageSetup",
    "headerFooter",
    "rowBreaks",
    "colBreaks",
    "customProperties",
    "cellWatches",
    "ignoredErrors",
    "smartTags",
    "drawing",
    "legacyDrawing",
    "legacyDrawingHF",
    "drawingHF",
    "picture",
    "oleObjects",
    "controls",
    "webPublishItems",
    "tableParts",
    "extLst",
]


class _SheetEditor:
    """Appends the report's columns to the receivers' sheet and marks cells, row by row.

    The sheet's XML is split at each `</row>`; rows the report does not touch are copied as
    bytes, so a 100,000-row sheet is edited in well under a second.
    """

    def __init__(
        self, package: _Package, part: str, plan: _Plan, styles: _Styles, *, rebuilt: bool
    ) -> None:
        self.package = package
        self.part = part
        self.plan = plan
        self.styles = styles
        self.rebuilt = rebuilt
        self.xml = package.read(part)
        root = re.search(rb"<(?:\w+:)?worksheet\b[^>]*>", self.xml[:20_000])
        if root is None:
            raise _NotInPlace
        root_tag = root.group().decode("utf-8")
        self.prefix = _prefix(root_tag, "worksheet")
        # The prefix of relationship ids (r:id); declared on our elements when the root lacks it.
        found = _namespace_prefix(root_tag, _REL_NS)
        self.r_prefix = found or "r"
        self.r_declare = "" if found else f' xmlns:r="{_REL_NS}"'
        self.comments: dict[tuple[int, int], str] = {}
        self.links: list[tuple[str, str]] = []
        self.dropped_formulas = False
        self.last_header_style = 0
        self.filter_ref = ""
        self.appended: list[dict[int, str]] | None = None
        p = re.escape(self.prefix)
        self.cell_pattern = re.compile(rf"<{p}c\b([^>]*?)(?:/>|>.*?</{p}c>)", re.S)

    def annotate(self, grid: list[list[object]] | None = None, numbers: str = "typed") -> None:
        """Annotate the sheet's own rows; or, for a rebuilt workbook, write `grid`'s rows
        annotated into its empty sheet (`numbers` as for `_grid_cells`)."""
        p = self.prefix.encode()
        xml = self.xml
        open_match = re.search(rb"<" + re.escape(p) + rb"sheetData\b[^>]*?(/?)>", xml)
        if open_match is None or open_match.group(1):
            raise _NotInPlace  # no rows at all: nothing of ours fits
        close_tag = b"</" + p + b"sheetData>"
        body_start = open_match.end()
        body_end = xml.find(close_tag, body_start)
        if body_end < 0:
            raise _NotInPlace
        head = xml[: open_match.start()].decode("utf-8")
        tail = xml[body_end + len(close_tag) :].decode("utf-8")
        if grid is None:
            body = self._rows(xml[body_start:body_end], p)
        else:
            body = self._grid_rows(grid, numbers)
        head, tail = self._head_and_tail(head, tail)
        self.package.write(
            self.part,
            b"".join(
                [
                    head.encode(),
                    xml[open_match.start() : body_start],
                    body,
                    close_tag,
                    tail.encode(),
                ]
            ),
        )

    # rows ---------------------------------------------------------------------------------

    def _start(self, width: int) -> None:
        """Place the report's columns after the user's last column (`width` of them)."""
        plan = self.plan
        if width + len(plan.added) > EXCEL_MAX_COLUMNS:
            raise InputError(
                f"The sheet has {width} columns; with SEEN's {len(plan.added)} it would have "
                f"more than Excel can hold ({EXCEL_MAX_COLUMNS:,})."
            )
        self.first_free = width
        self.column_of = dict(plan.positions)
        for i, added in enumerate(plan.added):
            self.column_of.setdefault(added.header, width + i)
        styles = self.styles
        self.added_letters = [column_letter(width + i) for i in range(len(plan.added))]
        self.status_styles = {
            status: styles.with_fill(0, rgb)
            for status, rgb in _STATUS_FILLS.items()
            if status in plan.statuses.values()
        }
        if any(added.kind == "link" for added in plan.added):
            self.link_style = styles.with_font(0, "link")
        self.header_style = _BOLD if self.rebuilt else self.last_header_style
        for column, note in plan.header_notes.items():
            if column in self.column_of:
                self._note(plan.header_row, self.column_of[column], note)
        for added in plan.added:
            if added.note:
                self._note(plan.header_row, self.column_of[added.header], added.note)

    def _rows(self, body: bytes, p: bytes) -> bytes:
        """The sheet's own rows: the rows the report does not touch are copied as they are."""
        plan = self.plan
        end_tag = b"</" + p + b"row>"
        start_tag = b"<" + p + b"row"
        cell_tag = b"<" + p + b"c "
        wanted = {plan.header_row, *plan.rows}
        # Each wanted row: (number, start of its tag, end of its tag, start of its end tag).
        found: list[tuple[int, int, int, int]] = []
        width = plan.width
        find, rfind = body.find, body.rfind
        begin = 0
        while (end := find(end_tag, begin)) >= 0:
            at = rfind(start_tag, begin, end)
            if at < 0:
                raise _NotInPlace
            close = find(b">", at, end)
            number = _ROW_NUMBER.search(body, at, close)
            if number is None or body[close - 1] == 47:  # 47 is "/": a row with no end tag
                raise _NotInPlace  # rows numbered by position only
            row = int(number.group(1))
            begin = end + len(end_tag)
            if row not in wanted:
                continue
            found.append((row, at, close, end))
            last = rfind(cell_tag, close, end)
            if last >= 0:
                ref = _CELL_REF.search(body, last, find(b">", last, end))
                if ref is None:
                    raise _NotInPlace
                width = max(width, _column_index(ref.group(1).decode()) + 1)
                if row == plan.header_row:
                    style = _CELL_STYLE.search(body, last, find(b">", last, end))
                    self.last_header_style = int(style.group(1)) if style else 0
        if len({row for row, *_ in found}) != len(wanted):
            raise _NotInPlace  # a person with no row in the XML: the sheet is not as read
        self._start(width)

        changed_rows = plan.marks.keys() | plan.edits.keys()
        view = memoryview(body)
        out: list[bytes | memoryview] = []
        done = 0
        for row, at, close, end in found:
            out.append(view[done:at])
            out.append(_SPANS.sub(b"", body[at : close + 1]))
            if row in changed_rows:
                cells = body[close + 1 : end].decode("utf-8")
                out.append(self._change_cells(row, cells).encode("utf-8"))
            else:
                out.append(view[close + 1 : end])
            appended = self._appended(row)
            if self.prefix:
                appended = _prefixed(appended, self.prefix)
            out.append(appended.encode("utf-8"))
            done = end
        out.append(view[done:])
        return b"".join(out)

    def _grid_rows(self, grid: list[list[object]], numbers: str) -> bytes:
        """The rows of a rebuilt sheet, annotated as they are written."""
        plan = self.plan
        wanted = {plan.header_row, *plan.rows}
        width = plan.width
        for row in wanted:
            line = grid[row - 1] if row <= len(grid) else ()
            for column in range(len(line) - 1, width - 1, -1):
                if line[column] not in ("", None):
                    width = column + 1
                    break
        self._start(width)
        changed_rows = plan.marks.keys() | plan.edits.keys()
        out = []
        for row, cells in enumerate(_grid_cells(grid, numbers, plan.header_row), start=1):
            xml = "".join(cells)
            if row in changed_rows:
                xml = self._change_cells(row, xml)
            if row in wanted:
                xml += self._appended(row)
            if xml:
                out.append(f'<row r="{row}">{xml}</row>')
        return "".join(out).encode("utf-8")

    def _appended(self, row: int) -> str:
        """The cells the report adds to `row`, made column by column the first time."""
        if self.appended is None:
            self.appended = [self._added_cells(i, added) for i, added in enumerate(self.plan.added)]
        return "".join([cells[row] for cells in self.appended if row in cells])

    def _added_cells(self, i: int, added: _Added) -> dict[int, str]:
        """Row → the cell of one added column, its header included."""
        plan = self.plan
        letter = self.added_letters[i]
        ref = f'<c r="{letter}'
        header = plan.header_row
        cells = {header: _text_cell(f"{letter}{header}", added.header, self.header_style)}
        values = {row: value for row, value in added.values.items() if value and row != header}
        marked = []
        if added.kind == "text" and added.header not in plan.positions:
            marked = [row for row, found in plan.marks.items() if added.header in found]
            for row in marked:
                values.setdefault(row, "")  # a wrong cell is marked even when empty
        if added.kind == "status":
            status_styles = self.status_styles
            plain = {row: (value, status_styles.get(value, 0)) for row, value in values.items()}
        elif added.kind == "text" and not marked:
            plain = {row: (value, 0) for row, value in values.items()}
        else:  # links, and cells of a column the app added that are wrong: one by one
            plain = {}
            for row, value in values.items():
                style = 0
                mark = plan.marks[row][added.header] if row in marked else None
                if mark is not None:
                    style = self.styles.with_fill(0, _RED if mark[0] == "error" else _AMBER)
                    self._note(row, self.column_of[added.header], "\n".join(mark[1]))
                elif (
                    added.kind == "link"
                    and _is_web_link(value)
                    and len(self.links) < EXCEL_MAX_LINKS
                ):
                    self.links.append((f"{letter}{row}", value))
                    style = self.link_style
                plain[row] = (value, style)
        care = _care(values.values())
        if care or marked:
            for row, (value, style) in plain.items():
                if value:
                    cells[row] = _inline(f"{letter}{row}", value, style, care)
                else:
                    cells[row] = f'{ref}{row}" s="{style}"/>'

        else:
            attribute = {style: f' s="{style}"' if style else "" for _, style in plain.values()}
            for row, (value, style) in plain.items():
                s = attribute[style]
                cells[row] = f'{ref}{row}"{s} t="inlineStr"><is><t>{value}</t></is></c>'
        return cells

    def _change_cells(self, row: int, text: str) -> str:
        """The row's cells (XML) with the wrong cells filled and the fixed cells rewritten."""
        plan, p = self.plan, self.prefix
        changes: dict[int, tuple[tuple[str, list[str]] | None, tuple[str, str] | None]] = {}
        for name, mark in plan.marks.get(row, {}).items():
            column = self.column_of.get(name)
            if column is not None and column < self.first_free:  # ours are written later
                changes[column] = (mark, None)
        for name, edit in plan.edits.get(row, {}).items():
            column = plan.positions.get(name)
            if column is not None:
                changes[column] = (changes.get(column, (None, None))[0], edit)
        # Excel and the libraries write `<c r="E5"` first: found that way, a cell is replaced
        # where it stands; a cell that is not there (or written otherwise) needs a full parse.
        for column in sorted(changes, reverse=True):
            ref = f"{column_letter(column)}{row}"
            at = text.find(f'<{p}c r="{ref}"')
            if at < 0:
                return self._change_parsed(row, text, changes)
            close = text.index(">", at)
            end = (
                close + 1 if text[close - 1] == "/" else text.index(f"</{p}c>", close) + 4 + len(p)
            )
            new = self._changed_cell(row, column, text[at:end], *changes[column])
            text = text[:at] + new + text[end:]
        return text

    def _change_parsed(self, row: int, text: str, changes: dict) -> str:  # type: ignore[type-arg]
        parsed: dict[int, str] = {}
        last = -1
        for match in self.cell_pattern.finditer(text):
            ref = _CELL_COLUMN.search(match.group(1))
            column = _column_index(ref.group(1)) if ref else last + 1
            last = column
            parsed[column] = (
                match.group(0)
                if ref
                else _set_attrs(match.group(0), r=f"{column_letter(column)}{row}")
            )
        for column, (mark, edit) in changes.items():
            parsed[column] = self._changed_cell(row, column, parsed.get(column, ""), mark, edit)
        return "".join(parsed[c] for c in sorted(parsed))

    def _changed_cell(
        self,
        row: int,
        column: int,
        cell: str,
        mark: tuple[str, list[str]] | None,
        edit: tuple[str, str] | None,
    ) -> str:
        """One cell (its XML, or "" when there is none) after its mark and its fix."""
        p = self.prefix
        ref = f"{column_letter(column)}{row}"
        if mark is not None:
            self._note(row, column, "\n".join(mark[1]))
        if edit is not None:
            old, new = edit
            if re.search(rf"<{re.escape(p)}f\b[^>]*\bref\s*=", cell):
                # The first cell of a shared formula: its neighbours need it, so it stays.
                self._note(row, column, _edit_note(old, new, kept=True))
            else:
                if f"<{p}f" in cell:
                    self.dropped_formulas = True
                style = _style_of(cell) if cell else 0
                number = _plain_number(new) if cell and _holds_number(cell) else None
                if not new:
                    cell = f'<c r="{ref}" s="{style}"/>' if style else f'<c r="{ref}"/>'
                elif number is not None:
                    cell = _number_cell(ref, number, style)
                else:
                    cell = _text_cell(ref, new, style)
                if p:
                    cell = _prefixed(cell, p)
                self._note(row, column, _edit_note(old, new, kept=False))
        if mark is not None:
            cell = cell or f'<{p}c r="{ref}"/>'
            rgb = _RED if mark[0] == "error" else _AMBER
            cell = _with_style(cell, self.styles.with_fill(_style_of(cell), rgb))
        return cell

    def _note(self, row: int, column: int, text: str) -> None:
        key = (row, column)
        self.comments[key] = f"{self.comments[key]}\n{text}" if key in self.comments else text

    # the rest of the sheet ----------------------------------------------------------------

    def _head_and_tail(self, head: str, tail: str) -> tuple[str, str]:
        plan = self.plan
        p = self.prefix
        # Widths for the columns we add, unless the user's own column settings cover them.
        first, last = self.first_free + 1, self.first_free + len(plan.added)
        covered = any(
            int(_attrs(tag).get("max", "0")) >= first
            for tag in re.findall(rf"<{re.escape(p)}col\b[^>]*>", head)
        )
        if not covered and plan.added:
            cols = "".join(
                f'<{p}col min="{first + i}" max="{first + i}" width="{_added_width(a)}" '
                'customWidth="1"/>'
                for i, a in enumerate(plan.added)
            )
            if re.search(rf"</{re.escape(p)}cols>", head):
                head = _insert_before_close(head, "cols", cols)
            else:
                head += f"<{p}cols>{cols}</{p}cols>"
        last_row = max([plan.header_row, *plan.rows])
        head = re.sub(
            rf"(<{re.escape(p)}dimension\b[^>]*?\bref\s*=\s*)([\"'])([A-Z]+\d+:)?([A-Z]+)(\d+)\2",
            lambda m: (
                f'{m.group(1)}"{(m.group(3) or "A1:")}'
                f"{column_letter(max(last, _column_index(m.group(4)) + 1) - 1)}"
                f'{max(int(m.group(5)), last_row)}"'
            ),
            head,
            count=1,
        )
        if self.rebuilt:
            end = column_letter(last - 1)
            bottom = max(last_row, plan.header_row + 1)
            self.filter_ref = f"$A${plan.header_row}:${end}${bottom}"
            tail = self._insert(
                tail, "autoFilter", f'<autoFilter ref="A{plan.header_row}:{end}{bottom}"/>'
            )
        if self.links:
            tail = self._hyperlinks(tail)
        if self.comments:
            tail = self._comments(tail)
        return head, tail

    def _insert(self, tail: str, element: str, xml: str) -> str:
        """`xml` placed in the sheet's tail where ECMA-376 wants `element`."""
        after = _WORKSHEET_TAIL[_WORKSHEET_TAIL.index(element) + 1 :]
        p = re.escape(self.prefix)
        names = "|".join(after)
        match = re.search(rf"<{p}(?:{names})\b", tail)
        end = re.search(rf"</{p}worksheet\s*>", tail)
        if end is None:
            raise _NotInPlace
        at = match.start() if match and match.start() < end.start() else end.start()
        # Inside an mc:AlternateContent wrapper the insert goes before the whole wrapper.
        wrapper = tail.rfind("<mc:AlternateContent", 0, at)
        if wrapper >= 0 and tail.rfind("</mc:AlternateContent>", 0, at) < wrapper:
            at = wrapper
        return tail[:at] + xml + tail[at:]

    def _hyperlinks(self, tail: str) -> str:
        p = self.prefix
        ids = self.package.add_many_relationships(
            self.part, "hyperlink", [url for _ref, url in self.links]
        )
        r, declare = self.r_prefix, self.r_declare
        links = "".join(
            f'<{p}hyperlink ref="{ref}"{declare} {r}:id="{rid}"/>'
            for (ref, _url), rid in zip(self.links, ids, strict=True)
        )
        if re.search(rf"</{re.escape(p)}hyperlinks>", tail):
            return _insert_before_close(tail, "hyperlinks", links)
        return self._insert(tail, "hyperlinks", f"<{p}hyperlinks>{links}</{p}hyperlinks>")

    def _comments(self, tail: str) -> str:
        package, part, p = self.package, self.part, self.prefix
        rels = package.relationships(part)
        existing = next((r for r in rels if r["Type"].endswith("/comments")), None)
        legacy = re.search(rf"<{re.escape(p)}legacyDrawing\b[^>]*>", tail)
        vml_part = None
        if legacy:
            rid = _attrs(legacy.group()).get(f"{self.r_prefix}:id")
            vml_part = next((x["Target"] for x in rels if x["Id"] == rid), None)
            if vml_part is None:
                raise _NotInPlace
        notes = sorted(self.comments.items())
        if existing:
            new_notes = _merge_comments(package, existing["Target"], notes)
        else:
            comments_part = package.free_name("xl/comments{}.xml")
            package.write(comments_part, _comments_xml(notes))
            package.add_content_type(comments_part, _CT_COMMENTS)
            package.add_relationship(part, "comments", _relative(part, comments_part))
            new_notes = notes
        block = _free_vml_block(package)
        shapes = _vml_shapes(new_notes, block)
        if vml_part is not None:
            vml = package.read(vml_part).decode("utf-8", "replace")
            package.write(vml_part, _merge_vml(vml, shapes, block, len(new_notes)))
            return tail
        vml_part = package.free_name("xl/drawings/vmlDrawing{}.vml")
        package.write(vml_part, _vml_xml(shapes, block, len(new_notes)))
        package.add_default_type("vml", _CT_VML)
        rid = package.add_relationship(part, "vmlDrawing", _relative(part, vml_part))
        legacy_drawing = f'<{p}legacyDrawing{self.r_declare} {self.r_prefix}:id="{rid}"/>'
        return self._insert(tail, "legacyDrawing", legacy_drawing)


_ROW_NUMBER = re.compile(rb"\sr\s*=\s*[\"'](\d+)[\"']")
_CELL_REF = re.compile(rb"\sr\s*=\s*[\"']([A-Z]+)\d+[\"']")
_SPANS = re.compile(rb"\sspans\s*=\s*[\"'][^\"']*[\"']")
_CELL_STYLE = re.compile(rb"\ss\s*=\s*[\"'](\d+)[\"']")
_CELL_COLUMN = re.compile(r"\sr\s*=\s*[\"']([A-Z]+)")
_STYLE_ATTR = re.compile(r"\ss\s*=\s*[\"'](\d+)[\"']")


_TYPE_ATTR = re.compile(r"\st\s*=\s*[\"'](\w+)[\"']")


def _holds_number(cell: str) -> bool:
    """Whether the cell (raw XML) holds a number: no type or type n, and a value."""
    kind = _TYPE_ATTR.search(cell, 0, cell.index(">"))
    return (kind is None or kind.group(1) == "n") and "v>" in cell


def _with_style(cell: str, style: int) -> str:
    """The cell (raw XML) in style number `style`."""
    end = cell.index(">")
    found = _STYLE_ATTR.search(cell, 0, end)
    if found:
        return f"{cell[: found.start(1)]}{style}{cell[found.end(1) :]}"
    at = end - 1 if cell[end - 1] == "/" else end
    return f'{cell[:at]} s="{style}"{cell[at:]}'


def _style_of(cell: str) -> int:
    found = _STYLE_ATTR.search(cell, 0, cell.index(">"))
    return int(found.group(1)) if found else 0


def _prefixed(cell: str, prefix: str) -> str:
    """A cell we wrote, in a sheet that writes its SpreadsheetML elements with a prefix."""
    return re.sub(r"<(/?)(c|is|t|v)\b", rf"<\1{prefix}\2", cell)


def _is_web_link(value: str) -> bool:
    return value.startswith(("https://", "http://")) and not any(c.isspace() for c in value)


def _added_width(added: _Added) -> int:
    sample = list(added.values.values())[:_WIDTH_SAMPLE_ROWS]
    longest = max((len(v) for v in sample), default=0)
    return min(max(len(added.header) + 3, longest + 2, _MIN_WIDTH), _MAX_WIDTH)


def _edit_note(old: str, new: str, *, kept: bool) -> str:
    was = f"it was {old!r}" if old else "it was empty"
    if kept:
        return (
            f"Changed to {new!r} in SEEN Sender ({was}); the cell holds a formula, so it is kept."
        )
    return f"Changed in SEEN Sender; {was}."


# --- comments (notes) and their legacy drawing -------------------------------------------------


def _comment_text(text: str) -> str:
    body = _xml_text(text)
    return (
        f'<r><rPr><b/><sz val="9"/><rFont val="Tahoma"/><family val="2"/></rPr>'
        f"<t>{COMMENT_AUTHOR}:</t></r>"
        f'<r><rPr><sz val="9"/><rFont val="Tahoma"/><family val="2"/></rPr>'
        f'<t xml:space="preserve">\n{body}</t></r>'
    )


def _comments_xml(notes: list[tuple[tuple[int, int], str]]) -> str:
    comments = "".join(
        f'<comment ref="{column_letter(c)}{r}" authorId="0">'
        f"<text>{_comment_text(t)}</text></comment>"
        for (r, c), t in notes
    )
    return (
        f'{_XML_DECLARATION}<comments xmlns="{_MAIN_NS}"><authors><author>{COMMENT_AUTHOR}'
        f"</author></authors><commentList>{comments}</commentList></comments>"
    )


def _merge_comments(
    package: _Package, part: str, notes: list[tuple[tuple[int, int], str]]
) -> list[tuple[tuple[int, int], str]]:
    """Add our notes to the sheet's own comments; a cell with a comment of the user's gets
    ours appended to it. Returns the notes that need a shape of their own."""
    text = package.text(part)
    p = _prefix(text, "comments")
    author_id = len(re.findall(rf"<{re.escape(p)}author\b", text))
    theirs = {
        _attrs(m.group(1)).get("ref", ""): m.end(2)
        for m in re.finditer(
            rf"<{re.escape(p)}comment\b([^>]*)>.*?()</{re.escape(p)}text>", text, re.S
        )
    }
    pieces, new, at = [], [], 0
    for (row, column), note in notes:  # sorted, as the user's comments are
        ref = f"{column_letter(column)}{row}"
        body = _prefixed_runs(_comment_text(note), p)
        if ref in theirs:
            pieces.append((theirs[ref], body))
        else:
            new.append(((row, column), note))
    out = []
    for where, body in sorted(pieces):
        out += [text[at:where], body]
        at = where
    text = "".join([*out, text[at:]])
    entries = "".join(
        f'<{p}comment ref="{column_letter(c)}{r}" authorId="{author_id}">'
        f"<{p}text>{_prefixed_runs(_comment_text(note), p)}</{p}text></{p}comment>"
        for (r, c), note in new
    )
    text = _insert_before_close(text, "authors", f"<{p}author>{COMMENT_AUTHOR}</{p}author>")
    if entries:
        text = _insert_before_close(text, "commentList", entries)
    package.write(part, text)
    return new


def _prefixed_runs(xml: str, prefix: str) -> str:
    if not prefix:
        return xml
    return re.sub(r"<(/?)(r|rPr|b|sz|rFont|family|t)\b", rf"<\1{prefix}\2", xml)


def _free_vml_block(package: _Package) -> int:
    """A block of 1,024 VML shape ids no drawing in the workbook uses yet."""
    used = [0]
    for name in package.names:
        if name.lower().endswith(".vml") and package.has(name):
            text = package.read(name).decode("utf-8", "replace")
            for data in re.findall(r'<o:idmap\b[^>]*\bdata\s*=\s*"([^"]*)"', text):
                used += [int(n) for n in re.findall(r"\d+", data)]
    return max(used) + 1


def _vml_shapes(notes: list[tuple[tuple[int, int], str]], block: int) -> str:
    shapes = []
    for number, ((row, column), text) in enumerate(notes, start=1):
        r, c = row - 1, column  # VML counts rows and columns from 0
        height = min(4 + len(text) // 60, 12)
        anchor = f"{c + 1}, 15, {max(r - 1, 0)}, 10, {c + 3}, 15, {max(r - 1, 0) + height}, 4"
        shapes.append(
            f'<v:shape id="_x0000_s{block * 1024 + number}" type="#_x0000_t202" '
            'style="position:absolute;margin-left:59.25pt;margin-top:1.5pt;width:108pt;'
            'height:59.25pt;z-index:1;visibility:hidden" fillcolor="#ffffe1" o:insetmode="auto">'
            '<v:fill color2="#ffffe1"/><v:shadow on="t" color="black" obscured="t"/>'
            '<v:path o:connecttype="none"/><v:textbox style="mso-direction-alt:auto">'
            '<div style="text-align:left"></div></v:textbox><x:ClientData ObjectType="Note">'
            f"<x:MoveWithCells/><x:SizeWithCells/><x:Anchor>{anchor}</x:Anchor>"
            f"<x:AutoFill>False</x:AutoFill><x:Row>{r}</x:Row><x:Column>{c}</x:Column>"
            "</x:ClientData></v:shape>"
        )
    return "".join(shapes)


_VML_SHAPETYPE = (
    '<v:shapetype id="_x0000_t202" coordsize="21600,21600" o:spt="202" '
    'path="m,l,21600r21600,l21600,xe"><v:stroke joinstyle="miter"/>'
    '<v:path gradientshapeok="t" o:connecttype="rect"/></v:shapetype>'
)


def _vml_blocks(block: int, count: int) -> str:
    return ",".join(str(block + i) for i in range(count // 1024 + 1))


def _vml_xml(shapes: str, block: int, count: int) -> str:
    return (
        '<xml xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:'
        'office" xmlns:x="urn:schemas-microsoft-com:office:excel"><o:shapelayout v:ext="edit">'
        f'<o:idmap v:ext="edit" data="{_vml_blocks(block, count)}"/></o:shapelayout>'
        f"{_VML_SHAPETYPE}{shapes}</xml>"
    )


def _merge_vml(vml: str, shapes: str, block: int, count: int) -> str:
    if 'id="_x0000_t202"' not in vml:
        shapes = _VML_SHAPETYPE + shapes
    vml = re.sub(
        r'(<o:idmap\b[^>]*\bdata\s*=\s*")([^"]*)(")',
        lambda m: f"{m.group(1)}{m.group(2)},{_vml_blocks(block, count)}{m.group(3)}",
        vml,
        count=1,
    )
    end = vml.rfind("</xml>")
    if end < 0:
        raise _NotInPlace
    return vml[:end] + shapes + vml[end:]


# --- Summary and Problems ------------------------------------------------------------------------

_Row = list[tuple[object, bool]]  # (value, bold) per cell


def _summary_rows(report: ReportInput, plan: _Plan) -> tuple[list[_Row], list[int]]:
    summary = report.summary
    counts = count_statuses({row: (status, "") for row, status in plan.statuses.items()})
    rows: list[_Row] = [[("SEEN Sender report", True)], []]

    def line(label: str, value: object, note: str = "") -> None:
        rows.append([(label, True), (value, False), *([(note, False)] if note else [])])

    line("File", report.file_name)
    if report.sheet_name:
        line("Sheet", report.sheet_name, f"header on row {report.header_row}")
    if summary.target:
        line("Campaign or workspace", summary.target)
    if summary.sent_to:
        line("Sent to", summary.sent_to)
    if summary.when is not None:
        line("When", _local_time(summary.when, summary.time_zone))
    if summary.who:
        line("Who", summary.who)
    for label, value in summary.details:
        line(label, value)
    rows.append([])
    line("People in the sheet", len(plan.rows))
    line("Created", counts.get(Status.CREATED, 0), Status.CREATED.explanation)
    attention = sum(counts.get(s, 0) for s in _NEED_ATTENTION)
    line("Need attention", attention, "Rejected, needing a fix, failed or unknown: see below.")
    not_sent = counts.get(Status.NOT_SENT, 0) + counts.get(Status.READY, 0)
    line("Not sent", not_sent, "Not sent yet: ready, or the send stopped before them.")
    rows.append([])
    rows.append([("SEEN status", True), ("People", True), ("What it means", True),
                 ("What to do", True)])  # fmt: skip
    for status, count in counts.items():
        if not count:
            continue
        known = status in Status.__members__.values()
        explanation = Status(status).explanation if known else ""
        next_step = Status(status).next_step if known else ""
        rows.append([(str(status), False), (count, False), (explanation, False),
                     (next_step, False)])  # fmt: skip
    rows.append([])
    fingerprint = summary.sha256 or (
        hashlib.sha256(report.source).hexdigest() if report.source else ""
    )
    if fingerprint:
        line(
            "File fingerprint (SHA-256)",
            fingerprint,
            "The same file always has the same fingerprint; it tells this file from others.",
        )
    return rows, [26, 66, 60, 50]


def _problem_rows(report: ReportInput) -> tuple[list[_Row], list[int]]:
    rows: list[_Row] = [
        [("Row", True), ("Column", True), ("Problem", True), ("What to do", True), ("Code", True)]
    ]
    for problem in list(report.problems)[: EXCEL_MAX_ROWS - 1]:
        if problem.row is None:
            what = "Fix the mapping or the sheet, then check again."
        elif problem.severity == "error" and not problem.column:
            what = "Fix the row, then send it again."
        elif problem.severity == "error":
            what = Status.INVALID.next_step
        else:
            what = "Nothing has to be done; worth a look before sending."
        rows.append(
            [
                (problem.row if problem.row is not None else "whole sheet", False),
                (problem.column or "", False),
                (problem.message, False),
                (what, False),
                (problem.code, False),
            ]
        )
    if len(rows) == 1:
        rows.append([("", False), ("", False), ("No problems found.", False)])
    return rows, [11, 22, 70, 48, 24]


def _our_sheet(rows: list[_Row], widths: list[int], bold: int) -> str:
    lines = []
    width = max((len(r) for r in rows), default=0)
    letters = [column_letter(c) for c in range(width)]
    care = [
        _care([cells[c][0] for cells in rows if len(cells) > c and type(cells[c][0]) is str])
        for c in range(width)
    ]
    for r, cells in enumerate(rows, start=1):
        out = []
        for c, (value, is_bold) in enumerate(cells):
            style = bold if is_bold else 0
            if type(value) is int:
                out.append(_number_cell(f"{letters[c]}{r}", str(value), style))
            elif value:
                out.append(_inline(f"{letters[c]}{r}", _text(value), style, care[c]))
        if out:
            lines.append(f'<row r="{r}">{"".join(out)}</row>')
    cols = "".join(
        f'<col min="{i + 1}" max="{i + 1}" width="{w}" customWidth="1"/>'
        for i, w in enumerate(widths)
    )
    return (
        f'{_XML_DECLARATION}<worksheet xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}">'
        '<sheetViews><sheetView workbookViewId="0"/></sheetViews>'
        f'<sheetFormatPr defaultRowHeight="15"/><cols>{cols}</cols>'
        f"<sheetData>{''.join(lines)}</sheetData>"
        '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
        "</worksheet>"
    )


def _local_time(when: dt.datetime, zone_name: str | None) -> str:
    """'30 November 2026, 14:05 Europe/Oslo time (UTC+01:00)'."""
    if zone_name:
        from zoneinfo import ZoneInfo

        local = when.astimezone(ZoneInfo(zone_name))
        zone = f"{zone_name} time"
    else:
        local = when.astimezone()
        zone = local.tzname() or "local time"
    offset = local.utcoffset() or dt.timedelta(0)
    sign = "-" if offset < dt.timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return (
        f"{local.day} {local:%B %Y}, {local:%H:%M} {zone} "
        f"(UTC{sign}{minutes // 60:02d}:{minutes % 60:02d})"
    )


# --- small helpers --------------------------------------------------------------------------------


def _cell_text(value: object) -> str:
    from seen_core.sheets import cell_text

    return cell_text(value)


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
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
    return str(value)


def _csv_safe(value: str) -> str:
    if value.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def _add_once(messages: list[str], message: str) -> None:
    if message not in messages:
        messages.append(message)
