"""What the report tests share: the CRM export a campaign manager has, the report the app would
build of it, and reading the report back the way the user's Excel would."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping
from dataclasses import replace

import openpyxl
import pandas as pd
import xlsxwriter

from seen_core import flow
from seen_core.check.mapping import suggest
from seen_core.check.receivers import payloads
from seen_core.problems import Problem
from seen_core.read.sheets import Sheet, read_sheet
from seen_core.read.text_table import TextTable
from seen_core.report import ReportInput, ReportSummary, extra_keys_of, values_as_sent

SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
HEADER = ["Kundenr", "Fornavn", "E-post", "Mobil", "Kjønn", "Beløp"]
WHEN = dt.datetime(2026, 11, 30, 13, 5, tzinfo=dt.UTC)
CHECKED = ReportSummary(target="campaign 'spring'", sent_to="not sent (checked only)")
# A CSV export: a title row, a blank row, then the header; text that looks like formulas.
CSV_ROWS = [
    ["Kundeliste fra CRM"],
    [],
    ["Kundenr", "Fornavn", "E-post", "Mobil", "Notat", "Beløp"],
    ["007", "Ola", "ola@example.no", "+4745860321", "=1+2", "12.5"],
    ["100", "", "kari@example", "458 60 322", "@SUM(A1)", "1000"],
    ["101", "Per", "per@example.no", "45860323", "-5", "0.5"],
]


def crm_export(*, vba: bool = False, own_sheet_named: str | None = None) -> bytes:
    """A CRM export as a campaign manager has it: a notes sheet first, two title rows above a
    coloured header, numbers stored as numbers (one with a number format), a wrong e-mail, a
    phone typed with spaces, a person without a first name, and widths of the user's own."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    bold = book.add_format({"bold": True})
    header = book.add_format({"bold": True, "bg_color": "#FCE4D6"})
    money = book.add_format({"num_format": "0.00"})
    notes = book.add_worksheet("Notater")
    notes.write_string(0, 0, "Husk å sende før fredag", bold)
    notes.write_number(1, 0, 42)
    notes.set_column(0, 0, 30)
    sheet = book.add_worksheet("Mottakere")
    sheet.write_string(0, 0, "Kundeliste høst 2026", bold)
    sheet.write_string(1, 0, "Eksportert fra CRM 2026-11-20")
    sheet.set_column(1, 1, 22)
    sheet.write_row(2, 0, HEADER, header)
    people = [
        [100, "Ola", " ola@example.no", 4745860321, "M", 1250.5],
        [101, "Kari", "kari@@example", "458 60 322", "K", 99],
        [102, "", "per@example.no", 45860323, "M", 0],
        [103, "Eva", "eva@example.no", "=1+2", "K", 10],
    ]
    for r, cells in enumerate(people, start=3):
        for c, value in enumerate(cells):
            if isinstance(value, int | float):
                sheet.write_number(r, c, value, money if c == 5 else None)
            elif value:
                sheet.write_string(r, c, value)
    sheet.write_comment(3, 1, "Ola vil ha filmen på nynorsk", {"author": "Kari"})
    if own_sheet_named:
        book.add_worksheet(own_sheet_named).write_string(0, 0, "mine egne tall")
    if vba:
        book.add_vba_project(io.BytesIO(b"not really VBA, but kept byte for byte"), True)
    book.close()
    return buffer.getvalue()


def report_of(
    file_name: str,
    data: bytes,
    fixes: dict[tuple[int, str], str] | None = None,
    summary: ReportSummary = CHECKED,
    *,
    as_read: bool = True,
    sheet: str | None = None,
    **more: object,
) -> ReportInput:
    """The report of a check after the user's fixes in the app, as the flow builds it (with
    the table as read beside the fixed one, unless `as_read` is False), of the sheet named
    `sheet` (else the one the reader picks)."""
    sheet = read_sheet(file_name, data, sheet=sheet)
    table = sheet.table.copy()
    for (row, column), value in (fixes or {}).items():
        table.loc[row, column] = value
    mapping = suggest(sheet.columns)
    checked = flow.check(sheet, mapping, table=table)
    return ReportInput(
        file_name=sheet.file_name,
        source=data,
        sheet_name=sheet.sheet_name,
        header_row=sheet.header_row,
        table=table,
        outcomes=checked.outcomes(),
        summary=summary,
        problems=checked.problems,
        sent_as=values_as_sent(table, payloads(table, mapping), mapping),
        extra_keys=extra_keys_of(mapping),
        original=sheet.table if as_read else None,
        **more,  # type: ignore[arg-type]
    )


# --- a sheet whose upload is not at hand (a send's own sheet, kept in the journal) ------------

COLUMNS = ["Fornavn", "Etternavn", "Mobil", "Notat"]


def make_sheet(
    rows: dict[int, list[str]],
    columns: list[str] = COLUMNS,
    header_row: int = 2,
    sheet_name: str | None = "Ark1",
) -> Sheet:
    table = pd.DataFrame(list(rows.values()), index=list(rows), columns=columns, dtype=str)
    return Sheet(
        file_name="mottakere.xlsx",
        sha256=SHA,
        sheet_names=[sheet_name] if sheet_name else [],
        sheet_name=sheet_name,
        header_row=header_row,
        columns=columns,
        text=TextTable.of_frame(table),
    )


def without_upload(
    sheet: Sheet,
    outcomes: Mapping[int, tuple[str, str]],
    problems: list[Problem] | None = None,
    summary: ReportSummary = CHECKED,
) -> ReportInput:
    """The report of `sheet` with no upload to edit, as `flow.report_file` builds it when it
    is given no source: every cell is written as text."""
    return ReportInput(
        file_name=sheet.file_name,
        source=b"",
        sheet_name=sheet.sheet_name,
        header_row=sheet.header_row,
        table=sheet.table,
        outcomes=outcomes,
        summary=replace(summary, sha256=summary.sha256 or sheet.sha256),
        problems=problems or (),
        original=sheet.table,
    )


# --- reading the report back -----------------------------------------------------------------


def read_xlsx(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


def header_of(worksheet, row: int) -> list[object]:
    return [cell.value for cell in worksheet[row]]


def column_of(worksheet, header_row: int, name: str) -> int:
    return header_of(worksheet, header_row).index(name) + 1


def no_formulas(book: openpyxl.Workbook) -> None:
    for worksheet in book.worksheets:
        for row in worksheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (worksheet.title, cell.coordinate, cell.value)


def summary_items(book: openpyxl.Workbook, name: str = "Summary") -> dict[object, tuple]:
    return {row[0]: row[1:] for row in book[name].iter_rows(values_only=True) if row[0]}
