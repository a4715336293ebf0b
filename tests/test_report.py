"""The downloaded report of the user's own XLSX, edited in place, read back the way the user's
Excel would see it. A CSV, XLS or ODS rebuilt as a workbook: test_report_rebuilt.py; Summary
and Problems: test_report_summary.py."""

from __future__ import annotations

import csv
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
from report_books import (
    CHECKED,
    CSV_ROWS,
    HEADER,
    WHEN,
    column_of,
    crm_export,
    header_of,
    no_formulas,
    read_xlsx,
    report_of,
)

from seen_core.check.mapping import Mapping, suggest
from seen_core.check.receivers import payloads, values_sent
from seen_core.problems import Problem
from seen_core.read.sheets import read_sheet
from seen_core.report import annotated_csv, annotated_workbook, extra_keys_of, values_as_sent

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
    assert people.cell(5, status).value == "Needs fixing"
    assert "kari@@example" in people.cell(5, status + 1).value
    # Only the wrong cell is coloured, not the row.
    assert people["B5"].fill.fill_type is None
    assert people.cell(4, status).value == "Ready"


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
    assert people.cell(2, status).value == "Ready"  # a warning: the row is still sent
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
    assert again.table.loc[5, "SEEN status"] == "Needs fixing"


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
    # A document type in the styles: no SpreadsheetML has one, and the editor reads no such
    # part (calamine does).
    data = crm_export()
    before = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as changed:
        for info in before.infolist():
            part = before.read(info)
            if info.filename == "xl/styles.xml":
                part = part.replace(b"<styleSheet", b"<!DOCTYPE styleSheet><styleSheet", 1)
            changed.writestr(info.filename, part)
    report = report_of("kunder.xlsx", buffer.getvalue())
    book = read_xlsx(annotated_workbook(report))

    assert book.sheetnames == ["Notater", "Mottakere", "Summary", "Problems"]
    people = book["Mottakere"]
    assert header_of(people, 3)[6] == "SEEN status"
    assert (people["A4"].value, people["C5"].fill.fgColor.rgb) == (100, "FFFFC7CE")
    assert book["Notater"]["A2"].value == 42


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


# --- helpers for the caller ------------------------------------------------------------------


def test_values_as_sent_holds_only_values_that_differ_from_their_cell() -> None:
    table = pd.DataFrame(
        {"Fornavn": [" Åse ", "Bo"], "Mobil": ["458 60 322", "+4745860323"], "Kjønn": ["K", "M"]},
        index=pd.Index([2, 3]),
        dtype=object,
    )
    mapping = Mapping({"first_name": "Fornavn", "phone": "Mobil"}, {"kjonn": "Kjønn"})

    expected = {"Fornavn": {2: "Åse"}, "Mobil": {2: "+4745860322"}}
    assert values_as_sent(table, payloads(table, mapping), mapping) == expected
    flat = [(2, {"id": "x", "first_name": "Åse", "phone": "+4745860322", "kjonn": "K"})]
    assert values_as_sent(table, flat, mapping) == expected
    assert values_sent(table, mapping) == expected  # made from the cells, by column
    assert extra_keys_of(mapping) == {"Kjønn": "kjonn"}


@pytest.mark.parametrize("rows", [None, [5, 6, 12]], ids=["every-row", "some-rows"])
def test_values_sent_by_column_are_those_the_payloads_carry(rows: list[int] | None) -> None:
    """The report's values as sent, made a column at a time from the cells, are what the
    payloads themselves hold wherever they differ from the cell (a CRM export's trimmed names,
    numbers stored as numbers, phones in every shape; an extra field sent from a field's
    column; a cell an edit left empty)."""
    sheet = read_sheet("kunder.xlsx", messy_workbook())
    table = sheet.table.copy()
    table.loc[6, "Fornavn"] = None
    mapping = suggest(sheet.columns)
    mapping = Mapping(mapping.fields, {**mapping.extra_args, "navn": mapping.fields["first_name"]})
    sent = values_as_sent(table, payloads(table, mapping, rows=rows), mapping)
    assert sent["Mobil"] and sent["Fornavn"]  # phones in E.164 form, names trimmed
    assert values_sent(table, mapping, rows=rows) == sent


@pytest.mark.parametrize("rows", [None, [5, 6, 12]], ids=["every-row", "some-rows"])
def test_values_sent_take_the_phone_forms_the_check_found(rows: list[int] | None) -> None:
    """The check keeps each phone number's E.164 form (`CheckResult.phone_e164`), which the
    values as sent take instead of working them out again: the same as the payloads carry, and
    taken from the check's list, a row's own form wherever it stands (some rows or all)."""
    from seen_core.check.checks import check_sheet
    from seen_core.read.text_table import text_of

    sheet = read_sheet("kunder.xlsx", messy_workbook())
    mapping = suggest(sheet.columns)
    text = text_of(sheet.table)
    forms = check_sheet(text, mapping).phone_e164
    assert forms is not None and len(forms) == len(text.rows) and "+4745860321" in forms
    assert values_sent(text, mapping, rows=rows, e164=forms) == values_sent(
        text, mapping, rows=rows
    )
    marked = [f"{form}!" if form else "" for form in forms]  # a form taken, not worked out
    sent = values_sent(text, mapping, rows=rows, e164=marked)["Mobil"]
    chosen = text.rows if rows is None else rows
    expected = {row: marked[text.rows.index(row)] for row in chosen if marked[text.rows.index(row)]}
    assert expected and {row: form for row, form in sent.items() if form.endswith("!")} == expected


def test_values_sent_by_column_leave_an_extra_named_as_a_field_to_the_payloads() -> None:
    table = pd.DataFrame({"A": [" x "], "B": ["y "]}, index=pd.Index([2]), dtype=object)
    mapping = Mapping({"first_name": "A"}, {"first_name": "B"})  # the payload's own key wins
    assert values_sent(table, mapping) is None
    assert values_as_sent(table, payloads(table, mapping), mapping) == {"A": {2: "x"}}


# --- the command's report ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["kunder.xlsx", "kunder.csv"])
def test_a_commands_report_never_loads_pandas(tmp_path, name: str) -> None:
    """Loading pandas costs a command more than its check: the report works on the sheet's
    text, as the rules do (the app's editor is what needs a DataFrame)."""
    import subprocess
    import sys
    from pathlib import Path

    source = tmp_path / name
    source.write_bytes(crm_export() if name.endswith(".xlsx") else make_csv(CSV_ROWS))
    code = (
        "import sys, contextlib, io, seen_core.cli\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    code = seen_core.cli.main(['validate', {str(source)!r}, '--report', "
        f"{str(tmp_path / 'rapport.xlsx')!r}])\n"
        "print(code, 'pandas' in sys.modules)"
    )
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True)

    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1", "False"]
    people = read_xlsx((tmp_path / "rapport.xlsx").read_bytes()).worksheets[
        1 if name.endswith(".xlsx") else 0
    ]
    assert "SEEN status" in header_of(people, 3)


def wrong_phone_beside_an_empty_name() -> bytes:
    """Rows whose phone is wrong and whose first name is empty (no cell at all)."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet("Mottakere")
    sheet.write_row(0, 0, ["Kundenr", "Fornavn", "Etternavn", "Mobil"])
    sheet.write_row(1, 0, [100, "Ola", "Nordmann", "+4745860321"])
    sheet.write_row(2, 0, [101, "", "Hansen", "12"])  # "" is not written: no cell B3
    sheet.write_row(3, 0, [102, "Kari", "Berg", "13"])
    book.close()
    return buffer.getvalue()


def test_a_wrong_cell_beside_an_empty_wrong_one_says_its_problem_once() -> None:
    out = annotated_workbook(report_of("mottakere.xlsx", wrong_phone_beside_an_empty_name()))
    people = read_xlsx(out)["Mottakere"]

    note = people["D3"].comment.text
    assert note.count("'12' is not a valid phone number") == 1
    assert "First name is empty." in people["B3"].comment.text
    # The same red as the phone of a row without an empty name: one style, not a copy of it.
    assert people["D3"].fill.fgColor.rgb == people["D4"].fill.fgColor.rgb == "FFFFC7CE"
    assert people["D3"].style_id == people["D4"].style_id


@pytest.mark.parametrize("begun", [False, True])
@pytest.mark.parametrize("name", ["empty name", "messy", "a column the app added"])
def test_a_commands_report_made_on_two_cores_is_the_apps_report(
    monkeypatch, name: str, begun: bool
) -> None:
    """A command's report may fork: a child makes the notes, their drawing and the Problems
    rows while the rows are written, and (`begin_report`) finds the rows before the plan."""
    import seen_core.report.sheet as sheet_editor
    from seen_core.read.text_table import text_of
    from seen_core.report import begin_report
    from seen_core.report.parallel import Helper, on_two_cores

    answers: dict[int, object] = {}  # each child's answer
    scans = []

    class Watched(Helper):
        def result(self) -> object:
            answers[id(self)] = super().result()
            return answers[id(self)]

    class Counted(sheet_editor.SheetEditor):
        def scan(self, *args: object) -> sheet_editor.Scan:
            scans.append(args[3])
            return super().scan(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(sheet_editor, "Helper", Watched)
    monkeypatch.setattr("seen_core.report.parallel.Helper", Watched)
    monkeypatch.setattr("seen_core.report.parallel.WORTH_FORKING_ROWS", 1)  # small sheets too
    monkeypatch.setattr("seen_core.report.workbook.SheetEditor", Counted)
    data = messy_workbook() if name == "messy" else wrong_phone_beside_an_empty_name()
    report = report_of("mottakere.xlsx", data, summary=replace(CHECKED, when=WHEN))
    if name == "a column the app added":  # its wrong cell gets a note and a style of its own
        table = report.table.copy()
        table["Notat"] = ["ring", "", "ikke ring"]
        problem = Problem(3, "Notat", "note", "text_invalid", "error", "Notat is empty.")
        report = replace(report, table=table, problems=[*report.problems, problem])
    alone = annotated_workbook(report)
    assert answers == {} and len(scans) == 1  # the app's way: no child
    with on_two_cores():
        if begun:
            rows = text_of(report.table).rows
            # As `validate --report` begins it: the Problems rows made by that child too.
            begin_report(data, report.sheet_name, report.header_row, rows, report.problems)
        both = annotated_workbook(report)

    # The children answered; with the rows found before the plan, this process did not look.
    assert len(answers) == 1 + begun and None not in answers.values()
    if begun:  # and the first child made the Problems rows, packed
        packed = [a for a in answers.values() if isinstance(a, tuple) and len(a) == 1]
        assert len(packed) == 1 and isinstance(packed[0][0], tuple)
    assert len(scans) == (1 if begun else 2)
    one, two = zipfile.ZipFile(io.BytesIO(alone)), zipfile.ZipFile(io.BytesIO(both))
    assert one.namelist() == two.namelist()
    assert any(n.startswith("xl/comments") for n in one.namelist())
    for part in one.namelist():
        assert one.read(part) == two.read(part), part


def test_a_child_that_fails_leaves_its_part_to_the_command_itself(monkeypatch) -> None:
    import seen_core.report.sheet as sheet_editor
    from seen_core.report.parallel import on_two_cores

    def fails(self: object) -> None:
        raise MemoryError  # in the child: it ends without an answer

    data = wrong_phone_beside_an_empty_name()
    report = report_of("mottakere.xlsx", data, summary=replace(CHECKED, when=WHEN))
    alone = annotated_workbook(report)
    monkeypatch.setattr(sheet_editor.SheetEditor, "_made_elsewhere", fails)
    monkeypatch.setattr("seen_core.report.parallel.WORTH_FORKING_ROWS", 1)
    with on_two_cores():
        both = annotated_workbook(report)

    one, two = zipfile.ZipFile(io.BytesIO(alone)), zipfile.ZipFile(io.BytesIO(both))
    assert one.namelist() == two.namelist()
    for part in one.namelist():
        assert one.read(part) == two.read(part), part
    assert "'12' is not a valid phone number" in read_xlsx(both)["Mottakere"]["D3"].comment.text


def test_a_first_child_that_fails_on_the_problems_leaves_them_to_the_command(monkeypatch) -> None:
    """The child begun before the plan found the rows, then failed on the Problems rows: the
    command makes them itself, and the Problems sheet is whole."""
    from seen_core.read.text_table import text_of
    from seen_core.report import begin_report
    from seen_core.report.parallel import on_two_cores

    def fails(problems: object) -> None:
        raise MemoryError  # in the child, after its first answer

    data = messy_workbook()
    report = report_of("mottakere.xlsx", data, summary=replace(CHECKED, when=WHEN))
    alone = annotated_workbook(report)
    monkeypatch.setattr("seen_core.report.packed_problem_rows", fails)
    monkeypatch.setattr("seen_core.report.parallel.WORTH_FORKING_ROWS", 1)
    with on_two_cores():
        rows = text_of(report.table).rows
        begin_report(data, report.sheet_name, report.header_row, rows, report.problems)
        both = annotated_workbook(report)

    one, two = zipfile.ZipFile(io.BytesIO(alone)), zipfile.ZipFile(io.BytesIO(both))
    for part in one.namelist():
        assert one.read(part) == two.read(part), part
    assert read_xlsx(both)["Problems"].max_row == len(report.problems) + 1


@pytest.mark.parametrize("where", ["memfd", "a temporary file"])
def test_a_child_goes_on_to_its_next_work_before_its_first_answer_is_read(
    monkeypatch, where: str
) -> None:
    """The child's answers wait for this process in a file in memory (an unlinked temporary
    file where the system has no memfd), not in a pipe (which holds 64 KB): its first answer,
    the cells of most of the rows, does not keep it from the notes while this process still
    makes its own share of the rows."""
    import os
    import select

    from seen_core.report import parallel

    if where == "a temporary file":
        monkeypatch.delattr(os, "memfd_create")

    started, signal = os.pipe()

    def then() -> str:
        os.write(signal, b"x")
        return "notes"

    with parallel.on_two_cores():
        child = parallel.Helper(then, first=lambda: b"cells " * 1_000_000)
        ready, _, _ = select.select([started], [], [], 20)
        assert ready, "the child waited for its first answer to be read"
        assert child.first_result() == b"cells " * 1_000_000
        assert child.result() == "notes"
    os.close(started)
    os.close(signal)


def test_a_note_holding_markup_comes_back_as_written() -> None:
    """A note's text with characters XML reserves (a cell's value quoted in a problem) is
    escaped in the comments part, which openpyxl then reads back as the text itself."""
    data = messy_workbook()
    report = report_of("mottakere.xlsx", data, summary=replace(CHECKED, when=WHEN))
    problem = Problem(5, "Fornavn", "first_name", "text_invalid", "error", "'<Ola> & co' is odd.")
    report = replace(report, problems=[*report.problems, problem])
    people = read_xlsx(annotated_workbook(report))["Mottakere"]
    assert "'<Ola> & co' is odd." in people["B5"].comment.text


def test_the_commands_own_work_is_done_while_the_report_waits_for_its_child() -> None:
    """`parallel.meanwhile`: the command's own work (the lines it prints) is done when this
    process would wait for the report's child, and only then; else when its result is asked."""
    import os
    import select

    from seen_core.report import parallel

    release, released = os.pipe()

    def child() -> str:  # done only once the work meanwhile has been done in the parent
        ready, _, _ = select.select([release], [], [], 10)
        return "released" if ready else "never released"

    with parallel.on_two_cores():
        waited_for = parallel.Helper(child)
        work = parallel.meanwhile(lambda: os.write(released, b"x") and "lines")
        assert waited_for.result() == "released"
        assert work.result() == "lines"

        done = parallel.Helper(lambda: "answered")
        select.select([done.reader], [], [], 10)  # its answer is there: no waiting for it
        asked = []
        later = parallel.meanwhile(lambda: asked.append("done") or "later")
        assert done.result() == "answered" and asked == []
        assert later.result() == "later" and asked == ["done"]
    os.close(release)
    os.close(released)
