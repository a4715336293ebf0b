"""The downloaded report, read back the way the user's Excel would see it."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
import zipfile
from dataclasses import replace

import openpyxl
import pandas as pd
import pytest
import xlsxwriter
from builders import csv_bytes as make_csv
from builders import messy_workbook

from seen_core.checks import check_sheet
from seen_core.errors import InputError
from seen_core.mapping import Mapping, suggest
from seen_core.problems import Problem
from seen_core.receivers import payloads
from seen_core.report import (
    STATUSES,
    ReportInput,
    ReportSummary,
    annotated_csv,
    annotated_workbook,
    check_outcomes,
    count_statuses,
    csv_bytes,
    extra_keys_of,
    legal_sheet_name,
    values_as_sent,
    workbook_bytes,
)
from seen_core.sheets import Sheet, read_sheet
from seen_core.statuses import Status
from seen_core.text_table import TextTable

SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
HEADER = ["Kundenr", "Fornavn", "E-post", "Mobil", "Kjønn", "Beløp"]
WHEN = dt.datetime(2026, 11, 30, 13, 5, tzinfo=dt.UTC)
CHECKED = ReportSummary(target="campaign 'spring'", sent_to="not sent (checked only)")


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
    **more: object,
) -> ReportInput:
    """The report of a check after the user's fixes in the app, as the app would build it
    (with the table as read beside the fixed one, unless `as_read` is False)."""
    sheet = read_sheet(file_name, data)
    table = sheet.table.copy()
    for (row, column), value in (fixes or {}).items():
        table.loc[row, column] = value
    mapping = suggest(sheet.columns)
    result = check_sheet(table, mapping)
    report = ReportInput.of_sheet(
        sheet,
        data,
        check_outcomes(result.rows, result.problems),
        summary,
        table=table,
        problems=result.problems,
        sent_as=values_as_sent(table, payloads(table, mapping), mapping),
        extra_keys=extra_keys_of(mapping),
        **more,
    )
    return report if as_read else replace(report, original=None)


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


# --- the user's own workbook comes back ------------------------------------------------------


@pytest.fixture(scope="module")
def own() -> tuple[bytes, bytes]:
    """The CRM export and its report, with Eva's first name... and row 6 fixed in the app."""
    data = crm_export()
    report = report_of("kunder.xlsx", data, {(6, "Fornavn"): "Per", (7, "Beløp"): "12"})
    return data, annotated_workbook(report)


def test_other_sheets_and_title_rows_come_back_as_they_were(own: tuple[bytes, bytes]) -> None:
    data, out = own
    book = read_xlsx(out)

    assert book.sheetnames == ["Notater", "Mottakere", "Summary", "Problems"]
    notes = book["Notater"]
    assert (notes["A1"].value, notes["A1"].font.b) == ("Husk å sende før fredag", True)
    assert (notes["A2"].value, notes["A2"].data_type) == (42, "n")
    assert notes.column_dimensions["A"].width == pytest.approx(30, abs=1)
    people = book["Mottakere"]
    assert (people["A1"].value, people["A1"].font.b) == ("Kundeliste høst 2026", True)
    assert people["A2"].value == "Eksportert fra CRM 2026-11-20"
    assert people.column_dimensions["B"].width == pytest.approx(22, abs=1)
    # The parts the report has no reason to touch are the user's own bytes.
    before, after = zipfile.ZipFile(io.BytesIO(data)), zipfile.ZipFile(io.BytesIO(out))
    for name in ("xl/worksheets/sheet1.xml", "xl/sharedStrings.xml", "xl/theme/theme1.xml"):
        assert after.read(name) == before.read(name), name


def test_header_row_keeps_its_look_and_gets_seen_columns_at_its_end(
    own: tuple[bytes, bytes],
) -> None:
    people = read_xlsx(own[1])["Mottakere"]

    assert header_of(people, 3) == [
        *HEADER,
        "SEEN status",
        "SEEN message",
        "E-post (sent as)",
        "Mobil (sent as)",
    ]
    assert people["A3"].fill.fgColor.rgb == people["G3"].fill.fgColor.rgb == "FFFCE4D6"
    assert people["G3"].font.b


def test_numbers_stay_numbers_with_their_formats(own: tuple[bytes, bytes]) -> None:
    people = read_xlsx(own[1])["Mottakere"]

    assert (people["A4"].value, people["A4"].data_type) == (100, "n")
    assert people["D4"].value == 4745860321
    assert (people["F4"].value, people["F4"].number_format) == (1250.5, "0.00")
    # A number fixed in the app is still a number, in the cell's own format.
    assert (people["F7"].value, people["F7"].number_format) == (12, "0.00")


def test_wrong_cell_is_marked_with_its_reason_and_its_row_with_status(
    own: tuple[bytes, bytes],
) -> None:
    people = read_xlsx(own[1])["Mottakere"]
    status = column_of(people, 3, "SEEN status")

    wrong = people["C5"]
    assert wrong.value == "kari@@example"
    assert wrong.fill.fill_type == "solid" and wrong.fill.fgColor.rgb == "FFFFC7CE"
    assert "'kari@@example' is not a valid e-mail address." in wrong.comment.text
    assert people.cell(5, status).value == "invalid"
    assert "kari@@example" in people.cell(5, status + 1).value
    # Only the wrong cell is coloured, not the row.
    assert people["B5"].fill.fill_type is None
    assert people.cell(4, status).value == "ready"


def test_value_sent_is_beside_the_cell_when_it_differs(own: tuple[bytes, bytes]) -> None:
    people = read_xlsx(own[1])["Mottakere"]
    sent_as = column_of(people, 3, "Mobil (sent as)")

    assert people["D5"].value == "458 60 322"
    assert people.cell(5, sent_as).value == "+4745860322"
    assert people.cell(4, sent_as).value == "+4745860321"  # 4745860321 was a number
    assert people.cell(4, sent_as - 1).value == "ola@example.no"  # trimmed
    assert people.cell(5, sent_as - 1).value is None  # sent as it was


def test_cell_fixed_in_the_app_holds_the_new_value_and_notes_the_old(
    own: tuple[bytes, bytes],
) -> None:
    people = read_xlsx(own[1])["Mottakere"]

    assert people["B6"].value == "Per"
    assert "it was empty" in people["B6"].comment.text
    assert people["F7"].value == 12
    assert "it was '10'" in people["F7"].comment.text
    # The user's own note stays, with its author.
    assert people["B4"].comment.text.startswith("Ola vil ha filmen på nynorsk")
    assert people["B4"].comment.author == "Kari"


@pytest.mark.parametrize("name", ["kunder.xlsx", "kunder.csv"])
def test_fixes_are_found_from_the_upload_when_the_table_as_read_is_not_given(name: str) -> None:
    data = crm_export() if name.endswith(".xlsx") else make_csv(CSV_ROWS, delimiter=";")
    row = 6 if name.endswith(".xlsx") else 5
    report = report_of(name, data, {(row, "Fornavn"): "Per"}, as_read=False)
    people = read_xlsx(annotated_workbook(report)).worksheets[1 if name.endswith(".xlsx") else 0]

    assert people[f"B{row}"].value == "Per"
    assert "it was empty" in people[f"B{row}"].comment.text
    assert (
        sum(1 for r in people.iter_rows() for c in r if c.comment and "Changed" in c.comment.text)
        == 1
    )


def test_formula_like_text_comes_back_as_text(own: tuple[bytes, bytes]) -> None:
    book = read_xlsx(own[1])

    assert (book["Mottakere"]["D7"].value, book["Mottakere"]["D7"].data_type) == ("=1+2", "s")
    no_formulas(book)


def test_a_fix_that_looks_like_a_formula_is_written_as_text() -> None:
    report = report_of("kunder.xlsx", crm_export(), {(4, "Kjønn"): '=HYPERLINK("x")'})
    book = read_xlsx(annotated_workbook(report))

    assert book["Mottakere"]["E4"].value == '=HYPERLINK("x")'
    no_formulas(book)


def test_a_formula_as_a_first_name_is_warned_of_and_written_back_as_text() -> None:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet("Mottakere")
    sheet.write_row(0, 0, ["Kundenr", "Fornavn", "E-post"])
    sheet.write_row(1, 0, ["1", "", "ola@example.no"])
    sheet.write_string(1, 1, '=HYPERLINK("http://x","win")')  # text that reads as a formula
    book.close()
    report = report_of("kunder.xlsx", buffer.getvalue())
    workbook = read_xlsx(annotated_workbook(report))
    people = workbook["Mottakere"]
    status = column_of(people, 1, "SEEN status")

    assert (people["B2"].value, people["B2"].data_type) == ('=HYPERLINK("http://x","win")', "s")
    assert "looks like a spreadsheet formula" in people["B2"].comment.text
    assert people.cell(2, status).value == "ready"  # a warning: the row is still sent
    assert "looks like a spreadsheet formula" in people.cell(2, status + 1).value
    problems = list(workbook["Problems"].iter_rows(values_only=True))
    assert [(r[0], r[1], r[4]) for r in problems[1:]] == [(2, "Fornavn", "text_formula")]
    no_formulas(workbook)
    rows = list(csv.reader(io.StringIO(annotated_csv(report).decode("utf-8-sig"))))
    assert rows[1][1] == """'=HYPERLINK("http://x","win")"""


def test_reading_the_report_again_gives_the_fixed_sheet(own: tuple[bytes, bytes]) -> None:
    again = read_sheet("kunder-rapport.xlsx", own[1], sheet="Mottakere")

    assert again.header_row == 3
    assert again.table.loc[6, "Fornavn"] == "Per"
    assert again.table.loc[4, "Mobil"] == "4745860321"
    assert again.table.loc[5, "SEEN status"] == "invalid"


def test_xlsm_keeps_its_macros() -> None:
    data = crm_export(vba=True)
    out = annotated_workbook(report_of("kunder.xlsm", data))

    after = zipfile.ZipFile(io.BytesIO(out))
    assert after.read("xl/vbaProject.bin") == zipfile.ZipFile(io.BytesIO(data)).read(
        "xl/vbaProject.bin"
    )
    assert "macroEnabled" in after.read("[Content_Types].xml").decode()
    assert read_xlsx(out)["Mottakere"]["G3"].value == "SEEN status"


def test_our_sheets_give_way_to_the_users_own_summary() -> None:
    report = report_of("kunder.xlsx", crm_export(own_sheet_named="Summary"))
    book = read_xlsx(annotated_workbook(report))

    assert book.sheetnames == ["Notater", "Mottakere", "Summary", "Summary (2)", "Problems"]
    assert book["Summary"]["A1"].value == "mine egne tall"
    assert book["Summary (2)"]["A1"].value == "SEEN Sender report"


def test_video_links_are_working_hyperlinks() -> None:
    report = report_of(
        "kunder.xlsx",
        crm_export(),
        videos={
            4: ("https://player.seen.io/v/abc", "https://img.seen.io/abc.jpg", None),
            6: ("javascript:alert(1)", None, None),
        },
    )
    people = read_xlsx(annotated_workbook(report))["Mottakere"]
    video = column_of(people, 3, "Video")

    assert people.cell(4, video).value == "https://player.seen.io/v/abc"
    assert people.cell(4, video).hyperlink.target == "https://player.seen.io/v/abc"
    assert people.cell(4, video + 1).value == "https://img.seen.io/abc.jpg"
    assert people.cell(6, video).hyperlink is None  # only web addresses become links


def test_a_workbook_the_editor_cannot_change_is_rebuilt_with_the_same_annotations() -> None:
    # Rows without numbers are legal SpreadsheetML, but rows must be found by number.
    data = crm_export()
    before = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as changed:
        for info in before.infolist():
            part = before.read(info)
            if info.filename == "xl/worksheets/sheet2.xml":
                part = re.sub(rb'<row r="\d+"', b"<row", part)
            changed.writestr(info.filename, part)
    report = report_of("kunder.xlsx", buffer.getvalue())
    book = read_xlsx(annotated_workbook(report))

    assert book.sheetnames == ["Notater", "Mottakere", "Summary", "Problems"]
    people = book["Mottakere"]
    assert header_of(people, 3)[6] == "SEEN status"
    assert (people["A4"].value, people["C5"].fill.fgColor.rgb) == (100, "FFFFC7CE")
    assert book["Notater"]["A2"].value == 42


# --- CSV, XLS and ODS come back as a new workbook --------------------------------------------

CSV_ROWS = [
    ["Kundeliste fra CRM"],
    [],
    ["Kundenr", "Fornavn", "E-post", "Mobil", "Notat", "Beløp"],
    ["007", "Ola", "ola@example.no", "+4745860321", "=1+2", "12.5"],
    ["100", "", "kari@example", "458 60 322", "@SUM(A1)", "1000"],
    ["101", "Per", "per@example.no", "45860323", "-5", "0.5"],
]


@pytest.fixture(scope="module")
def from_csv() -> ReportInput:
    data = make_csv(CSV_ROWS, delimiter=";")
    return report_of("kunder.csv", data, {(5, "Fornavn"): "Kari", (6, "Beløp"): "2"})


def test_csv_becomes_a_workbook_with_numbers_as_numbers(from_csv: ReportInput) -> None:
    book = read_xlsx(annotated_workbook(from_csv))
    people = book["Receivers"]

    assert book.sheetnames == ["Receivers", "Summary", "Problems"]
    assert people["A1"].value == "Kundeliste fra CRM"
    assert header_of(people, 3)[:8] == [*CSV_ROWS[2], "SEEN status", "SEEN message"]
    assert [people.cell(r, 1).value for r in (4, 5, 6)] == ["007", 100, 101]
    assert (people["F4"].value, people["F5"].value) == (12.5, 1000)
    assert people["D4"].value == "+4745860321"  # phone numbers stay as typed
    assert people["D6"].value == 45860323
    assert people.freeze_panes == "A4"
    no_formulas(book)


def test_csv_workbook_has_the_same_marks_fixes_and_values_as_sent(from_csv: ReportInput) -> None:
    people = read_xlsx(annotated_workbook(from_csv))["Receivers"]

    assert people["C5"].fill.fgColor.rgb == "FFFFC7CE"
    assert "not a valid e-mail address" in people["C5"].comment.text
    assert people["B5"].value == "Kari" and "it was empty" in people["B5"].comment.text
    assert (people["F6"].value, people["F6"].data_type) == (2, "n")  # 0.5 was a number
    assert people.cell(5, column_of(people, 3, "Mobil (sent as)")).value == "+4745860322"
    assert "'belop'" in people["F3"].comment.text  # the extra key Beløp was sent under
    assert (people["E4"].value, people["E4"].data_type) == ("=1+2", "s")


def test_csv_report_has_the_fixed_cells_seen_columns_and_formula_guard(
    from_csv: ReportInput,
) -> None:
    rows = list(csv.reader(io.StringIO(annotated_csv(from_csv).decode("utf-8-sig"))))

    assert rows[0] == [*CSV_ROWS[2], "SEEN status", "SEEN message", "Mobil (sent as)"]
    assert rows[1] == ["007", "Ola", "ola@example.no", "+4745860321", "'=1+2", "12.5", "ready",
                       "'=1+2' looks like a spreadsheet formula: the film would show it as "
                       "written.", ""]  # fmt: skip
    assert rows[2][1] == "Kari" and rows[2][4] == "'@SUM(A1)" and rows[2][-1] == "+4745860322"
    assert rows[3][4:6] == ["-5", "2"]


def test_ods_and_xls_become_workbooks_with_their_numbers(tmp_path) -> None:
    from builders import ods_bytes, xls_bytes

    ods = read_xlsx(annotated_workbook(report_of("people.ods", ods_bytes(tmp_path))))
    assert ods.sheetnames[0] == "Sheet1"
    assert ods["Sheet1"]["B3"].value == "45860322"  # text in the file stays text
    xls = xls_bytes()
    if xls is not None:
        book = read_xlsx(annotated_workbook(report_of("old.xls", xls)))
        assert (book["Mottakere"]["B2"].value, book["Mottakere"]["C2"].value) == (4745860321, 100)


# --- Summary and Problems -------------------------------------------------------------------


def summary_items(book: openpyxl.Workbook, name: str = "Summary") -> dict[object, tuple]:
    return {row[0]: row[1:] for row in book[name].iter_rows(values_only=True) if row[0]}


def test_summary_speaks_a_managers_words() -> None:
    sent = ReportSummary(
        target="campaign 'spring'",
        sent_to="SEEN",
        when=WHEN,
        who="kari@firma.no",
        time_zone="Europe/Oslo",
        details=[("Send", "#3, finished")],
    )
    outcomes = {
        4: ("created", ""),
        5: ("rejected", "email: Enter a valid email address."),
        6: ("invalid", "First name is missing."),
        7: ("not_sent", ""),
    }
    report = replace(report_of("kunder.xlsx", crm_export(), summary=sent), outcomes=outcomes)
    items = summary_items(read_xlsx(annotated_workbook(report)))
    labels = list(items)

    assert items["File"][0] == "kunder.xlsx"
    assert items["Campaign or workspace"][0] == "campaign 'spring'"
    assert items["Sent to"][0] == "SEEN"
    assert items["When"][0] == "30 November 2026, 14:05 Europe/Oslo time (UTC+01:00)"
    assert items["Who"][0] == "kari@firma.no"
    assert items["Send"][0] == "#3, finished"
    assert (items["Created"][0], items["Need attention"][0], items["Not sent"][0]) == (1, 2, 1)
    assert items["rejected"][:2] == (1, Status.REJECTED.explanation)
    assert items["not_sent"][:3] == (1, Status.NOT_SENT.explanation, Status.NOT_SENT.next_step)
    # The fingerprint comes last, named for what it is; no jargon before it.
    assert labels[-1] == "File fingerprint (SHA-256)"
    assert items[labels[-1]][0] == hashlib.sha256(report.source).hexdigest()
    assert not any("SHA" in str(label) for label in labels[:-1])


def test_problems_sheet_says_where_what_and_what_to_do(own: tuple[bytes, bytes]) -> None:
    rows = list(read_xlsx(own[1])["Problems"].iter_rows(values_only=True))

    assert rows[0] == ("Row", "Column", "Problem", "What to do", "Code")
    wrong = next(r for r in rows if r[4] == "email_invalid")
    assert wrong[:4] == (
        5,
        "E-post",
        "'kari@@example' is not a valid e-mail address.",
        "Fix the cell that is marked and send again.",
    )


def test_a_sheet_without_problems_says_so() -> None:
    table = pd.DataFrame({"Fornavn": ["Ola"]}, index=pd.Index([2], name="row"), dtype=object)
    report = ReportInput("a.csv", b"", None, 1, table, {2: ("ready", "")}, CHECKED)

    rows = list(read_xlsx(annotated_workbook(report))["Problems"].iter_rows(values_only=True))
    assert rows[1][2] == "No problems found."


def test_more_rows_than_excel_holds_is_a_sentence_not_a_traceback() -> None:
    table = pd.DataFrame({"Fornavn": ["Ola"]}, index=pd.Index([1_048_577]), dtype=object)
    report = ReportInput("big.csv", b"", None, 1, table, {}, CHECKED)

    with pytest.raises(InputError, match="more rows than Excel can hold"):
        annotated_workbook(report)


# --- helpers for the caller ------------------------------------------------------------------


def test_values_as_sent_holds_only_values_that_differ_from_their_cell() -> None:
    table = pd.DataFrame(
        {"Fornavn": [" Åse ", "Bo"], "Mobil": ["458 60 322", "+4745860323"], "Kjønn": ["K", "M"]},
        index=pd.Index([2, 3]),
        dtype=object,
    )
    mapping = Mapping({"first_name": "Fornavn", "phone": "Mobil"}, {"kjonn": "Kjønn"})

    assert values_as_sent(table, payloads(table, mapping), mapping) == {
        2: {"Fornavn": "Åse", "Mobil": "+4745860322"}
    }
    flat = [(2, {"id": "x", "first_name": "Åse", "phone": "+4745860322", "kjonn": "K"})]
    assert values_as_sent(table, flat, mapping) == {2: {"Fornavn": "Åse", "Mobil": "+4745860322"}}
    assert extra_keys_of(mapping) == {"Kjønn": "kjonn"}


# --- the earlier entry points, on a sheet without its upload -----------------------------------

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


@pytest.fixture
def sheet() -> Sheet:
    # Header on row 2 (a title row above it), so the people are rows 3, 4 and 5.
    return make_sheet(
        {
            3: ["Åse", "Ødegård", "+4712345678", "=1+2"],
            4: ["Bjørn", "Ærlig", "0047 123", '=HYPERLINK("http://x","y")'],
            5: ["", "Løvås", "@foo", "-1+2"],
        }
    )


OUTCOMES = {
    3: ("created", ""),
    4: ("rejected", "phone: Enter a valid phone number."),
    5: ("invalid", "First name is missing."),
}


def test_sheet_without_upload_keeps_row_numbers_and_writes_text(sheet: Sheet) -> None:
    receivers = read_xlsx(workbook_bytes(sheet, OUTCOMES)).worksheets[0]

    assert receivers.title == "Ark1"
    assert header_of(receivers, 2) == [*COLUMNS, "SEEN status", "SEEN message"]
    assert header_of(receivers, 4)[-2:] == ["rejected", "phone: Enter a valid phone number."]
    assert header_of(receivers, 5)[1] == "Løvås"
    assert receivers.max_row == 5
    for coordinate in ("C3", "C4", "D3", "D4", "D5"):
        assert receivers[coordinate].data_type == "s", coordinate
    assert receivers["C3"].value == "+4712345678"


def test_only_the_status_cell_is_coloured_by_status(sheet: Sheet) -> None:
    receivers = read_xlsx(workbook_bytes(sheet, OUTCOMES)).worksheets[0]
    created, rejected, invalid = (receivers[f"E{row}"].fill.fgColor.rgb for row in (3, 4, 5))

    assert created != rejected
    assert rejected == invalid  # both red: the user must act on them
    assert receivers["A4"].fill.fill_type is None


def test_rebuilt_header_is_bold_frozen_and_filterable(sheet: Sheet) -> None:
    receivers = read_xlsx(workbook_bytes(sheet, OUTCOMES)).worksheets[0]

    assert receivers["A2"].font.b and receivers["E2"].font.b
    assert receivers.freeze_panes == "A3"
    assert receivers.auto_filter.ref == "A2:F5"


def test_legacy_summary_mapping_lands_in_the_summary_sheet(sheet: Sheet) -> None:
    summary = {"Target": "campaign 'vinter'", "Sent to": "the sandbox", "Started": "2025-01-02"}
    items = summary_items(read_xlsx(workbook_bytes(sheet, OUTCOMES, summary=summary)))

    assert items["Campaign or workspace"][0] == "campaign 'vinter'"
    assert items["Sent to"][0] == "the sandbox"
    assert items["Started"][0] == "2025-01-02"
    assert items["File fingerprint (SHA-256)"][0] == SHA


def test_rows_in_any_order_land_on_their_own_row_numbers() -> None:
    shuffled = make_sheet({5: ["Cecilie", "", "", ""], 3: ["Anne", "", "", ""]})
    receivers = read_xlsx(workbook_bytes(shuffled, {5: ("failed", "timeout")})).worksheets[0]

    assert header_of(receivers, 3)[0] == "Anne"
    assert header_of(receivers, 5)[0] == "Cecilie"
    assert header_of(receivers, 5)[-2:] == ["failed", "timeout"]


def test_row_numbers_that_cannot_be_kept_are_written_one_after_another() -> None:
    clashing = make_sheet({1: ["Anne", "", "", ""], 2: ["Bo", "", "", ""]}, header_row=2)
    receivers = read_xlsx(workbook_bytes(clashing, {2: ("created", "")})).worksheets[0]

    assert header_of(receivers, 1)[0] == "Fornavn"
    assert [header_of(receivers, r)[0] for r in (2, 3)] == ["Anne", "Bo"]
    assert header_of(receivers, 3)[-2] == "created"


def test_problems_follow_their_rows_when_the_rows_are_numbered_afresh() -> None:
    table = pd.DataFrame({"Fornavn": ["", "Bo"]}, index=pd.Index([1, 2], name="row"), dtype=object)
    problems = [
        Problem(1, "Fornavn", "first_name", "first_name_missing", "error", "First name is empty."),
        Problem(None, None, None, "no_first_name", "error", "No column is mapped."),
    ]
    report = ReportInput("a.csv", b"", None, 2, table, {}, CHECKED, problems)

    rows = list(read_xlsx(annotated_workbook(report))["Problems"].iter_rows(values_only=True))
    assert [(r[0], r[4]) for r in rows[1:]] == [
        (2, "first_name_missing"),  # row 1 of the table, written on row 2 under its header
        ("whole sheet", "no_first_name"),
    ]


def test_very_long_cell_is_cut_to_excels_limit_and_control_characters_survive() -> None:
    long_sheet = make_sheet({2: ["x" * 40_000, "", "", "bell \x07 char"]}, header_row=1)
    receivers = read_xlsx(workbook_bytes(long_sheet, {2: ("ready", "")})).worksheets[0]

    assert receivers["A2"].value == "x" * 32_767
    assert receivers["D2"].value.startswith("bell")


def test_csv_of_a_sheet_quotes_formula_like_text_and_keeps_norwegian_letters(
    sheet: Sheet,
) -> None:
    data = csv_bytes(sheet, OUTCOMES)
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))

    assert data.startswith(b"\xef\xbb\xbf")  # the BOM that makes Excel read UTF-8
    assert rows[0] == [*COLUMNS, "SEEN status", "SEEN message"]
    assert rows[1] == ["Åse", "Ødegård", "+4712345678", "'=1+2", "created", ""]
    assert rows[3][1:] == ["Løvås", "'@foo", "'-1+2", "invalid", "First name is missing."]


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ("=1+2", "'=1+2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("+1+2", "'+1+2"),
        ("\t=cmd", "'\t=cmd"),
        ("+4712345678", "+4712345678"),
        ("+47 123 45 678", "+47 123 45 678"),
        ("-2,5", "-2,5"),
        ("Ola", "Ola"),
    ],
)
def test_csv_quotes_formula_like_text_but_not_numbers(cell: str, written: str) -> None:
    one = make_sheet({2: [cell, "", "", ""]}, header_row=1)
    rows = list(csv.reader(io.StringIO(csv_bytes(one, {}).decode("utf-8-sig"))))

    assert rows[1][0] == written


@pytest.mark.parametrize(
    ("name", "taken", "expected"),
    [
        ("Ark1/2025 [test]", (), "Ark1-2025 (test)"),
        ("a:b*c?d\\e", (), "a-b_c_d-e"),
        ("En veldig lang arkfane som er over grensen", (), "En veldig lang arkfane som er o"),
        ("'sitert'", (), "sitert"),
        ("", (), "Receivers"),
        (None, (), "Receivers"),
        ("History", (), "History (sheet)"),
        ("summary", ("Summary",), "summary (2)"),
    ],
)
def test_sheet_names_are_made_legal_for_excel(
    name: str | None, taken: tuple[str, ...], expected: str
) -> None:
    assert legal_sheet_name(name, taken) == expected
    assert len(expected) <= 31


def test_check_outcomes_marks_error_rows_invalid_and_warning_rows_ready() -> None:
    problems = [
        Problem(3, "E-post", "email", "email_invalid", "error", "E-post is not valid."),
        Problem(3, "Mobil", "phone", "phone_invalid", "error", "Mobil is not a valid number."),
        Problem(4, None, None, "no_contact", "warning", "No e-mail or phone."),
        Problem(None, None, "customer_id", "customer_id_missing", "warning", "No customer_id."),
        Problem(99, None, None, "elsewhere", "error", "Not in this table."),
    ]
    outcomes = check_outcomes([3, 4, 5], problems)

    assert outcomes == {
        3: ("invalid", "E-post is not valid.; Mobil is not a valid number."),
        4: ("ready", "No e-mail or phone."),
        5: ("ready", ""),
    }


def test_check_outcomes_sheet_wide_error_makes_every_row_invalid() -> None:
    problems = [Problem(None, "Kjønn", "kjønn", "extra_key_invalid", "error", "Bad key kjønn.")]

    outcomes = check_outcomes([2, 3], problems)

    assert outcomes == {2: ("invalid", "Bad key kjønn."), 3: ("invalid", "Bad key kjønn.")}


def test_count_statuses_lists_every_status() -> None:
    counts = count_statuses({2: ("created", ""), 3: ("created", ""), 4: ("failed", "x")})

    assert list(counts) == list(STATUSES)
    assert counts["created"] == 2 and counts["failed"] == 1 and counts["ready"] == 0


def test_the_messy_export_keeps_its_notes_sheet() -> None:
    book = read_xlsx(annotated_workbook(report_of("kunder.xlsx", messy_workbook())))

    assert book.sheetnames[:2] == ["Notater", "Mottakere"]
    assert book["Notater"]["A1"].value == "Husk å sende før fredag"
    assert book["Mottakere"]["A1"].value == "Kundeliste høst 2026"


# --- workbooks from other programs -------------------------------------------------------------


def openpyxl_export() -> bytes:
    """A workbook as another program writes it: a chart on the first sheet, the receivers in
    an Excel table, inline text, no `r` prefix declared on the sheet."""
    from openpyxl.chart import BarChart, Reference
    from openpyxl.worksheet.table import Table

    book = openpyxl.Workbook()
    numbers = book.active
    numbers.title = "Tall"
    for i in range(1, 5):
        numbers.append([f"q{i}", i * 10])
    chart = BarChart()
    chart.add_data(Reference(numbers, min_col=2, min_row=1, max_row=4))
    numbers.add_chart(chart, "D2")
    people = book.create_sheet("Kunder")
    people.append(["Eksport"])
    people.append([])
    people.append(["Fornavn", "E-post", "Mobil"])
    people.append(["Ola", "ola@example.no", 4745860321])
    people.append(["Kari", "kari@@x", "458 60 322"])
    people.add_table(Table(displayName="Kunder", ref="A3:C5"))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_charts_and_tables_of_the_users_workbook_survive() -> None:
    data = openpyxl_export()
    out = annotated_workbook(report_of("tall.xlsx", data))

    after = zipfile.ZipFile(io.BytesIO(out))
    for name in ("xl/charts/chart1.xml", "xl/drawings/drawing1.xml", "xl/tables/table1.xml"):
        assert after.read(name) == zipfile.ZipFile(io.BytesIO(data)).read(name), name
    book = read_xlsx(out)
    people = book["Kunder"]
    assert header_of(people, 3)[:5] == ["Fornavn", "E-post", "Mobil", "SEEN status", "SEEN message"]
    assert people.tables["Kunder"].ref == "A3:C5"
    assert "not a valid e-mail address" in people["B5"].comment.text


def with_prefix(data: bytes, part: str) -> bytes:
    """The workbook with `part` written with an `x:` prefix, as the Open XML SDK writes it."""
    before = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as changed:
        for info in before.infolist():
            xml = before.read(info)
            if info.filename == part:
                xml = re.sub(rb"<(/?)(?![?])([A-Za-z]+[ />])", rb"<\1x:\2", xml)
                xml = xml.replace(b'xmlns="http', b'xmlns:x="http', 1)
            changed.writestr(info.filename, xml)
    return buffer.getvalue()


def test_a_sheet_written_with_a_namespace_prefix_is_annotated_in_place() -> None:
    data = with_prefix(crm_export(), "xl/worksheets/sheet2.xml")
    report = report_of("kunder.xlsx", data, {(6, "Fornavn"): "Per"})
    out = annotated_workbook(report)
    people = read_xlsx(out)["Mottakere"]

    assert b"<x:c " in zipfile.ZipFile(io.BytesIO(out)).read("xl/worksheets/sheet2.xml")
    assert header_of(people, 3)[6:8] == ["SEEN status", "SEEN message"]
    assert people["B6"].value == "Per" and "it was empty" in people["B6"].comment.text
    assert people["C5"].fill.fgColor.rgb == "FFFFC7CE"
    assert people["B4"].comment.author == "Kari"


def test_text_that_needs_escaping_comes_back_as_it_was() -> None:
    rows = [
        ["Fornavn", "Notat"],
        ["Ola", " leading and trailing "],
        ["Kari", 'A & B <c> "d"'],
        ["Per", "tab\there"],
        ["Åse", "_x0041_ is not A"],
    ]
    out = annotated_workbook(report_of("notes.csv", make_csv(rows)))
    people = read_xlsx(out)["Receivers"]

    assert [people.cell(r, 2).value for r in range(2, 5)] == [row[1] for row in rows[1:4]]
    # Text that looks like Excel's own escapes is escaped in turn, as Excel does; openpyxl does
    # not undo that, Excel and the app's reader do.
    assert read_sheet("r.xlsx", out).table.loc[5, "Notat"] == "_x0041_ is not A"


def test_a_column_the_app_added_comes_after_the_users_and_is_marked_like_theirs() -> None:
    report = report_of("kunder.xlsx", crm_export())
    table = report.table.copy()
    table["Etternavn"] = ["Nordmann", "", "Berg", "Lie"]  # split from a full name, say
    problem = Problem(5, "Etternavn", "last_name", "text_invalid", "error", "Etternavn is empty.")
    report = replace(report, table=table, problems=[*report.problems, problem])
    people = read_xlsx(annotated_workbook(report))["Mottakere"]

    assert header_of(people, 3)[6:8] == ["Etternavn", "SEEN status"]
    assert "Added in SEEN Sender" in people["G3"].comment.text
    assert [people.cell(r, 7).value for r in (4, 5, 6)] == ["Nordmann", None, "Berg"]
    problem_row = [people.cell(5, c) for c in range(1, 12) if people.cell(5, c).comment]
    assert any("Etternavn is empty." in c.comment.text for c in problem_row)


def test_without_its_upload_a_column_the_app_added_is_written_once() -> None:
    report = report_of("kunder.xlsx", crm_export())
    table = report.table.copy()
    table["Etternavn"] = ["Nordmann", "", "Berg", "Lie"]
    report = replace(report, source=b"", table=table)
    people = read_xlsx(annotated_workbook(report))["Mottakere"]

    assert header_of(people, 3)[:8] == [*HEADER, "Etternavn", "SEEN status"]
    assert people["G4"].value == "Nordmann"
