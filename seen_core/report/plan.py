"""The plan of a report: what goes where, shared by the workbook and the CSV.

Where each of the user's columns stands, the columns the report adds after them (status,
message, values as sent, video links), the cells to mark and the cells fixed in the app. The
upload is read again here when the table as read is not at hand (`source_grid`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from itertools import compress
from operator import itemgetter
from pathlib import Path

from seen_core.errors import InputError
from seen_core.i18n import _, number
from seen_core.read.text_table import Rows, TextTable, text_of
from seen_core.report.model import (
    DEFAULT_SHEET_NAME,
    ENGAGEMENT_COLUMNS,
    MESSAGE_COLUMN,
    SENT_AS,
    STATUS_COLUMN,
    VIDEO_COLUMNS,
    ReportInput,
    cell_text,
)
from seen_core.report.xml import EXCEL_MAX_ROWS
from seen_core.statuses import status_label

WIDTH_SAMPLE_ROWS = 500  # widths are measured on the first rows only
MIN_WIDTH, MAX_WIDTH = 8, 60


@dataclass
class Added:
    """A column the report adds after the user's: its header, its cells by row, how to show it."""

    header: str
    values: dict[int, str]
    kind: str = "text"  # "text", "status" (coloured by status) or "link"
    note: str | None = None  # a comment on the header cell


_Edits = dict[int, dict[str, tuple[str, str]]]  # row → column → (old text, new text)


@dataclass
class Plan:
    header_row: int
    rows: list[int]  # the people's spreadsheet rows, ascending
    positions: dict[str, int]  # the user's columns: name → 0-based sheet column
    added: list[Added]
    marks: dict[int, dict[str, tuple[str, list[str]]]]  # row → column → (severity, reasons)
    edits: _Edits
    header_notes: dict[str, str]  # column → note on its header cell
    statuses: dict[int, str]
    width: int  # the user's columns: the report's own start after them (or further right)

    @cached_property
    def marked_columns(self) -> frozenset[str]:
        """The columns with a cell to mark in any row (a few; asked of 40,000 rows once)."""
        return frozenset().union(*self.marks.values())


@dataclass
class Grid:
    """The receivers' sheet of the upload as typed cells, and every sheet for a rebuild."""

    cells: list[list[object]]  # the receivers' sheet, row 1 first, column A first
    # Every sheet: its name, its cells, and whether it is "visible", "hidden" or "veryHidden".
    sheets: list[tuple[str, list[list[object]], str]] = field(default_factory=list)
    receivers: int = 0  # index of the receivers' sheet among `sheets`
    from_csv: bool = False  # every cell is text; plain numbers count as numbers


def make_plan(report: ReportInput, grid: Grid | None) -> Plan:
    table = text_of(report.table)
    columns = [str(c) for c in table.columns]
    rows = sorted(int(r) for r in table.rows)
    if grid is not None and grid.cells:
        header = grid.cells[report.header_row - 1] if report.header_row <= len(grid.cells) else []
        positions = _positions(columns, header)
    else:
        original = None if report.original is None else text_of(report.original)
        known = columns if original is None else [str(c) for c in original.columns]
        positions = {c: i for i, c in enumerate(known) if c in columns}
    ours = [c for c in columns if c not in positions]

    statuses, messages = _standing(report.outcomes, rows)

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

    added: list[Added] = [
        Added(c, _column_texts(table, c), note=_("Added in SEEN Sender.")) for c in ours
    ]
    # The status in the words the app shows ("Needs fixing", not "invalid").
    labels = {status: status_label(status) for status in set(statuses.values())}  # a few
    added.append(
        Added(_(STATUS_COLUMN), {r: labels[s] for r, s in statuses.items()}, kind="status")
    )
    added.append(Added(_(MESSAGE_COLUMN), messages))
    sent = report.sent_as
    for column in [c for c in columns if c in sent and (c in positions or c in ours)]:
        if sent[column]:  # only values that differ from their cell (see ReportInput)
            added.append(Added(_(SENT_AS).format(column=column), dict(sent[column])))
    for position, header in enumerate(VIDEO_COLUMNS):
        links = {
            int(row): links[position]
            for row, links in report.videos.items()
            if len(links) > position and links[position]
        }
        if links:
            added.append(Added(_(header), links, kind="link"))
    if report.engagement:  # what SEEN's callbacks and viewer events said, per person
        yes = _("yes")
        films = {int(r): e[0] for r, e in report.engagement.items() if e[0]}
        added.append(Added(_(ENGAGEMENT_COLUMNS[0]), films, kind="link"))
        for position, header in enumerate(ENGAGEMENT_COLUMNS[1:], start=1):
            marks_of = {int(r): yes for r, e in report.engagement.items() if e[position]}
            added.append(Added(_(header), marks_of))

    notes = {
        column: _("Sent to SEEN under the name '{key}'.").format(key=key)
        for column, key in report.extra_keys.items()
        if (column in positions or column in ours) and key != column
    }
    if report.original is not None:
        edits = _edits_between(text_of(report.original), table, positions)
    elif grid is not None and grid.cells:
        edits = _edits(table, positions, grid)
    else:
        edits = {}
    width = max(positions.values(), default=-1) + 1
    return Plan(
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


def _standing(
    outcomes: Mapping[int, tuple[str, str]], rows: list[int]
) -> tuple[dict[int, str], dict[int, str]]:
    """Row → status and row → message (those with one), of the rows with an outcome: a pass
    in C over each column of outcomes where every row has one, as a rule."""
    try:
        found = list(map(outcomes.__getitem__, rows))
    except KeyError:  # some rows have none: they are left out
        rows = [row for row in rows if row in outcomes]
        found = list(map(outcomes.__getitem__, rows))
    statuses = dict(zip(rows, map(str, map(itemgetter(0), found)), strict=True))
    texts = list(map(itemgetter(1), found))
    return statuses, dict(compress(zip(rows, texts, strict=True), texts))


def _positions(columns: list[str], header: list[object]) -> dict[str, int]:
    """Where each of the table's columns sits in the sheet (by the names `sheets` gives them).

    A column the upload has no header for (one the app added) is left out: the report adds it
    after the user's.
    """
    from seen_core.read.sheets import unique_headers

    texts = [cell_text(c) for c in header]
    texts += [""] * max(0, len(columns) - len(texts))
    names = unique_headers(texts)
    where = {name: i for i, name in enumerate(names)}
    return {column: where[column] for column in columns if column in where}


def _column_texts(table: Rows, column: str) -> dict[int, str]:
    """Row → the column's cell as text, for the cells that hold something."""
    values = table.column(column)
    if any(type(v) is not str for v in values):
        values = [cell_text(v) for v in values]
    return {row: value for row, value in zip(table.rows, values, strict=True) if value}


def _edits_between(original: Rows, table: Rows, positions: dict[str, int]) -> _Edits:
    """Cells whose text differs between the table as read and as fixed in the app."""
    found: _Edits = {}
    if original is table:
        return found
    rows = table.rows
    places = None
    if original.rows != rows:
        places = {row: at for at, row in enumerate(original.rows)}
    present = set(original.columns)
    for column in positions:
        if column not in present:
            continue
        before = original.column(column)
        if places is not None:
            before = [before[places[r]] if r in places else "" for r in rows]
        after = table.column(column)
        changed = [i for i, (b, a) in enumerate(zip(before, after, strict=True)) if b != a]
        for i in changed:
            old, new = cell_text(before[i]), cell_text(after[i])
            if old != new:
                found.setdefault(int(rows[i]), {})[column] = (old, new)
    return found


def _edits(table: Rows, positions: dict[str, int], grid: Grid) -> _Edits:
    """Cells whose text in the table differs from the upload: the user's fixes in the app."""
    cells = grid.cells
    rows = [int(r) for r in table.rows]
    lines = [cells[r - 1] if 0 < r <= len(cells) else () for r in rows]
    found: _Edits = {}
    for column, position in positions.items():
        olds = [line[position] if position < len(line) else "" for line in lines]
        news = table.column(column)
        for i, (old_value, new) in enumerate(zip(olds, news, strict=True)):
            if type(old_value) is str:
                if old_value == new:
                    continue
                old = old_value
            elif type(old_value) is float and old_value.is_integer():
                old = str(int(old_value))  # the usual number: a phone or an ID
            else:
                old = cell_text(old_value)
            if type(new) is not str:
                new = cell_text(new)
            if new != old:
                found.setdefault(rows[i], {})[column] = (old, new)
    return found


def with_keepable_rows(report: ReportInput) -> ReportInput:
    """The report with each person on their own row, or numbered afresh under a header on row 1
    when their numbers cannot be kept (repeated, or above the header)."""
    table = text_of(report.table)
    try:
        rows = [int(r) for r in table.rows]
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
                _(
                    "The sheet has more rows than Excel can hold ({rows}); download the report "
                    "as CSV instead."
                ).format(rows=number(EXCEL_MAX_ROWS))
            )
        return report
    old = list(table.rows)
    new = list(range(2, len(old) + 2))
    moved = dict(zip(old, new, strict=True))
    original = None if report.original is None else text_of(report.original)
    return replace(
        report,
        source=b"",
        header_row=1,
        table=_renumbered(table, new),
        original=(
            _renumbered(original, new) if original is not None and original.rows == old else None
        ),
        outcomes={moved[r]: v for r, v in report.outcomes.items() if r in moved},
        problems=[
            p._replace(row=moved.get(p.row)) if p.row is not None else p for p in report.problems
        ],
        sent_as={
            column: {moved[r]: v for r, v in values.items() if r in moved}
            for column, values in report.sent_as.items()
        },
        videos={moved[r]: v for r, v in report.videos.items() if r in moved},
        engagement={moved[r]: v for r, v in report.engagement.items() if r in moved},
    )


def _renumbered(table: Rows, rows: list[int]) -> TextTable:
    return TextTable(rows, {str(c): list(table.column(c)) for c in table.columns})


# --- reading the upload again ---------------------------------------------------------------


def source_kind(report: ReportInput) -> str:
    """'xlsx' (edited in place), 'workbook' (XLS, ODS: rebuilt), 'csv', or 'none' (no upload)."""
    if not report.source:
        return "none"
    suffix = Path(report.file_name).suffix.lower()
    if suffix in (".xlsx", ".xlsm") and report.source.startswith(b"PK\x03\x04"):
        return "xlsx"
    if suffix in (".xlsx", ".xlsm", ".xls", ".ods"):
        return "workbook"
    return "csv"


def source_grid(report: ReportInput, kind: str) -> Grid | None:
    if kind == "none":
        return None
    if kind == "csv":
        from seen_core.read.csv_file import decode_text, sniff_delimiter

        text = decode_text(report.source)
        cells: list[list[object]] = list(
            csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text))
        )
        return Grid(
            cells, [(report.sheet_name or _(DEFAULT_SHEET_NAME), cells, "visible")], 0, True
        )
    import python_calamine

    visible = python_calamine.SheetVisibleEnum

    def state(visibility: object) -> str:
        if visibility == visible.Visible:
            return "visible"
        return "veryHidden" if visibility == visible.VeryHidden else "hidden"

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
                state(m.visible),
            )
            for m in metas
        ]
    except Exception:  # the upload was read once already; failing now leaves no cells to keep
        return None
    if not sheets:
        return None
    return Grid(sheets[receivers][1], sheets, receivers)
