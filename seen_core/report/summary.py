"""The report's own sheets after the user's: Summary (the file, where it went, the counts per
status in a campaign manager's words) and Problems (every problem, where, and what to do)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator, Sequence

from babel.dates import format_datetime

from seen_core.i18n import _, locale
from seen_core.problems import Problem
from seen_core.read.cells import column_letter
from seen_core.report.model import ReportInput, cell_text
from seen_core.report.package import pack_text
from seen_core.report.plan import Plan
from seen_core.report.xml import (
    EXCEL_MAX_ROWS,
    TRANSITIONAL,
    XML_DECLARATION,
    Dialect,
    care_needed,
    inline_cell,
    number_cell,
    text_cell,
)
from seen_core.statuses import Status, status_label, tally_statuses

_CHUNK = 5_000  # the Problems sheet's rows made at a time
_MANY_PROBLEMS = 5_000  # their rows are some MB: packed fast rather than small
_NEED_ATTENTION = (Status.REJECTED, Status.INVALID, Status.FAILED, Status.UNKNOWN)


def summary_sheet(
    report: ReportInput, plan: Plan, bold: int, dialect: Dialect = TRANSITIONAL
) -> str:
    """The Summary sheet's XML; `bold` is the workbook's bold style."""
    return _our_sheet(*_summary_rows(report, plan), bold, dialect)


def problems_sheet(
    report: ReportInput, bold: int, dialect: Dialect = TRANSITIONAL, rows: str | None = None
) -> str:
    """The Problems sheet's XML; `bold` is the workbook's bold style. `rows`: its rows below
    the header as `problem_rows` made them (elsewhere, see report/parallel.py)."""
    if rows is None:
        rows = problem_rows(report.problems)
    if rows is None:
        return _our_sheet(*_problem_rows(report), bold, dialect)
    header = [_("Row"), _("Column"), _("Problem"), _("What to do"), _("Code")]
    head = "".join(text_cell(f"{column_letter(c)}1", text, bold) for c, text in enumerate(header))
    return _worksheet(f'<row r="1">{head}</row>{rows}', [11, 22, 70, 48, 24], dialect)


def packed_problem_rows(problems: Sequence[Problem]) -> tuple[bytes, int, int] | None:
    """`problem_rows`, packed as the middle of the Problems sheet's part (`pack_text` of a
    piece), a chunk at a time: made elsewhere, see report/parallel.py."""
    chunks = _problem_row_chunks(problems)
    if chunks is None:
        return None
    return pack_text(chunks, 1 if len(problems) > _MANY_PROBLEMS else 3, piece=True)


def problem_rows(problems: Sequence[Problem]) -> str | None:
    """The Problems sheet's rows below its header, a problem a row (None when there is none).
    Made a column at a time (a sheet of 100,000 rows has some 40,000 problems)."""
    chunks = _problem_row_chunks(problems)
    return None if chunks is None else "".join(chunks)


def _problem_row_chunks(problems: Sequence[Problem]) -> Iterator[str] | None:
    """`problem_rows`, `_CHUNK` rows at a time (None when there is no problem)."""
    problems = list(problems)[: EXCEL_MAX_ROWS - 1]
    if not problems:
        return None
    numbers = range(2, len(problems) + 2)
    columns_of = [p.column or "" for p in problems]
    messages = [p.message for p in problems]
    to_do = _what_to_do_each(problems)
    codes = [p.code for p in problems]
    rows = [p.row for p in problems]
    # The usual sheet: every problem in a row, with a message, and no text to take care of
    # (columns, advice and codes are a few texts, each looked at once): a row in one step.
    ends = {text: f'" t="inlineStr"><is><t>{text}</t></is></c>' for text in {*to_do, *codes}}
    if (
        all(type(row) is int for row in rows)
        and all(messages)
        and all(ends)
        and not care_needed({*columns_of, *ends})
        and not care_needed(messages)
    ):
        columns = [rows, _cells_of("B", columns_of), messages, to_do, codes]
        return (
            "".join(
                [
                    f'<row r="{r}"><c r="A{r}"><v>{row}</v></c>{b}<c r="C{r}" t="inlineStr">'
                    f'<is><t>{message}</t></is></c><c r="D{r}{ends[what]}<c r="E{r}'
                    f"{ends[code]}</row>"
                    for r, row, b, message, what, code in zip(
                        numbers[at : at + _CHUNK],
                        *(column[at : at + _CHUNK] for column in columns),
                        strict=True,
                    )
                ]
            )
            for at in range(0, len(problems), _CHUNK)
        )
    whole_sheet = _("whole sheet")
    row_cells = [
        f'<c r="A{r}"><v>{row}</v></c>' if type(row) is int else text_cell(f"A{r}", whole_sheet)
        for r, row in zip(numbers, rows, strict=True)
    ]
    columns = [row_cells]
    for letter, values in (("B", columns_of), ("C", messages), ("D", to_do), ("E", codes)):
        care = care_needed(values)
        if care:
            cells = [
                inline_cell(f"{letter}{r}", value, 0, care) if value else ""
                for r, value in zip(numbers, values, strict=True)
            ]
        else:
            cells = _cells_of(letter, values)
        columns.append(cells)
    return (
        "".join(
            [
                f'<row r="{r}">{a}{b}{c}{d}{e}</row>'
                for r, a, b, c, d, e in zip(
                    numbers[at : at + _CHUNK],
                    *(column[at : at + _CHUNK] for column in columns),
                    strict=True,
                )
            ]
        )
        for at in range(0, len(problems), _CHUNK)
    )


def _cells_of(letter: str, values: list[str]) -> list[str]:
    """The plain text cells of column `letter` from row 2 on ("" for an empty value)."""
    return [
        f'<c r="{letter}{r}" t="inlineStr"><is><t>{value}</t></is></c>' if value else ""
        for r, value in enumerate(values, start=2)
    ]


def _what_to_do_each(problems: Sequence[Problem]) -> list[str]:
    """What to do about each problem: a few sentences, each translated once."""
    said: dict[tuple[bool, str, bool], str] = {}
    out = []
    for problem in problems:
        key = (problem.row is None, problem.severity, not problem.column)
        words = said.get(key)
        if words is None:
            words = said[key] = _what_to_do(problem)
        out.append(words)
    return out


def _what_to_do(problem: Problem) -> str:
    if problem.row is None:
        return _("Fix the mapping or the sheet, then check again.")
    if problem.severity == "error" and not problem.column:
        return _("Fix the row, then send it again.")
    if problem.severity == "error":
        return Status.INVALID.next_step
    return _("Nothing has to be done; worth a look before sending.")


_Row = list[tuple[object, bool]]  # (value, bold) per cell


def _summary_rows(report: ReportInput, plan: Plan) -> tuple[list[_Row], list[int]]:
    summary = report.summary
    counts = tally_statuses(plan.statuses.values())
    rows: list[_Row] = [[(_("SEEN Sender report"), True)], []]

    def line(label: str, value: object, note: str = "") -> None:
        rows.append([(label, True), (value, False), *([(note, False)] if note else [])])

    line(_("File"), report.file_name)
    if report.sheet_name:
        line(
            _("Sheet"),
            report.sheet_name,
            _("header on row {row}").format(row=report.header_row),
        )
    if summary.target:
        line(_("Campaign or workspace"), summary.target)
    if summary.sent_to:
        line(_("Sent to"), summary.sent_to)
    if summary.when is not None:
        line(_("When"), _local_time(summary.when, summary.time_zone))
    if summary.who:
        line(_("Who"), summary.who)
    for label, value in summary.details:
        line(label, value)
    rows.append([])
    line(_("People in the sheet"), len(plan.rows))
    line(_("Created"), counts.get(Status.CREATED, 0), Status.CREATED.explanation)
    attention = sum(counts.get(s, 0) for s in _NEED_ATTENTION)
    line(
        _("Need attention"),
        attention,
        _("Rejected, needing a fix, failed or unknown: see below."),
    )
    not_sent = counts.get(Status.NOT_SENT, 0) + counts.get(Status.READY, 0)
    line(_("Not sent"), not_sent, _("Not sent yet: ready, or the send stopped before them."))
    rows.append([])
    rows.append([(_("SEEN status"), True), (_("People"), True), (_("What it means"), True),
                 (_("What to do"), True)])  # fmt: skip
    for status, count in counts.items():
        if not count:
            continue
        known = status in Status.__members__.values()
        explanation = Status(status).explanation if known else ""
        next_step = Status(status).next_step if known else ""
        rows.append([(status_label(status), False), (count, False), (explanation, False),
                     (next_step, False)])  # fmt: skip
    rows.append([])
    fingerprint = summary.sha256 or (
        hashlib.sha256(report.source).hexdigest() if report.source else ""
    )
    if fingerprint:
        line(
            _("File fingerprint (SHA-256)"),
            fingerprint,
            _("The same file always has the same fingerprint; it tells this file from others."),
        )
    return rows, [26, 66, 60, 50]


def _problem_rows(report: ReportInput) -> tuple[list[_Row], list[int]]:
    rows: list[_Row] = [
        [
            (_("Row"), True),
            (_("Column"), True),
            (_("Problem"), True),
            (_("What to do"), True),
            (_("Code"), True),
        ]
    ]
    whole_sheet = _("whole sheet")
    for problem in list(report.problems)[: EXCEL_MAX_ROWS - 1]:
        what = _what_to_do(problem)
        rows.append(
            [
                (problem.row if problem.row is not None else whole_sheet, False),
                (problem.column or "", False),
                (problem.message, False),
                (what, False),
                (problem.code, False),
            ]
        )
    if len(rows) == 1:
        rows.append([("", False), ("", False), (_("No problems found."), False)])
    return rows, [11, 22, 70, 48, 24]


def _our_sheet(rows: list[_Row], widths: list[int], bold: int, dialect: Dialect) -> str:
    lines = []
    width = max((len(r) for r in rows), default=0)
    letters = [column_letter(c) for c in range(width)]
    care = [
        care_needed([cells[c][0] for cells in rows if len(cells) > c and type(cells[c][0]) is str])
        for c in range(width)
    ]
    for r, cells in enumerate(rows, start=1):
        out = []
        for c, (value, is_bold) in enumerate(cells):
            style = bold if is_bold else 0
            if type(value) is int:
                out.append(number_cell(f"{letters[c]}{r}", str(value), style))
            elif value:
                out.append(inline_cell(f"{letters[c]}{r}", cell_text(value), style, care[c]))
        if out:
            lines.append(f'<row r="{r}">{"".join(out)}</row>')
    return _worksheet("".join(lines), widths, dialect)


def _worksheet(rows: str, widths: list[int], dialect: Dialect) -> str:
    """A sheet of the report's own: its `rows` (XML) in columns of these widths."""
    cols = "".join(
        f'<col min="{i + 1}" max="{i + 1}" width="{w}" customWidth="1"/>'
        for i, w in enumerate(widths)
    )
    return (
        f'{XML_DECLARATION}<worksheet xmlns="{dialect.main}" xmlns:r="{dialect.rel}">'
        '<sheetViews><sheetView workbookViewId="0"/></sheetViews>'
        f'<sheetFormatPr defaultRowHeight="15"/><cols>{cols}</cols>'
        f"<sheetData>{rows}</sheetData>"
        '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
        "</worksheet>"
    )


def _local_time(when: dt.datetime, zone_name: str | None) -> str:
    """'30 November 2026, 14:05 Europe/Oslo time (UTC+01:00)'."""
    if zone_name:
        from zoneinfo import ZoneInfo

        local = when.astimezone(ZoneInfo(zone_name))
        zone = _("{zone} time").format(zone=zone_name)
    else:
        local = when.astimezone()
        zone = local.tzname() or _("local time")
    offset = local.utcoffset() or dt.timedelta(0)
    sign = "-" if offset < dt.timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    # Translators: a date and time pattern of Babel (CLDR): d day, MMMM month, y year.
    day = format_datetime(local, _("d MMMM y, HH:mm"), locale=locale())
    return f"{day} {zone} (UTC{sign}{minutes // 60:02d}:{minutes % 60:02d})"
