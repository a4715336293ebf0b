"""The downloaded report, read back the way the user's Excel would see it."""

from __future__ import annotations

import csv
import io

import openpyxl
import pandas as pd
import pytest

from seen_core.problems import Problem
from seen_core.report import (
    STATUSES,
    check_outcomes,
    count_statuses,
    csv_bytes,
    legal_sheet_name,
    workbook_bytes,
)
from seen_core.sheets import Sheet

SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
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
        table=table,
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


def read_xlsx(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


def row_values(worksheet, row: int) -> list[object]:
    return [cell.value for cell in worksheet[row]]


def test_workbook_keeps_users_columns_in_order_then_seen_columns(sheet: Sheet) -> None:
    workbook = read_xlsx(workbook_bytes(sheet, OUTCOMES))
    receivers = workbook.worksheets[0]

    assert receivers.title == "Ark1"
    assert row_values(receivers, 2) == [*COLUMNS, "SEEN status", "SEEN message"]


def test_each_person_keeps_their_row_number_with_their_status_and_message(sheet: Sheet) -> None:
    receivers = read_xlsx(workbook_bytes(sheet, OUTCOMES)).worksheets[0]

    assert row_values(receivers, 3)[0] == "Åse"
    assert row_values(receivers, 3)[-2:] == ["created", None]
    assert row_values(receivers, 4)[0] == "Bjørn"
    assert row_values(receivers, 4)[-2:] == ["rejected", "phone: Enter a valid phone number."]
    assert row_values(receivers, 5)[1] == "Løvås"
    assert row_values(receivers, 5)[-2:] == ["invalid", "First name is missing."]
    assert receivers.max_row == 5


def test_rows_in_any_order_land_on_their_own_row_numbers() -> None:
    shuffled = make_sheet({5: ["Cecilie", "", "", ""], 3: ["Anne", "", "", ""]})
    receivers = read_xlsx(workbook_bytes(shuffled, {5: ("failed", "timeout")})).worksheets[0]

    assert row_values(receivers, 3)[0] == "Anne"
    assert row_values(receivers, 5)[0] == "Cecilie"
    assert row_values(receivers, 5)[-2:] == ["failed", "timeout"]


def test_rows_without_outcome_get_an_empty_status(sheet: Sheet) -> None:
    receivers = read_xlsx(workbook_bytes(sheet, {4: ("created", "")})).worksheets[0]

    assert row_values(receivers, 3)[-2:] == [None, None]
    assert row_values(receivers, 4)[-2] == "created"


def test_formula_like_text_comes_back_as_text_not_formula(sheet: Sheet) -> None:
    receivers = read_xlsx(workbook_bytes(sheet, OUTCOMES)).worksheets[0]

    for coordinate, text in {
        "D3": "=1+2",
        "D4": '=HYPERLINK("http://x","y")',
        "C3": "+4712345678",
        "C4": "0047 123",
        "C5": "@foo",
        "D5": "-1+2",
    }.items():
        cell = receivers[coordinate]
        assert cell.data_type == "s", coordinate
        assert cell.value == text
        assert cell.hyperlink is None


def test_norwegian_letters_survive_in_xlsx_and_csv(sheet: Sheet) -> None:
    receivers = read_xlsx(workbook_bytes(sheet, OUTCOMES)).worksheets[0]
    data = csv_bytes(sheet, OUTCOMES)

    assert receivers["A3"].value == "Åse"
    assert receivers["B4"].value == "Ærlig"
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM that makes Excel read UTF-8
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[1][:2] == ["Åse", "Ødegård"]
    assert rows[3][1] == "Løvås"


def test_rows_are_coloured_by_status(sheet: Sheet) -> None:
    receivers = read_xlsx(workbook_bytes(sheet, OUTCOMES)).worksheets[0]
    created, rejected, invalid = (receivers[f"A{row}"].fill.fgColor.rgb for row in (3, 4, 5))

    assert created != rejected
    assert rejected == invalid  # both red: the user must act on them
    assert receivers["A3"].fill.fill_type == "solid"
    # An empty cell of a coloured row is coloured too, so the row reads as one band.
    assert receivers["A5"].value is None
    assert receivers["A5"].fill.fgColor.rgb == invalid


def test_header_is_bold_frozen_and_filterable(sheet: Sheet) -> None:
    receivers = read_xlsx(workbook_bytes(sheet, OUTCOMES)).worksheets[0]

    assert receivers["A2"].font.b
    assert receivers.freeze_panes == "A3"
    assert receivers.auto_filter.ref == "A2:F5"
    assert receivers.column_dimensions["F"].width > receivers.column_dimensions["A"].width


def test_summary_sheet_holds_file_hash_campaign_and_counts(sheet: Sheet) -> None:
    summary = {"campaign": "vinter-2025", "target": "sandbox", "started": "2025-01-02 10:00"}
    workbook = read_xlsx(workbook_bytes(sheet, OUTCOMES, summary=summary))

    assert workbook.sheetnames == ["Ark1", "Summary"]
    items = {row[0]: row[1] for row in workbook["Summary"].iter_rows(min_row=2, values_only=True)}
    assert items["File"] == "mottakere.xlsx"
    assert items["SHA-256"] == SHA
    assert items["Campaign"] == "vinter-2025"
    assert items["Target"] == "sandbox"
    assert items["Rows"] == 3
    assert (items["created"], items["rejected"], items["invalid"]) == (1, 1, 1)
    assert items["not_sent"] == 0


def test_problems_sheet_lists_each_problem_with_its_row(sheet: Sheet) -> None:
    problems = [
        Problem(
            5, "Fornavn", "first_name", "first_name_missing", "error", "First name is missing."
        ),
        Problem(None, None, "customer_id", "customer_id_missing", "warning", "No customer_id."),
    ]
    workbook = read_xlsx(workbook_bytes(sheet, OUTCOMES, problems=problems))

    assert workbook.sheetnames == ["Ark1", "Problems"]
    rows = list(workbook["Problems"].iter_rows(values_only=True))
    assert rows[0] == ("Row", "Column", "Field", "Code", "Severity", "Message")
    assert rows[1] == (
        5,
        "Fornavn",
        "first_name",
        "first_name_missing",
        "error",
        "First name is missing.",
    )
    assert rows[2][0] is None and rows[2][3] == "customer_id_missing"


def test_very_long_cell_is_cut_to_excels_limit_instead_of_crashing() -> None:
    long_sheet = make_sheet({2: ["x" * 40_000, "", "", "bell \x07 char"]}, header_row=1)
    receivers = read_xlsx(workbook_bytes(long_sheet, {2: ("ready", "")})).worksheets[0]

    assert receivers["A2"].value == "x" * 32_767
    assert receivers["D2"].value.startswith("bell")


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


def test_odd_user_sheet_name_opens_and_does_not_clash_with_our_sheets() -> None:
    odd = make_sheet({3: ["Anne", "", "", ""]}, sheet_name="Summary")
    problem = Problem(3, None, None, "x", "warning", "note")
    workbook = read_xlsx(workbook_bytes(odd, {}, problems=[problem], summary={}))
    assert workbook.sheetnames == ["Summary (2)", "Summary", "Problems"]

    odd = make_sheet({3: ["Anne", "", "", ""]}, sheet_name="Ark1/2025 [test]")
    assert read_xlsx(workbook_bytes(odd, {})).sheetnames == ["Ark1-2025 (test)"]


def test_csv_sheet_without_name_becomes_receivers_with_header_on_row_one() -> None:
    from_csv = make_sheet({2: ["Anne", "", "", ""]}, header_row=1, sheet_name=None)
    receivers = read_xlsx(workbook_bytes(from_csv, {2: ("ready", "")})).worksheets[0]

    assert receivers.title == "Receivers"
    assert row_values(receivers, 1)[0] == "Fornavn"
    assert row_values(receivers, 2)[0] == "Anne"


def test_row_numbers_that_cannot_be_kept_are_written_one_after_another() -> None:
    clashing = make_sheet({1: ["Anne", "", "", ""], 2: ["Bo", "", "", ""]}, header_row=2)
    receivers = read_xlsx(workbook_bytes(clashing, {2: ("created", "")})).worksheets[0]

    assert row_values(receivers, 1)[0] == "Fornavn"
    assert [row_values(receivers, r)[0] for r in (2, 3)] == ["Anne", "Bo"]
    assert row_values(receivers, 3)[-2] == "created"


def test_empty_sheet_still_gives_a_workbook_with_header() -> None:
    empty = make_sheet({})
    receivers = read_xlsx(workbook_bytes(empty, {}, summary={})).worksheets[0]

    assert row_values(receivers, 2) == [*COLUMNS, "SEEN status", "SEEN message"]


def test_csv_has_users_columns_then_status_and_message(sheet: Sheet) -> None:
    rows = list(csv.reader(io.StringIO(csv_bytes(sheet, OUTCOMES).decode("utf-8-sig"))))

    assert rows[0] == [*COLUMNS, "SEEN status", "SEEN message"]
    assert rows[1][-2:] == ["created", ""]
    assert rows[2][-2:] == ["rejected", "phone: Enter a valid phone number."]
    assert len(rows) == 4


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ("=1+2", "'=1+2"),
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("+1+2", "'+1+2"),
        ("-1+2", "'-1+2"),
        ("\t=cmd", "'\t=cmd"),
        ("+4712345678", "+4712345678"),
        ("+47 123 45 678", "+47 123 45 678"),
        ("-5", "-5"),
        ("-2,5", "-2,5"),
        ("Ola", "Ola"),
    ],
)
def test_csv_quotes_formula_like_text_but_not_numbers(cell: str, written: str) -> None:
    one = make_sheet({2: [cell, "", "", ""]}, header_row=1)
    rows = list(csv.reader(io.StringIO(csv_bytes(one, {}).decode("utf-8-sig"))))

    assert rows[1][0] == written


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
