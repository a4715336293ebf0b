"""Workbooks as other programs write their packages, annotated in place all the same: openpyxl
with lxml (a namespace declared on each sheet), LibreOffice (a content type for each .rels
part), Strict Open XML, backslashes in part names, prefixes everywhere, rows and cells
without their numbers, no styles. Where the editor truly cannot go, the rebuilt workbook says
what it lacks. Comments on merged cells, macro workbooks and very hidden sheets too."""

from __future__ import annotations

import io
import re
import warnings
import zipfile
import zlib
from collections.abc import Callable
from xml.etree import ElementTree

import openpyxl
import pytest
import python_calamine
import xlsxwriter
from cli_runner import run_cli
from corpus import openpyxl_rich, openpyxl_small
from hypothesis import given, settings
from hypothesis import strategies as st
from report_books import crm_export, header_of, read_xlsx, report_of

from seen_core import flow
from seen_core.read.sheets import read_sheet
from seen_core.report import made_workbook
from seen_core.report.xml import Part

CT_NS = "{http://schemas.openxmlformats.org/package/2006/content-types}"


def rezip(data: bytes, change: Callable[[str, bytes], tuple[str, bytes] | None]) -> bytes:
    """The package with each part changed by `change(name, data)` (None leaves it out)."""
    before = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as after:
        for info in before.infolist():
            changed = change(info.filename, before.read(info))
            if changed is not None:
                after.writestr(changed[0], changed[1])
    return out.getvalue()


def parts_of(data: bytes) -> dict[str, bytes]:
    book = zipfile.ZipFile(io.BytesIO(data))
    return {i.filename: book.read(i) for i in book.infolist()}


def assert_whole(data: bytes) -> None:
    """Every XML part well-formed, every part with a content type, calamine reads every sheet."""
    parts = parts_of(data)
    for name, part in parts.items():
        if name.endswith((".xml", ".rels")):
            ElementTree.fromstring(part)  # raises on XML that is not well-formed
    types = ElementTree.fromstring(parts["[Content_Types].xml"])
    defaults = {e.get("Extension", "").lower() for e in types.iter(f"{CT_NS}Default")}
    overrides = {e.get("PartName", "").lower() for e in types.iter(f"{CT_NS}Override")}
    for name in parts:
        if name != "[Content_Types].xml":
            extension = name.rpartition("/")[2].rpartition(".")[2].lower()
            assert f"/{name.lower()}" in overrides or extension in defaults, name
    book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    for name in book.sheet_names:
        book.get_sheet_by_name(name).to_python()


def load_quietly(data: bytes) -> openpyxl.Workbook:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a warning from openpyxl fails the test
        return openpyxl.load_workbook(io.BytesIO(data))


# --- openpyxl with lxml, as pandas and CRM exports write -------------------------------------


def test_a_workbook_saved_by_openpyxl_with_lxml_comes_back_well_formed() -> None:
    data = openpyxl_small()
    # lxml makes openpyxl declare the r: prefix on each <sheet>, not on <workbook>.
    assert re.search(rb"<sheet xmlns:r=", parts_of(data)["xl/workbook.xml"])
    made = made_workbook(report_of("kunder.xlsx", data))

    assert_whole(made.data)
    assert made.lacks == ()
    book = load_quietly(made.data)
    assert book.sheetnames == ["Kunder", "Summary", "Problems"]
    assert header_of(book["Kunder"], 1)[4:6] == ["SEEN status", "SEEN message"]


def test_the_rich_openpyxl_export_keeps_its_chart_picture_table_names_and_hidden_sheets() -> None:
    data = openpyxl_rich()
    out = made_workbook(report_of("kunder.xlsx", data, sheet="Mottakere"))

    assert out.lacks == ()
    assert_whole(out.data)
    before, after = parts_of(data), parts_of(out.data)
    for name in before:
        if name.startswith(("xl/charts/", "xl/media/", "xl/drawings/drawing", "xl/tables/")):
            assert after[name] == before[name], name
    book, was = load_quietly(out.data), openpyxl.load_workbook(io.BytesIO(data))
    assert [(s.title, s.sheet_state) for s in book.worksheets][:4] == [
        ("Notater", "visible"),
        ("Mottakere", "visible"),
        ("Oppsett", "veryHidden"),
        ("Gammel", "hidden"),
    ]
    assert book.defined_names["Beløp"].value == was.defined_names["Beløp"].value
    assert book["Mottakere"].tables["Kunder"].ref == "A2:F6"
    assert [str(r) for r in book["Notater"].merged_cells.ranges] == ["A1:C1"]


# --- LibreOffice and exceljs: a content type for each .rels part ------------------------------


def rels_typed_one_by_one(data: bytes) -> bytes:
    """The package as LibreOffice writes it: no Default for .rels, an Override for each."""
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()

    def change(name: str, part: bytes) -> tuple[str, bytes]:
        if name == "[Content_Types].xml":
            part = re.sub(rb'<Default Extension="rels"[^>]*/>', b"", part)
            overrides = "".join(
                f'<Override PartName="/{n}" '
                'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                for n in names
                if n.endswith(".rels")
            )
            part = part.replace(b"</Types>", overrides.encode() + b"</Types>")
        return name, part

    return rezip(data, change)


def test_a_new_rels_part_gets_a_content_type_where_rels_have_no_default() -> None:
    data = rels_typed_one_by_one(openpyxl_small())
    assert "xl/worksheets/_rels/sheet1.xml.rels" not in parts_of(data)
    out = made_workbook(report_of("kunder.xlsx", data)).data

    assert_whole(out)
    types = parts_of(out)["[Content_Types].xml"].decode()
    # The receivers' sheet had no relationships; the comment on the wrong cell brought them.
    assert 'PartName="/xl/worksheets/_rels/sheet1.xml.rels"' in types
    assert "not a valid e-mail address" in load_quietly(out)["Kunder"]["C3"].comment.text


# --- Strict Open XML ------------------------------------------------------------------------

_TO_STRICT = {
    b"http://schemas.openxmlformats.org/spreadsheetml/2006/main": (
        b"http://purl.oclc.org/ooxml/spreadsheetml/main"
    ),
    b"http://schemas.openxmlformats.org/officeDocument/2006/relationships": (
        b"http://purl.oclc.org/ooxml/officeDocument/relationships"
    ),
    b"http://schemas.openxmlformats.org/drawingml/2006/main": (
        b"http://purl.oclc.org/ooxml/drawingml/main"
    ),
}


def strict(data: bytes) -> bytes:
    """The workbook as Excel saves it as "Strict Open XML Spreadsheet": other namespaces."""

    def change(name: str, part: bytes) -> tuple[str, bytes]:
        if name.endswith((".xml", ".rels")) and name != "[Content_Types].xml":
            for transitional, strict_ns in _TO_STRICT.items():
                part = part.replace(transitional, strict_ns)
        if name == "xl/workbook.xml":
            part = part.replace(b"<workbook ", b'<workbook conformance="strict" ', 1)
        return name, part

    return rezip(data, change)


def test_a_strict_open_xml_workbook_is_annotated_in_place_in_its_own_namespaces() -> None:
    data = strict(crm_export())
    made = made_workbook(report_of("kunder.xlsx", data, {(6, "Fornavn"): "Per"}))

    assert made.lacks == ()
    assert_whole(made.data)
    parts = parts_of(made.data)
    assert parts["xl/sharedStrings.xml"] == parts_of(data)["xl/sharedStrings.xml"]
    for name, part in parts.items():  # no Transitional namespace crept into the workbook
        if name.startswith("xl/") and name.endswith((".xml", ".rels")):
            assert b"schemas.openxmlformats.org/spreadsheetml" not in part, name
            assert b"schemas.openxmlformats.org/officeDocument" not in part, name
    again = read_sheet("rapport.xlsx", made.data, sheet="Mottakere")
    assert again.columns[6:8] == ["SEEN status", "SEEN message"]
    assert again.table.loc[6, "Fornavn"] == "Per"
    assert list(python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(made.data)).sheet_names)[
        2:
    ] == ["Summary", "Problems"]


# --- odd part names and prefixes ---------------------------------------------------------------


def test_part_names_written_with_backslashes_are_found_and_written_back_with_slashes() -> None:
    data = rezip(crm_export(), lambda name, part: (name.replace("/", "\\"), part))
    made = made_workbook(report_of("kunder.xlsx", data, {(6, "Fornavn"): "Per"}))

    assert made.lacks == ()
    assert not [n for n in parts_of(made.data) if "\\" in n]
    assert_whole(made.data)
    people = load_quietly(made.data)["Mottakere"]
    assert people["B6"].value == "Per" and "it was empty" in people["B6"].comment.text
    assert people["B4"].comment.author == "Kari"  # the user's own comment found and kept


def prefixed_everywhere(data: bytes) -> bytes:
    """Workbook, content types and relationships written with prefixes, r: declared where it
    is used, as some generators do."""

    def change(name: str, part: bytes) -> tuple[str, bytes]:
        if name == "xl/workbook.xml":
            part = re.sub(rb"<(/?)(?![?])(\w+)([ />])", rb"<\1w:\2\3", part)
            part = part.replace(b'xmlns="http', b'xmlns:w="http', 1)
            part = part.replace(
                b' xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"',
                b"",
            )
            part = part.replace(
                b"<w:sheet ",
                b'<w:sheet xmlns:rel="http://schemas.openxmlformats.org/officeDocument/2006/'
                b'relationships" ',
            ).replace(b" r:id=", b" rel:id=")
        elif name == "[Content_Types].xml" or name.endswith(".rels"):
            part = re.sub(rb"<(/?)(?![?])(\w+)([ />])", rb"<\1p:\2\3", part)
            part = part.replace(b'xmlns="http', b'xmlns:p="http', 1)
        return name, part

    return rezip(data, change)


def test_prefixes_declared_anywhere_are_followed() -> None:
    data = prefixed_everywhere(crm_export())
    made = made_workbook(report_of("kunder.xlsx", data, {(6, "Fornavn"): "Per"}))

    assert made.lacks == ()
    assert_whole(made.data)
    book = load_quietly(made.data)
    assert book.sheetnames == ["Notater", "Mottakere", "Summary", "Problems"]
    assert "it was empty" in book["Mottakere"]["B6"].comment.text


def test_rows_and_cells_written_without_their_numbers_are_counted_in_place() -> None:
    def change(name: str, part: bytes) -> tuple[str, bytes]:
        if name == "xl/worksheets/sheet2.xml":
            part = re.sub(rb'<row r="\d+"', b"<row", part)
            part = re.sub(rb'<c r="[A-Z]+\d+"', b"<c", part)
        return name, part

    data = rezip(crm_export(), change)
    made = made_workbook(report_of("kunder.xlsx", data, {(6, "Fornavn"): "Per"}))

    assert made.lacks == ()
    assert_whole(made.data)
    people = load_quietly(made.data)["Mottakere"]
    assert header_of(people, 3)[6:8] == ["SEEN status", "SEEN message"]
    assert (people["A4"].value, people["C5"].fill.fgColor.rgb) == (100, "FFFFC7CE")
    assert people["B6"].value == "Per"
    # The user's own workbook, not one rebuilt from its cells: comments and formats stay.
    assert people["B4"].comment.author == "Kari"
    assert people["F4"].number_format == "0.00"


def test_a_workbook_without_styles_gets_them() -> None:
    def change(name: str, part: bytes) -> tuple[str, bytes] | None:
        if name == "xl/styles.xml":
            return None
        if name == "xl/_rels/workbook.xml.rels":
            part = re.sub(rb"<Relationship [^>]*/styles\"[^>]*/>", b"", part)
        if name == "[Content_Types].xml":
            part = re.sub(rb'<Override PartName="/xl/styles.xml"[^>]*/>', b"", part)
        if name.startswith("xl/worksheets/sheet"):
            part = re.sub(rb' s="\d+"', b"", part)
        return name, part

    made = made_workbook(report_of("kunder.xlsx", rezip(crm_export(), change)))

    assert made.lacks == ()
    assert_whole(made.data)
    people = load_quietly(made.data)["Mottakere"]
    assert people["C5"].fill.fgColor.rgb == "FFFFC7CE"
    assert people["B4"].comment.author == "Kari"  # the user's own workbook, not a rebuilt one


def test_a_part_in_utf16_is_read_by_its_namespaces() -> None:
    text = '<?xml version="1.0" encoding="UTF-16"?><a xmlns="urn:x"><b n="ø"/></a>'
    part = Part(text.encode("utf-16"))

    assert [(e.local, e.attrs) for e in part.find("urn:x", "b")] == [("b", {"n": "ø"})]
    part.append(part.root, "<c/>")
    assert part.to_bytes().decode("utf-8").endswith('<b n="ø"/><c/></a>')


# --- where the editor truly cannot go ---------------------------------------------------------


def with_doctype(data: bytes) -> bytes:
    """A styles part with a document type declaration: no SpreadsheetML has one, and the
    editor does not read such a part (calamine does)."""

    def change(name: str, part: bytes) -> tuple[str, bytes]:
        if name == "xl/styles.xml":
            part = part.replace(b"<styleSheet", b"<!DOCTYPE styleSheet>\n<styleSheet", 1)
        return name, part

    return rezip(data, change)


def test_a_rebuilt_workbook_says_why_and_what_it_lacks_and_keeps_very_hidden_sheets() -> None:
    data = with_doctype(openpyxl_rich())
    made = made_workbook(report_of("kunder.xlsx", data, sheet="Mottakere"))

    assert len(made.lacks) == 2
    assert made.lacks[0].startswith("kunder.xlsx could not be annotated in place (")
    assert made.lacks[1] == (
        "The new workbook has no pictures, charts, comments, tables, merged cells, links, "
        "number formats or named ranges of the original."
    )
    assert_whole(made.data)
    book = load_quietly(made.data)
    assert [(s.title, s.sheet_state) for s in book.worksheets][:4] == [
        ("Notater", "visible"),
        ("Mottakere", "visible"),
        ("Oppsett", "veryHidden"),
        ("Gammel", "hidden"),
    ]
    assert header_of(book["Mottakere"], 2)[6] == "SEEN status"


def test_validate_prints_what_a_rebuilt_report_lacks(tmp_path) -> None:
    source = tmp_path / "kunder.xlsx"
    source.write_bytes(with_doctype(crm_export()))
    done = run_cli("validate", source, "--report", tmp_path / "rapport.xlsx")

    assert done.returncode == 1
    lines = done.stderr.splitlines()
    assert lines[0].startswith("seen_core: kunder.xlsx could not be annotated in place (")
    assert lines[1] == (
        "seen_core: The new workbook has no comments, number formats or cell formatting of "
        "the original."
    )
    assert "Report written to" in done.stdout
    assert read_xlsx((tmp_path / "rapport.xlsx").read_bytes()).sheetnames[-2:] == [
        "Summary",
        "Problems",
    ]


def test_a_report_of_the_users_own_workbook_lacks_nothing(tmp_path) -> None:
    source = tmp_path / "kunder.xlsx"
    source.write_bytes(crm_export())
    done = run_cli("validate", source, "--report", tmp_path / "rapport.xlsx")

    assert done.returncode == 1 and done.stderr == ""


# --- comments on merged cells -------------------------------------------------------------------


def test_a_comment_on_a_cell_a_merge_covers_goes_on_the_merges_first_cell() -> None:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet("Mottakere")
    sheet.write_row(0, 0, ["Fornavn", "Etternavn", "E-post", "Mobil"])
    sheet.write_row(1, 0, ["Ola", "Nordmann", "ola@example.no", "+4745860321"])
    sheet.merge_range("A3:B3", "Kari Hansen")  # a first and last name typed across both
    sheet.write_row(2, 2, ["kari@example.no", "+4745860322"])
    book.close()
    report = report_of("kunder.xlsx", buffer.getvalue(), {(3, "Etternavn"): "Hansen"})
    out = made_workbook(report).data

    people = load_quietly(out)["Mottakere"]  # openpyxl warns of a comment on a merged cell
    assert people["A3"].comment is not None
    assert "Changed in SEEN Sender; it was empty." in people["A3"].comment.text
    comments = parts_of(out)["xl/comments1.xml"].decode()
    assert 'ref="B3"' not in comments


# --- macro workbooks ------------------------------------------------------------------------


def test_a_macro_workbook_is_written_as_xlsm_whatever_name_was_asked(tmp_path) -> None:
    source = tmp_path / "kunder.xlsm"
    source.write_bytes(crm_export(vba=True))
    done = run_cli("validate", source, "--report", tmp_path / "rapport.xlsx")

    assert done.returncode == 1
    assert not (tmp_path / "rapport.xlsx").exists()
    assert (tmp_path / "rapport.xlsm").exists()
    assert done.stderr == (
        f"seen_core: kunder.xlsm holds macros, so the report is written to "
        f"{tmp_path / 'rapport.xlsm'}: Excel opens such a workbook only under a name ending "
        "in .xlsm.\n"
    )
    assert f"Report written to {tmp_path / 'rapport.xlsm'}" in done.stdout


def test_the_corrected_name_never_overwrites_the_upload(tmp_path) -> None:
    source = tmp_path / "kunder.xlsm"
    data = crm_export(vba=True)
    source.write_bytes(data)
    done = run_cli("validate", source, "--report", tmp_path / "kunder.xlsx")

    assert source.read_bytes() == data
    assert (tmp_path / "kunder-2.xlsm").exists()
    assert f"Report written to {tmp_path / 'kunder-2.xlsm'}" in done.stdout


def test_send_writes_its_report_under_the_name_excel_opens_and_says_what_it_lacks(
    tmp_path,
) -> None:
    macros, odd = tmp_path / "kunder.xlsm", tmp_path / "odd.xlsx"
    macros.write_bytes(crm_export(vba=True))
    odd.write_bytes(with_doctype(crm_export()))
    done = run_cli("send", macros, "--campaign", "spring", "--dry-run", "--report",
                   tmp_path / "sendt.xlsx")  # fmt: skip

    assert (tmp_path / "sendt.xlsm").exists() and "holds macros" in done.stderr
    assert f"Report written to {tmp_path / 'sendt.xlsm'}" in done.stdout
    done = run_cli("send", odd, "--campaign", "spring", "--dry-run", "--report",
                   tmp_path / "odd-sendt.xlsx")  # fmt: skip
    assert "seen_core: The new workbook has no comments" in done.stderr
    assert (tmp_path / "odd-sendt.xlsx").exists()


def test_a_plain_workbook_asked_for_as_xlsm_is_written_as_xlsx(tmp_path) -> None:
    source = tmp_path / "kunder.xlsx"
    source.write_bytes(crm_export())
    done = run_cli("validate", source, "--report", tmp_path / "rapport.xlsm")

    assert (tmp_path / "rapport.xlsx").exists() and not (tmp_path / "rapport.xlsm").exists()
    assert "holds no macros" in done.stderr


@pytest.mark.parametrize(
    ("upload", "wanted", "name"),
    [
        ("kunder.xlsm", "kunder-seen.xlsx", "kunder-seen.xlsm"),
        ("kunder.xlsx", "kunder-seen.xlsx", "kunder-seen.xlsx"),
        ("kunder.xlsm", "kunder-seen.csv", "kunder-seen.csv"),
    ],
)
def test_the_flow_gives_the_name_a_report_must_have(upload: str, wanted: str, name: str) -> None:
    data = crm_export(vba=upload.endswith(".xlsm"))
    sheet = read_sheet(upload, data)
    checked = flow.check(sheet, flow.mapping_for(sheet))
    made = flow.report_file(checked, wanted, source=data)

    assert made.name_for(wanted) == name
    assert made.suffix == name[-5:] if name.endswith(("xlsx", "xlsm")) else made.suffix == ".csv"
    assert made.lacks == ()


def test_the_flow_says_what_a_rebuilt_report_lacks() -> None:
    data = with_doctype(crm_export())
    sheet = read_sheet("kunder.xlsx", data)
    made = flow.report_file(flow.check(sheet, flow.mapping_for(sheet)), "r.xlsx", source=data)

    assert made.suffix == ".xlsx"
    assert made.lacks[1].startswith("The new workbook has no comments")


def test_a_template_comes_back_as_a_workbook() -> None:
    def change(name: str, part: bytes) -> tuple[str, bytes]:
        if name == "[Content_Types].xml":
            part = part.replace(b"sheet.main+xml", b"template.main+xml")
        return name, part

    made = made_workbook(report_of("kunder.xlsx", rezip(crm_export(), change)))

    assert b"template.main+xml" not in parts_of(made.data)["[Content_Types].xml"]
    assert made.suffix == ".xlsx"


def test_the_apps_draft_gives_its_report_with_its_name_and_what_it_lacks(tmp_path) -> None:
    from seen_core.store.drafts import User
    from seen_core.store.journal import Journal
    from seen_core.workbench import Work

    with Journal(tmp_path / "journal.sqlite3") as journal:
        user = User("alice@example.no", "Alice")
        macros = Work.start(journal, user, "kunder.xlsm", crm_export(vba=True), isolated=False)
        made = macros.report_file("xlsx")
        assert (macros.report_name(made.suffix), made.lacks) == ("kunder-seen.xlsm", ())
        assert macros.report("xlsx") == made.data

        odd = Work.start(journal, user, "kunder.xlsx", with_doctype(crm_export()), isolated=False)
        made = odd.report_file("xlsx")
        assert odd.report_name(made.suffix) == "kunder-seen.xlsx"
        assert made.lacks[1].startswith("The new workbook has no comments")


@pytest.mark.parametrize(
    ("far_cell", "first_free"),
    [
        ('<c r="K5" s="1"/>', 11),
        ('<c r="k5" t="inlineStr"><is><t>notat</t></is></c>', 11),
        ('<c s="1"/>', 7),  # no reference: the column after the row's last, G
        ("<c/>", 7),
    ],
    ids=["styled-empty", "lowercase-reference", "no-reference", "bare"],
)
def test_a_row_reaching_further_right_than_the_header_puts_seens_columns_after_it(
    far_cell: str, first_free: int
):
    """The report's columns go after the widest of the header's and people's rows: a row with
    a cell right of the header's last (an empty formatted cell, a note, a cell numbered by its
    place only) is not written over, and no cell is written twice."""

    def change(name: str, part: bytes) -> tuple[str, bytes]:
        if name == "xl/worksheets/sheet2.xml":
            row = re.search(rb'<row r="5"[^>]*>.*?</row>', part, re.S)
            assert row is not None and b'<c r="F5"' in row.group()
            part = part[: row.end() - 6] + far_cell.encode() + part[row.end() - 6 :]
            part = re.sub(rb' spans="[^"]*"', b"", part)
        return name, part

    data = rezip(crm_export(), change)
    made = made_workbook(report_of("kunder.xlsx", data, {}))
    assert made.lacks == ()
    assert_whole(made.data)
    people = load_quietly(made.data)["Mottakere"]
    header = header_of(people, 3)
    assert header.index("SEEN status") == first_free
    sheet = parts_of(made.data)["xl/worksheets/sheet2.xml"].decode()
    row = re.search(r'<row r="5"[^>]*>(.*?)</row>', sheet, re.S)
    assert row is not None
    references = re.findall(r'<c r="([A-Za-z]+)5"', row.group(1))
    assert len(references) == len({r.upper() for r in references})  # no cell twice


@settings(max_examples=200, deadline=None)
@given(
    header=st.integers(1, 40),
    people=st.lists(st.lists(st.integers(0, 60), max_size=5), min_size=1, max_size=6),
    unreferenced=st.booleans(),
    prefix=st.sampled_from(["", "x:"]),
)
def test_the_rows_reach_as_far_as_their_last_cells(
    header: int, people: list[list[int]], unreferenced: bool, prefix: str
):
    """`SheetEditor.scan`'s width: one search says when no cell passes the header's last,
    else each row's last cell is looked at; either way the widest row's reach."""
    from seen_core.read.cells import column_letter
    from seen_core.report.sheet import SheetEditor

    def cell(column: int, row: int) -> str:
        return f'<{prefix}c r="{column_letter(column)}{row}"><{prefix}v>1</{prefix}v></{prefix}c>'

    rows = [[*range(header)], *[sorted(set(columns)) for columns in people]]
    xml = "".join(
        f'<{prefix}row r="{number}">' + "".join(cell(c, number) for c in columns)
        + (f"<{prefix}c/>" if unreferenced and number == 2 else "") + f"</{prefix}row>"
        for number, columns in enumerate(rows, start=1)
    ).encode()  # fmt: skip
    editor = SheetEditor.__new__(SheetEditor)
    editor.prefix = prefix
    found, width, _style = editor.scan(xml, 0, len(xml), 1, list(range(2, len(rows) + 1)))
    assert [row for row, *_ in found] == list(range(1, len(rows) + 1))
    reach = [columns[-1] + 1 if columns else 0 for columns in rows]
    if unreferenced:  # row 2's bare cell stands right of its last
        reach[1] += 1
    assert width == max(reach)


def test_many_notes_are_packed_a_chunk_at_a_time_and_read_back_whole():
    """The notes of a big sheet (20,000 here) are made, encoded and packed a chunk at a time:
    the parts' text is never all in memory at once, and they read back as whole XML."""
    import tracemalloc

    from seen_core.report.comments import notes_parts
    from seen_core.report.package import Package

    notes = [((row, 3), f"'4{row}' is not a valid phone number & more") for row in range(2, 20002)]
    package = Package.from_zip(crm_export())
    tracemalloc.start()
    try:
        comments, drawing = notes_parts(package, notes)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert drawing[2] > 10_000_000 and peak < drawing[2] / 2  # made whole: twice its size
    texts = []
    for packed, crc, size in (comments, drawing):
        inflater = zlib.decompressobj(-15)
        text = inflater.decompress(packed) + inflater.flush()
        assert (len(text), zlib.crc32(text)) == (size, crc)
        texts.append(text)
    root = ElementTree.fromstring(texts[0])
    assert len(root[1]) == 20_000  # <commentList>
    assert "'42' is not a valid phone number &amp; more" in texts[0].decode()
    assert texts[1].count(b"<v:shape ") == 20_000
    assert b'id="_x0000_s' + str(1024 * 1 + 20_000).encode() + b'"' in texts[1]
