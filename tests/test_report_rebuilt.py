"""A report written anew, read back the way the user's Excel would: a CSV, XLS or ODS upload
rebuilt as a workbook, a sheet whose upload is not at hand (every cell as text), and the report
as CSV."""

from __future__ import annotations

import csv
import io
from dataclasses import replace

import pandas as pd
import pytest
from builders import csv_bytes as make_csv
from report_books import (
    CHECKED,
    COLUMNS,
    CSV_ROWS,
    HEADER,
    column_of,
    crm_export,
    header_of,
    make_sheet,
    no_formulas,
    read_xlsx,
    report_of,
    without_upload,
)

from seen_core.errors import InputError
from seen_core.problems import Problem
from seen_core.read.sheets import Sheet, read_sheet
from seen_core.report import ReportInput, annotated_csv, annotated_workbook, legal_sheet_name

# --- CSV, XLS and ODS come back as a new workbook ------------------------------------------------


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
    assert rows[1] == ["007", "Ola", "ola@example.no", "+4745860321", "'=1+2", "12.5", "Ready",
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


# --- a sheet without its upload: every cell as text ----------------------------------------------


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
    receivers = read_xlsx(annotated_workbook(without_upload(sheet, OUTCOMES))).worksheets[0]

    assert receivers.title == "Ark1"
    assert header_of(receivers, 2) == [*COLUMNS, "SEEN status", "SEEN message"]
    assert header_of(receivers, 4)[-2:] == [
        "Rejected by SEEN",
        "phone: Enter a valid phone number.",
    ]
    assert header_of(receivers, 5)[1] == "Løvås"
    assert receivers.max_row == 5
    for coordinate in ("C3", "C4", "D3", "D4", "D5"):
        assert receivers[coordinate].data_type == "s", coordinate
    assert receivers["C3"].value == "+4712345678"


def test_only_the_status_cell_is_coloured_by_status(sheet: Sheet) -> None:
    receivers = read_xlsx(annotated_workbook(without_upload(sheet, OUTCOMES))).worksheets[0]
    created, rejected, invalid = (receivers[f"E{row}"].fill.fgColor.rgb for row in (3, 4, 5))

    assert created != rejected
    assert rejected == invalid  # both red: the user must act on them
    assert receivers["A4"].fill.fill_type is None


def test_rebuilt_header_is_bold_frozen_and_filterable(sheet: Sheet) -> None:
    receivers = read_xlsx(annotated_workbook(without_upload(sheet, OUTCOMES))).worksheets[0]

    assert receivers["A2"].font.b and receivers["E2"].font.b
    assert receivers.freeze_panes == "A3"
    assert receivers.auto_filter.ref == "A2:F5"


def test_rows_in_any_order_land_on_their_own_row_numbers() -> None:
    shuffled = make_sheet({5: ["Cecilie", "", "", ""], 3: ["Anne", "", "", ""]})
    receivers = read_xlsx(
        annotated_workbook(without_upload(shuffled, {5: ("failed", "timeout")}))
    ).worksheets[0]

    assert header_of(receivers, 3)[0] == "Anne"
    assert header_of(receivers, 5)[0] == "Cecilie"
    assert header_of(receivers, 5)[-2:] == ["Failed", "timeout"]


def test_row_numbers_that_cannot_be_kept_are_written_one_after_another() -> None:
    clashing = make_sheet({1: ["Anne", "", "", ""], 2: ["Bo", "", "", ""]}, header_row=2)
    receivers = read_xlsx(
        annotated_workbook(without_upload(clashing, {2: ("created", "")}))
    ).worksheets[0]

    assert header_of(receivers, 1)[0] == "Fornavn"
    assert [header_of(receivers, r)[0] for r in (2, 3)] == ["Anne", "Bo"]
    assert header_of(receivers, 3)[-2] == "Created"


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
    receivers = read_xlsx(
        annotated_workbook(without_upload(long_sheet, {2: ("ready", "")}))
    ).worksheets[0]

    assert receivers["A2"].value == "x" * 32_767
    assert receivers["D2"].value.startswith("bell")


def test_without_its_upload_a_column_the_app_added_is_written_once() -> None:
    report = report_of("kunder.xlsx", crm_export())
    table = report.table.copy()
    table["Etternavn"] = ["Nordmann", "", "Berg", "Lie"]
    report = replace(report, source=b"", table=table)
    people = read_xlsx(annotated_workbook(report))["Mottakere"]

    assert header_of(people, 3)[:8] == [*HEADER, "Etternavn", "SEEN status"]
    assert people["G4"].value == "Nordmann"


def test_more_rows_than_excel_holds_is_a_sentence_not_a_traceback() -> None:
    table = pd.DataFrame({"Fornavn": ["Ola"]}, index=pd.Index([1_048_577]), dtype=object)
    report = ReportInput("big.csv", b"", None, 1, table, {}, CHECKED)

    with pytest.raises(InputError, match="more rows than Excel can hold"):
        annotated_workbook(report)


# --- the report as CSV, and sheet names ----------------------------------------------------------


def test_csv_of_a_sheet_quotes_formula_like_text_and_keeps_norwegian_letters(
    sheet: Sheet,
) -> None:
    data = annotated_csv(without_upload(sheet, OUTCOMES))
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))

    assert data.startswith(b"\xef\xbb\xbf")  # the BOM that makes Excel read UTF-8
    assert rows[0] == [*COLUMNS, "SEEN status", "SEEN message"]
    assert rows[1] == ["Åse", "Ødegård", "+4712345678", "'=1+2", "Created", ""]
    assert rows[3][1:] == ["Løvås", "'@foo", "'-1+2", "Needs fixing", "First name is missing."]


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
    rows = list(csv.reader(io.StringIO(annotated_csv(without_upload(one, {})).decode("utf-8-sig"))))

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
